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
        db_url = "postgresql://" + db_url[len("postgres://"):]
    if db_url.startswith("postgresql://"):
        db_url = "postgresql+psycopg://" + db_url[len("postgresql://"):]
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
    }


DEFAULTS = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
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
}


def check(config) -> None:
    if config.get("ZARTS_ENV") == "production" and config.get("SECRET_KEY") in (None, "", DEV_SECRET_KEY):
        raise ConfigError("SECRET_KEY must be set to a private value when ZARTS_ENV=production")
