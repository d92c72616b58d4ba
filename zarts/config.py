"""Configuration: embedded defaults (SQLite file, inline jobs) overridden from the environment."""

from __future__ import annotations

import os

DEV_SECRET_KEY = "zarts-dev-secret-not-for-production"


class ConfigError(RuntimeError):
    """The configuration cannot be used (e.g. the default secret in production)."""


def from_env(instance_path: str) -> dict:
    env = os.environ
    production = env.get("ZARTS_ENV", "development") == "production"
    db_url = env.get("DATABASE_URL") or f"sqlite:///{os.path.join(instance_path, 'zarts.db')}"
    if db_url.startswith("postgres://"):  # Heroku-style URLs
        db_url = "postgresql://" + db_url[len("postgres://") :]
    if db_url.startswith("postgresql://"):
        db_url = "postgresql+psycopg://" + db_url[len("postgresql://") :]
    return {
        "ZARTS_ENV": "production" if production else env.get("ZARTS_ENV", "development"),
        "SECRET_KEY": env.get("SECRET_KEY", DEV_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": db_url,
        "REDIS_URL": env.get("REDIS_URL") or None,
        "SMTP_URL": env.get("SMTP_URL") or None,
        "MAIL_FROM": env.get("MAIL_FROM", "sales-ops@zarts.test"),
        # Clients may answer a staff post by email: its copy gets a per-thread Reply-To (zarts.jobs.mail_in).
        "MAIL_REPLY_TO": env.get("MAIL_REPLY_TO") or None,
        "BASE_URL": env.get("BASE_URL", "http://127.0.0.1:5000"),
        "RQ_QUEUE": env.get("RQ_QUEUE", "zarts"),
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        # How many reverse proxies stand in front of the app (0: none; see zarts.auth.limits).
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0") or 0),
        # Totals converted through the admin's rates are shown in this currency (zarts.domain.money).
        "BASE_CURRENCY": (env.get("BASE_CURRENCY") or "EUR").strip().upper(),
        # Times are shown in each user's zone (users.time_zone); this one for users who chose none.
        "DEFAULT_TIME_ZONE": (env.get("DEFAULT_TIME_ZONE") or "UTC").strip(),
        # Spreadsheet imports (zarts.domain.imports): where uploads are kept, and how big one may be.
        "IMPORT_FOLDER": env.get("IMPORT_FOLDER") or os.path.join(instance_path, "imports"),
        "IMPORT_MAX_BYTES": int(env.get("IMPORT_MAX_BYTES") or 20 * 1024 * 1024),
        "IMPORT_MAX_ROWS": int(env.get("IMPORT_MAX_ROWS") or 200_000),
        # Attachments (zarts.storage, zarts.domain.attachments): where files are kept, how big one may be.
        "ATTACHMENT_STORAGE": (env.get("ATTACHMENT_STORAGE") or "local").strip().lower(),
        "ATTACHMENT_FOLDER": env.get("ATTACHMENT_FOLDER") or os.path.join(instance_path, "attachments"),
        "ATTACHMENT_MAX_BYTES": int(env.get("ATTACHMENT_MAX_BYTES") or 25 * 1024 * 1024),
        # ATTACHMENT_STORAGE=s3: an S3-compatible server (AWS, MinIO, Ceph, …); no key: boto3's own chain.
        "S3_ENDPOINT_URL": (env.get("S3_ENDPOINT_URL") or "").strip() or None,
        "S3_BUCKET": (env.get("S3_BUCKET") or "").strip() or None,
        "S3_REGION": (env.get("S3_REGION") or "").strip() or "us-east-1",
        "S3_ACCESS_KEY_ID": env.get("S3_ACCESS_KEY_ID") or None,
        "S3_SECRET_ACCESS_KEY": env.get("S3_SECRET_ACCESS_KEY") or None,
        **_integration_env(env),
        **jobs_from_env(env),
        **settings_from_env(env, PAGE_CACHE),
    }


def _integration_env(env) -> dict:
    """API, capture and webhook settings given in the environment (else DEFAULTS)."""
    out = {}
    if env.get("CAPTURE_CORS_ORIGINS"):
        out["CAPTURE_CORS_ORIGINS"] = [
            o.strip().rstrip("/") for o in env["CAPTURE_CORS_ORIGINS"].split(",") if o.strip()
        ]
    if env.get("WEBHOOKS_ALLOW_PRIVATE"):
        out["WEBHOOKS_ALLOW_PRIVATE"] = env["WEBHOOKS_ALLOW_PRIVATE"].lower() in ("1", "true", "yes")
    if env.get("RATELIMIT_API"):
        out["RATELIMIT_API"] = env["RATELIMIT_API"]
    return out


# --- Background jobs (zarts.jobs) ----------------------------------------------------------------
# Every timing of the jobs, each settable from the environment under the same name (README's table).
JOBS = {
    "JOBS_RELAY_AFTER_COMMIT": True,  # relay the rows a commit wrote right after it
    "JOBS_RELAY_BATCH": 200,
    "JOBS_RELAY_SECONDS": 10,  # the scheduler's relay pass: pending rows, stale heartbeats
    "JOBS_RELAY_RETRY_SECONDS": 10,  # Redis was down: try this row again after
    "JOBS_RETRY_INTERVALS": [10, 60, 300],  # RQ Retry(max=3, interval=...) and inline backoff
    "JOBS_HEARTBEAT_SECONDS": 10,  # a running job's (and an idle worker's) heartbeat interval
    "JOBS_STALE_SECONDS": 30,  # a started job without a heartbeat for this long lost its worker
    "JOBS_LEASE_SECONDS": 300,  # a dispatched row not started (or not done) by then is looked at again
    "JOBS_MAINTENANCE_SECONDS": 30,  # a worker's RQ maintenance: dead workers' scheduler lock and jobs
    "JOBS_SCHEDULER_LOCK_SECONDS": 60,  # `zarts schedule`: a stand-by takes over this long after the leader died
    "JOBS_TIMEOUT": 600,
    "JOBS_RESULT_TTL": 24 * 3600,
    "JOBS_OUTBOX_RETENTION_DAYS": 30,  # done outbox rows older than this are pruned
    "JOBS_PRUNE_SECONDS": 3600,  # how often the scheduler prunes the outbox
    "JOBS_PRUNE_BATCH": 5000,  # outbox ids per DELETE statement
    "REMINDER_SWEEP_SECONDS": 300,
    "REPORT_CADENCE_SECONDS": 24 * 3600,
    "PIPELINE_REPORT_SECONDS": 24 * 3600,  # builds the last finished week once; checking daily is cheap
    "DASHBOARD_REFRESH_SECONDS": 300,  # the dashboard's snapshot at large volumes
    "REMINDER_BATCH": 500,
}


def _setting(name: str, raw: str, default):
    """`raw` (an environment value) as the type of `default`; a clear error when it is not one."""
    raw = raw.strip()
    try:
        if isinstance(default, bool):
            if raw.lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                raise ValueError(raw)
            return raw.lower() in ("1", "true", "yes", "on")
        if isinstance(default, list):
            values = [int(v) for v in raw.replace(" ", "").split(",") if v]
            if not values or min(values) < 0:
                raise ValueError(raw)
            return values
        value = int(raw)
        if value < 0:
            raise ValueError(raw)
        return value
    except ValueError:
        kind = (
            "true or false"
            if isinstance(default, bool)
            else "comma-separated seconds, e.g. 10,60,300"
            if isinstance(default, list)
            else "a whole number ≥ 0"
        )
        raise ConfigError(f"{name}={raw!r} is not {kind}") from None


# --- Pages answered again while the database is unchanged (zarts.page_cache) -----------------------
PAGE_CACHE = {
    "PAGE_CACHE_SECONDS": 15,  # the longest a page is reused unchanged (its clock); 0 turns reuse off
    "PAGE_CACHE_BYTES": 32 * 1024 * 1024,  # per process
}


def jobs_from_env(env) -> dict:
    """The JOBS settings: each from the environment when set there, else its default."""
    return settings_from_env(env, JOBS)


def settings_from_env(env, table: dict) -> dict:
    """`table`'s settings: each from the environment when set there, else its default."""
    return {
        name: _setting(name, env[name], default)
        if env.get(name, "").strip()
        else (list(default) if isinstance(default, list) else default)
        for name, default in table.items()
    }


DEFAULTS = {
    # PostgreSQL connections are checked for liveness at checkout without a round trip (zarts.statements);
    # an SQLite connection cannot go away.
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "MAX_CONTENT_LENGTH": 1024 * 1024,  # no uploads here: a bigger request is refused (413)
    "WTF_CSRF_TIME_LIMIT": 12 * 3600,  # pages stay open all day
    "WTF_CSRF_HEADERS": ["X-CSRFToken", "X-CSRF-Token"],
    "FLASK_ADMIN_SWATCH": "flatly",
    "INVITE_MAX_AGE": 7 * 24 * 3600,
    "RESET_MAX_AGE": 2 * 3600,
    "BOARD_COLUMN_LIMIT": 25,
    "REMINDER_NOT_VIEWED_DAYS": 3,
    "REMINDER_NOT_DECIDED_DAYS": 7,
    "REMINDER_DEADLINE_DAYS": 2,
    # Sign-in abuse limits (zarts.auth.limits); storage: REDIS_URL, else process memory.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_SIGN_IN_PER_ADDRESS": "10/minute",
    "RATELIMIT_SIGN_IN_PER_ACCOUNT": "5/minute",
    "RATELIMIT_PASSWORD_CHANGE": "5/minute",
    "RATELIMIT_KEY_PREFIX": "zarts-limits",
    "BASE_CURRENCY": "EUR",  # zarts.domain.money: the currency converted totals are shown in
    "DEFAULT_TIME_ZONE": "UTC",  # zarts.domain.account: the zone times are shown in when a user chose none
    # REST API (zarts.api): calls per token, page size; lead capture (zarts.api.capture).
    "RATELIMIT_API": "300/minute",
    "API_PAGE_LIMIT": 100,
    "RATELIMIT_CAPTURE_PER_ADDRESS": "5/minute",
    "RATELIMIT_CAPTURE_PER_KEY": "200/hour",
    "CAPTURE_MIN_FILL_SECONDS": 3,  # a form sent faster than this after it was shown is a bot's
    "CAPTURE_CORS_ORIGINS": [],  # sites whose pages may POST JSON to /capture/<key> (env: comma list)
    # Webhooks (zarts.domain.webhooks, zarts.jobs.webhook).
    "WEBHOOKS_TIMEOUT": 5,
    "WEBHOOKS_DISABLE_AFTER": 10,  # consecutive failed deliveries
    "WEBHOOKS_ALLOW_PRIVATE": False,  # private/loopback targets (tests, an internal network)
    "WEBHOOKS_CACHE_SECONDS": 30,  # another process sees a changed endpoint within this
}


def check(config) -> None:
    if config.get("ZARTS_ENV") == "production" and config.get("SECRET_KEY") in (None, "", DEV_SECRET_KEY):
        raise ConfigError("SECRET_KEY must be set to a private value when ZARTS_ENV=production")
    kind = config.get("ATTACHMENT_STORAGE", "local")
    if kind not in ("local", "s3"):
        raise ConfigError(f"ATTACHMENT_STORAGE={kind!r} is not a storage: use 'local' or 's3'")
    if kind == "s3" and not config.get("S3_BUCKET"):
        raise ConfigError("ATTACHMENT_STORAGE=s3 needs S3_BUCKET (and S3_ENDPOINT_URL unless it is AWS)")
