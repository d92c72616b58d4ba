"""Background work: the outbox relay, RQ job functions, schedules and the worker entry.

With REDIS_URL set, outbox rows go to RQ (`zarts worker` runs them, `zarts schedule` runs the
sweeps); without it the same jobs run in-process right after the commit that wrote them.
"""

from ..config import JOBS

# Settings of the background work: zarts.config.JOBS (each read from the environment), plus
# JOBS_FAULT (tests only: see zarts.jobs.runner.fault).
DEFAULTS = {**JOBS, "JOBS_FAULT": None}


def init_jobs(app) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.extensions["zarts.jobs"] = True

    from .relay import install
    from .views import bp

    install()
    app.register_blueprint(bp)
