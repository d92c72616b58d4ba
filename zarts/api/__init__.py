"""The REST API (/api/v1, flask-smorest: OpenAPI document and interactive docs) and lead capture.

The OpenAPI document and the docs page are for staff: a signed-in staff session or a live API token
reads them; anyone else gets 401 (a problem) for the document and the sign-in page for the docs page.
The docs page is Swagger UI served from zarts/static (flask-smorest's own CDN-loaded pages are off).

Authentication is `Authorization: Bearer <personal token>` only (zarts.domain.api_tokens): the API
acts as the token's user through the same domain functions as the screens. A request without a
bearer token is never authenticated by the session cookie; one that writes is CSRF-checked first
("Form expired", like every form), then refused (401). Token requests need no CSRF token: a
browser never adds the Authorization header on its own, so a forged cross-site request cannot.
"""

from __future__ import annotations

import hashlib

from flask import current_app, g, render_template, request, url_for
from flask_login import current_user
from flask_smorest import Api
from flask_wtf.csrf import CSRFError

from ..auth.access import staff_required
from ..domain import api_tokens
from ..domain.errors import DomainError
from ..extensions import csrf, db
from .problems import domain_problem, field_errors, problem
from .resources import ApiProblem, bp

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ZartsApi(Api):
    """flask-smorest without its app-wide error handlers: the app's own (zarts.web) answer every
    error, in problem details for /api/ paths; the API blueprint adds its refusals."""

    def _register_error_handlers(self):
        pass

    def _openapi_json(self):
        return _docs_refusal() or super()._openapi_json()


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def rate_key() -> str:
    """Per token (hashed; no secrets in the limiter's storage), else per address."""
    token = bearer_token()
    if token:
        return "api-token:" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return "api-addr:" + (request.remote_addr or "unknown")


def _sign_in_required():
    return problem(
        401,
        "Sign-in required",
        "Send a personal API token as `Authorization: Bearer "
        "<token>` (create one under Workspace → API tokens).",
        headers={"WWW-Authenticate": 'Bearer realm="zarts"'},
    )


def _token_user(token: str):
    """(token row, user) for a live token, else None; records its use."""
    found = api_tokens.authenticate(db.session, token)
    if found is None:
        db.session.rollback()
        return None
    if db.session.dirty:
        db.session.commit()  # last_used_at
    return found


def _token_refused():
    return problem(
        401,
        "Token refused",
        "The token is unknown, revoked or expired, or its user was deactivated.",
        headers={"WWW-Authenticate": 'Bearer realm="zarts", error="invalid_token"'},
    )


@bp.before_request
def _authenticate():
    token = bearer_token()
    if token is None:
        if request.method not in SAFE_METHODS:
            csrf.protect()  # a form post carrying the session cookie: refused unless same-site
        return _sign_in_required()
    found = _token_user(token)
    if found is None:
        return _token_refused()
    g.api_token, g.api_user = found
    return None


def _docs_refusal():
    """None when the caller may read the API's description (a live token, or a signed-in staff
    member's session: the docs page fetches the document with it), else the refusal."""
    token = bearer_token()
    if token is not None:
        return None if _token_user(token) is not None else _token_refused()
    if not current_user.is_authenticated:
        return _sign_in_required()
    if not current_user.is_staff:
        return problem(403, "Not allowed", "The API's description is for staff.")
    return None


@bp.errorhandler(ApiProblem)
def _api_problem(exc):
    return exc.response


@bp.errorhandler(DomainError)
def _domain_error(exc):
    db.session.rollback()
    return domain_problem(exc)


@bp.errorhandler(422)
def _unprocessable(exc):
    # webargs refuses the body or query here: bad input (400), each field with its message.
    messages = getattr(exc, "data", {}).get("messages", {})
    errors = field_errors(messages)
    detail = (
        "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in errors.items()) or "The input is invalid."
    )
    return problem(400, "Invalid input", detail, slug="invalid", errors=errors)


@bp.errorhandler(CSRFError)
def _csrf(exc):
    return problem(
        400,
        "Form expired",
        "This request carried a session cookie without a valid CSRF token. "
        "The API takes a bearer token instead.",
    )


def _docs_page():
    """The interactive docs (Swagger UI, served from zarts/static/vendor/swagger-ui; no CDN)."""
    return render_template("api/docs.html", spec_url=url_for("api-docs.openapi_json"))


_staff_docs_page = staff_required(_docs_page)


def docs():
    """For a staff session (anonymous: the sign-in page; a client contact: 403) or a live token."""
    if bearer_token() is None:
        return _staff_docs_page()
    return _docs_refusal() or _docs_page()


def init_api(app) -> None:
    config = app.config
    config.setdefault("API_TITLE", "ZartsAlgo Sales Ops API")
    config.setdefault("API_VERSION", "v1")
    config.setdefault("OPENAPI_VERSION", "3.0.3")
    config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    for page in ("OPENAPI_SWAGGER_UI_PATH", "OPENAPI_REDOC_PATH", "OPENAPI_RAPIDOC_PATH"):
        config[page] = None  # flask-smorest's own pages load their scripts from a CDN: /api/v1/docs instead
    api = ZartsApi(app, spec_kwargs={"security": [{"bearerAuth": []}]})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    csrf.exempt(bp)  # checked in _authenticate: only requests without a bearer token need it
    limiter = app.extensions.get("zarts.limiter")
    if limiter is not None and limiter.enabled:
        limiter.limit(
            lambda: current_app.config["RATELIMIT_API"],
            key_func=rate_key,
            scope="api",
            error_message="Too many API calls for this token. Wait a minute and try again.",
        )(bp)
    api.register_blueprint(bp)
    app.add_url_rule("/api/v1/docs", "api_docs", docs)
    app.extensions["zarts.api"] = api

    from .capture import bp as capture_bp, install_limits, wrap_views

    csrf.exempt(capture_bp)  # checked in the view when this site's session comes along
    install_limits(app, capture_bp)
    app.register_blueprint(capture_bp)
    wrap_views(app)
