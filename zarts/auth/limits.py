"""Sign-in abuse limits (Flask-Limiter): per address and per account, the same for every email.

Each app gets its own Limiter (built in `install`), so an app's storage, key prefix and switches
never leak into another app of the same process (tests build many). Storage is Redis when
REDIS_URL is set (all gunicorn processes share the counts), else process memory. If Redis stops
answering, the limiter falls back to memory rather than refusing every sign-in.

Counting is keyed by what was typed, never by whether the account exists: an unknown email runs
out of attempts exactly like a known one, with the same page, so the limit reveals nothing.
"""

from __future__ import annotations

import hashlib

from flask import request
from flask_limiter import Limiter
from flask_login import current_user

SIGN_IN_LIMITED = "Too many sign-in attempts. Wait a minute and try again."

# One budget per address for every way of trying a password or asking for a link, and one per
# account email across the same forms: alternating /login, /portal/login and /reset gains nothing.
SIGN_IN_ENDPOINTS = ("auth.login", "auth.portal_login", "auth.request_reset")
PASSWORD_CHANGE_ENDPOINT = "auth.change_password"


def client_address() -> str:
    """The caller's address. Behind a proxy, TRUSTED_PROXIES makes ProxyFix put the real one here."""
    return request.remote_addr or "unknown"


def account_key() -> str:
    """The account the form names, normalised like sign-in does, hashed (no emails in Redis)."""
    email = (request.form.get("email") or "").strip().lower()[:254]
    return "acct:" + hashlib.sha256(email.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def user_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else "user:anonymous"


def storage_uri(config) -> str:
    return config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL") or "memory://"


def install(app) -> Limiter | None:
    """Build the app's limiter and put the sign-in limits on the auth views."""
    config = app.config
    config.setdefault("RATELIMIT_SIGN_IN_PER_ADDRESS", "10/minute")
    config.setdefault("RATELIMIT_SIGN_IN_PER_ACCOUNT", "5/minute")
    config.setdefault("RATELIMIT_PASSWORD_CHANGE", "5/minute")
    config.setdefault("RATELIMIT_KEY_PREFIX", "zarts-limits")
    limiter = Limiter(
        key_func=client_address,
        storage_uri=storage_uri(config),
        storage_options={"socket_connect_timeout": 1, "socket_timeout": 1} if config.get("REDIS_URL") else {},
        key_prefix=config["RATELIMIT_KEY_PREFIX"],
        strategy="fixed-window",
        headers_enabled=True,
        swallow_errors=True,  # a Redis outage must not turn into a 500 on the sign-in page
        in_memory_fallback_enabled=True,
        enabled=bool(config.get("RATELIMIT_ENABLED", True)),
    )
    limiter.init_app(app)
    app.extensions["zarts.limiter"] = limiter
    if not limiter.enabled:
        return limiter

    per_address = limiter.shared_limit(
        config["RATELIMIT_SIGN_IN_PER_ADDRESS"],
        scope="sign-in-address",
        methods=["POST"],
        error_message=SIGN_IN_LIMITED,
    )
    per_account = limiter.shared_limit(
        config["RATELIMIT_SIGN_IN_PER_ACCOUNT"],
        scope="sign-in-account",
        key_func=account_key,
        methods=["POST"],
        error_message=SIGN_IN_LIMITED,
    )
    password_change = limiter.limit(
        config["RATELIMIT_PASSWORD_CHANGE"],
        key_func=user_key,
        methods=["POST"],
        error_message=SIGN_IN_LIMITED,
    )
    wrapped = {}
    for endpoint in SIGN_IN_ENDPOINTS:
        view = app.view_functions[endpoint]
        if view not in wrapped:  # /login and /portal/login share one view function
            wrapped[view] = per_address(per_account(view))
        app.view_functions[endpoint] = wrapped[view]
    view = app.view_functions[PASSWORD_CHANGE_ENDPOINT]
    app.view_functions[PASSWORD_CHANGE_ENDPOINT] = password_change(view)
    return limiter
