"""Cross-cutting web concerns: security headers, error pages, template helpers."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time

import sqlalchemy.exc as sa_exc
from flask import Response, abort, current_app, g, render_template, request, session
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .extensions import db, login_manager
from .models.vocab import APPROVAL_KIND_LABELS, ITEM_KIND_LABELS, SERVICE_LABELS, STAGE_LABELS
from .statements import end_read_only

# Flask-Admin's Bootstrap 4 templates carry a few inline event handlers (delete confirmation, list
# actions, filter menu). They are allowed by the hash of their exact text ('unsafe-hashes'), so the
# admin still refuses every other inline script or handler.
ADMIN_HANDLERS = (
    "return false;",
    "return faHelpers.safeConfirm('Are you sure you want to delete this record?');",
)
NUL_REFUSED = (
    "The form holds a character that cannot be stored (a NUL byte). Remove it and try "
    "again; nothing was saved."
)
OPTIONAL_FLAGS = {
    "error": None,
    "done": None,
    "notice": None,
    "moved_to": None,
    "oob": False,
    "new_token": None,
}


WROTE_AT = "wrote_at"  # session key: when the user last wrote (epoch seconds); see _note_write
WRITE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=()"


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def admin_handler_hashes(app) -> str:
    """The CSP hashes of the inline handlers Flask-Admin renders, including one per list action."""
    cached = app.extensions.get("zarts.admin_handler_hashes")
    if cached is None:
        handlers = list(ADMIN_HANDLERS)
        for admin in app.extensions.get("admin", []):
            for view in getattr(admin, "_views", []):
                for name, _text in getattr(view, "_actions", None) or []:
                    handlers.append(f"return modelActions.execute('{name}');")
        cached = " ".join(sorted({_sha256(h) for h in handlers}))
        app.extensions["zarts.admin_handler_hashes"] = cached
    return cached


def content_security_policy(admin: bool, nonce: str | None) -> str:
    """The page's CSP: same-origin scripts and styles only; no inline code, no eval, no framing.

    The generated admin adds its per-request nonce (Flask-Admin puts it on its own <script> tags)
    and the hashes of its few inline handlers.
    """
    script_src = "'self'"
    if admin:
        if nonce:
            script_src += f" 'nonce-{nonce}'"
        script_src += " 'unsafe-hashes' " + admin_handler_hashes(current_app)
    return (
        f"default-src 'self'; script-src {script_src}; style-src 'self'; img-src 'self' data:; "
        "font-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'"
    )


def storage_full(exc: Exception) -> bool:
    """A write refused because the disk (or the database's size limit) is full."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) == "53100":  # PostgreSQL disk_full
        return True
    text = str(orig).lower()
    return "disk is full" in text or "no space left" in text


def label(value) -> str:
    """A vocabulary value as words ("follow_up" -> "Follow up"): the `label` filter."""
    return (value or "").replace("_", " ").capitalize()


def init_web(app) -> None:
    with open(os.path.join(app.static_folder, "favicon.svg"), "rb") as fh:
        icon = fh.read()

    @app.route("/favicon.ico")
    def favicon():
        # Browsers ask for /favicon.ico whatever the page links: the same icon, never a 404. Sent from
        # memory: a browser often drops this request half-way (a page closing), and a file being sent
        # then was left open until the collector found it.
        return Response(icon, mimetype="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})

    @app.context_processor
    def _helpers():
        return {
            "STAGE_LABELS": STAGE_LABELS,
            "SERVICE_LABELS": SERVICE_LABELS,
            "ITEM_KIND_LABELS": ITEM_KIND_LABELS,
            "APPROVAL_KIND_LABELS": APPROVAL_KIND_LABELS,
            "csp_nonce": csp_nonce,
            # What a page or fragment shows only when its view says so (a refusal, a card's "moved"
            # notice, an out-of-band swap): unset unless passed, which strict templates would refuse.
            **OPTIONAL_FLAGS,
        }

    @app.template_filter("money")
    def money(cents, currency="EUR"):
        if cents is None:
            return "—"
        return f"{currency} {cents / 100:,.2f}"

    app.add_template_filter(label, "label")

    @app.teardown_appcontext
    def _close_session_even_without_a_database(exc):
        # Runs before Flask-SQLAlchemy's own teardown. If the database went away between the last
        # query and this cleanup (a restart), ROLLBACK fails on the dead connection; the transaction
        # died with it, so drop the connection instead of failing a request that already succeeded.
        try:
            if exc is None and db.session.registry.has():
                end_read_only(db.session())  # keeps the connection's prepared statements (zarts.statements)
            db.session.remove()
        except (sa_exc.OperationalError, sa_exc.InterfaceError):
            db.session.registry().invalidate()
            db.session.registry.clear()

    @app.before_request
    def _refuse_nul_characters():
        # No text anyone types holds a NUL; PostgreSQL cannot store one and SQLite would keep it
        # silently. Refuse it up front, the same way on both, before any view reads the input.
        # `next` is exempt: it is never stored, and sign-in ignores an unsafe one (is_safe_next).
        sources = [request.args]
        if request.method in ("POST", "PUT", "PATCH"):
            sources.append(request.form)
        if any(
            "\x00" in key + value
            for source in sources
            for key, value in source.items(multi=True)
            if key != "next"
        ):
            abort(400, description=NUL_REFUSED)

    @app.after_request
    def _note_write(response):
        # When a signed-in user last changed something (any successful write through a page): what
        # is kept for a while (the dashboard's period figures at volume) is recomputed for them.
        if (
            request.method in WRITE_METHODS
            and response.status_code < 400
            and current_user.is_authenticated
            and not request.path.startswith("/api/")
        ):
            session[WROTE_AT] = time.time()
        return response

    @app.after_request
    def _security_headers(response):
        admin = request.path.startswith("/admin")
        response.headers.setdefault(
            "Content-Security-Policy", content_security_policy(admin, g.get("csp_nonce"))
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if app.config.get("ZARTS_ENV") == "production":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint and not request.endpoint.startswith("static"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    def _page(code: int, title: str, message: str):
        if request.path.startswith("/api/"):  # the REST API answers in problem details, never HTML
            from .api.problems import problem

            return problem(code, title, message), code
        if request.headers.get("HX-Request"):
            return render_template("partials/error.html", title=title, message=message), code
        return render_template("error.html", title=title, message=message, code=code), code

    @app.errorhandler(CSRFError)
    def _csrf(e):
        return _page(
            400,
            "Form expired",
            "This form was open too long or came from elsewhere. Reload the page and try again.",
        )

    @app.errorhandler(400)
    def _bad(e):
        message = e.description if e.description == NUL_REFUSED else "The request could not be understood."
        return _page(400, "Bad request", message)

    @app.errorhandler(403)
    def _forbidden(e):
        return _page(403, "Not allowed", "Your account cannot open this page.")

    @app.errorhandler(404)
    def _missing(e):
        return _page(404, "Not found", "There is nothing here.")

    @app.errorhandler(405)
    def _method(e):
        return _page(405, "Not allowed", "This address does not accept that kind of request.")

    @app.errorhandler(413)
    def _too_large(e):
        return _page(
            413, "Too much at once", "That is more than this form accepts. Shorten the text and try again."
        )

    @app.errorhandler(429)
    def _too_many(e):
        # The limits of zarts.auth.limits carry their message; Flask-Limiter adds Retry-After.
        limit = getattr(e, "limit", None)
        message = (
            e.description
            if getattr(limit, "error_message", None)
            else "Too many requests. Wait a minute and try again."
        )
        return _page(429, "Slow down", message)

    @app.errorhandler(HTTPException)
    def _other_http(e):
        # Any other refusal (411, 416, 501, …) still gets a page in words, never Werkzeug's default.
        if e.code is None:
            return e
        return _page(e.code, e.name, e.description or "The request could not be handled.")

    @app.errorhandler(sa_exc.DataError)
    def _bad_value(e):
        # PostgreSQL refuses a value the form let through (too long, a NUL byte, out of range).
        db.session.rollback()
        return _page(
            400,
            "Not saved",
            "A value is too long or contains characters that cannot be stored. Nothing was changed.",
        )

    @app.errorhandler(sa_exc.StatementError)
    def _bad_parameter(e):
        # A value refused while binding a query parameter, before the database saw it (a filter
        # value outside an enum's vocabulary, a number too large for SQLite): bad input, not a bug.
        if isinstance(e, sa_exc.DBAPIError):
            raise e  # the database refused something (e.g. a constraint): a real error, logged as one
        db.session.rollback()
        return _page(
            400,
            "Not understood",
            "A value in the address or the form is not one this page knows. Check it and try again.",
        )

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    def _db_down(e):
        try:
            db.session.rollback()
        except sa_exc.SQLAlchemyError:
            pass  # the connection is gone; the pool replaces it (pre-ping) on the next request
        # Render as a visitor: loading the signed-in user would ask the database again, fail inside
        # this handler and turn the clear 503 into a bare 500.
        g._login_user = login_manager.anonymous_user()
        current_app.logger.warning(
            "database unavailable on %s %s: %s",
            request.method,
            request.path,
            str(getattr(e, "orig", e)).splitlines()[0] if str(e) else type(e).__name__,
        )
        if storage_full(e):
            body, code = _page(
                503,
                "Not saved",
                "Storage on the server is full, so nothing was changed. "
                "Tell an administrator, then try again.",
            )
        else:
            body, code = _page(
                503,
                "Try again in a moment",
                "The database is not answering right now. Nothing you saved is lost.",
            )
        return body, code, {"Retry-After": "5"}

    @app.errorhandler(500)
    def _error(e):
        try:
            db.session.rollback()
        except sa_exc.SQLAlchemyError:
            g._login_user = login_manager.anonymous_user()  # the database is gone: render as a visitor
        return _page(500, "Something went wrong", "The error is logged. Nothing was half-saved.")
