"""Background work: the outbox relay, RQ job functions, schedules and the worker entry.

With REDIS_URL set, outbox rows go to RQ (`zarts worker` runs them, `zarts schedule` runs the
sweeps); without it the same jobs run in-process right after the commit that wrote them.
"""

# Settings of the background work (each may be overridden in the app config).
DEFAULTS = {
    "JOBS_RELAY_AFTER_COMMIT": True,   # relay the rows a commit wrote right after it
    "JOBS_RELAY_BATCH": 200,
    "JOBS_RELAY_RETRY_SECONDS": 10,    # Redis was down: try this row again after
    "JOBS_RETRY_INTERVALS": [10, 60, 300],  # RQ Retry(max=3, interval=...) and inline backoff
    "JOBS_LEASE_SECONDS": 300,         # a dispatched row not done by then is looked at again
    "JOBS_STALE_SECONDS": 120,         # a started job without a heartbeat for this long lost its worker
    "JOBS_HEARTBEAT_SECONDS": 30,      # the worker's job monitoring interval (heartbeats)
    "JOBS_TIMEOUT": 600,
    "JOBS_RESULT_TTL": 24 * 3600,
    "JOBS_FAULT": None,                # tests only: see zarts.jobs.runner.fault
    "JOBS_RELAY_SECONDS": 10,
    "REMINDER_SWEEP_SECONDS": 300,
    "REPORT_CADENCE_SECONDS": 24 * 3600,
    "PIPELINE_REPORT_SECONDS": 24 * 3600,  # builds the last finished week once; checking daily is cheap
    "DASHBOARD_REFRESH_SECONDS": 300,  # the dashboard's snapshot at large volumes (zarts.workspace.metrics)
    "REMINDER_BATCH": 500,
}


def init_jobs(app) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.extensions["zarts.jobs"] = True

    from .relay import install
    from .views import bp

    install()
    app.register_blueprint(bp)
