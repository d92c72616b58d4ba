"""Cross-cutting web concerns: security headers, error pages, template helpers."""

from __future__ import annotations

import secrets

import sqlalchemy.exc as sa_exc
from flask import g, render_template, request
from flask_wtf.csrf import CSRFError

from .extensions import db
from .models.vocab import APPROVAL_KIND_LABELS, ITEM_KIND_LABELS, SERVICE_LABELS, STAGE_LABELS


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def init_web(app) -> None:
    @app.context_processor
    def _helpers():
        return {
            "STAGE_LABELS": STAGE_LABELS,
            "SERVICE_LABELS": SERVICE_LABELS,
            "ITEM_KIND_LABELS": ITEM_KIND_LABELS,
            "APPROVAL_KIND_LABELS": APPROVAL_KIND_LABELS,
            "csp_nonce": csp_nonce,
        }

    @app.template_filter("money")
    def money(cents, currency="EUR"):
        if cents is None:
            return "—"
        return f"{currency} {cents / 100:,.2f}"

    @app.template_filter("label")
    def label(value):
        return (value or "").replace("_", " ").capitalize()

    @app.after_request
    def _security_headers(response):
        admin = request.path.startswith("/admin")
        nonce = g.get("csp_nonce")
        script_src = "'self'" + (f" 'nonce-{nonce}'" if admin and nonce else "")
        # Flask-Admin's Bootstrap theme sets inline style attributes; only the admin allows them.
        style_src = "'self'" + (" 'unsafe-inline'" if admin else "")
        response.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; script-src {script_src}; style-src {style_src}; img-src 'self' data:; "
            "font-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
            "base-uri 'none'; object-src 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("ZARTS_ENV") == "production":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint and not request.endpoint.startswith("static"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    def _page(code: int, title: str, message: str):
        if request.headers.get("HX-Request"):
            return render_template("partials/error.html", title=title, message=message), code
        return render_template("error.html", title=title, message=message, code=code), code

    @app.errorhandler(CSRFError)
    def _csrf(e):
        return _page(400, "Form expired", "This form was open too long or came from elsewhere. "
                                          "Reload the page and try again.")

    @app.errorhandler(400)
    def _bad(e):
        return _page(400, "Bad request", "The request could not be understood.")

    @app.errorhandler(403)
    def _forbidden(e):
        return _page(403, "Not allowed", "Your account cannot open this page.")

    @app.errorhandler(404)
    def _missing(e):
        return _page(404, "Not found", "There is nothing here.")

    @app.errorhandler(405)
    def _method(e):
        return _page(405, "Not allowed", "This address does not accept that kind of request.")

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    def _db_down(e):
        db.session.rollback()
        return _page(503, "Try again in a moment", "The database is not answering right now. "
                                                  "Nothing you saved is lost.")

    @app.errorhandler(500)
    def _error(e):
        db.session.rollback()
        return _page(500, "Something went wrong", "The error is logged. Nothing was half-saved.")
