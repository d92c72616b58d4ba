"""Admin pages for integrations (admins only): webhook endpoints with their delivery log and a
Redeliver button, and lead-capture sources with the snippet to paste into a website.

Custom pages, not generated CRUD: every write is a zarts.domain function (webhooks, capture) run as
one unit; a refusal comes back on the page with the reason, nothing saved. Secrets (an endpoint's
signing secret, a source's key and its snippet) are shown once, in the answer that made them.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from markupsafe import escape

from ..domain import DomainError, unit
from ..domain import capture as capture_domain
from ..domain import webhooks as webhooks_domain
from ..extensions import db
from ..models import User
from ..models.integrations import WEBHOOK_EVENTS, CaptureSource, WebhookDelivery, WebhookEndpoint
from ..models.vocab import SERVICE_LABELS, SERVICES, SOURCES
from .permissions import login_redirect, signed_in

DELIVERIES_SHOWN = 50


def _int(name: str) -> int | None:
    raw = (request.form.get(name) or request.args.get(name) or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


class AdminOnlyView(BaseView):
    def is_accessible(self) -> bool:
        return bool(signed_in() and current_user.is_staff and current_user.role == "admin")

    def _handle_view(self, name, **kwargs):
        if not signed_in():
            return login_redirect()
        if not self.is_accessible():
            abort(403)
        return None

    def _run(self, action):
        """`action()` as one unit: its result, or (None, the refusal's message and status)."""
        try:
            with unit(db.session):
                return action(), None
        except DomainError as exc:
            return None, exc


class WebhooksView(AdminOnlyView):
    def _page(self, status=200, **context):
        endpoints = db.session.scalars(sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
        shown = _int("endpoint_id")
        query = sa.select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(DELIVERIES_SHOWN)
        if shown:
            query = query.where(WebhookDelivery.endpoint_id == shown)
        staff = db.session.scalars(
            sa.select(User).where(User.role != "client", User.active.is_(True)).order_by(User.name).limit(500)
        ).all()
        return self.render(
            "api/admin_webhooks.html",
            endpoints=endpoints,
            deliveries=db.session.scalars(query).all(),
            staff=staff,
            event_types=list(WEBHOOK_EVENTS),
            disable_after=current_app.config.get("WEBHOOKS_DISABLE_AFTER", 10),
            shown=shown,
            **{"secret": None, "secret_for": None, **context},  # a new secret is shown once, when made
        ), status

    @expose("/")
    def index(self):
        return self._page()

    def _fields(self) -> dict:
        return {
            "url": request.form.get("url", ""),
            "event_types": request.form.getlist("event_types"),
            "acts_as_id": _int("acts_as_id"),
            "description": request.form.get("description"),
        }

    @expose("/new", methods=["POST"])
    def register(self):
        made, error = self._run(
            lambda: webhooks_domain.register_endpoint(db.session, current_user, **self._fields())
        )
        if error is not None:
            return self._page(error.status, error=error.message)
        endpoint, secret = made
        return self._page(201, secret=secret, secret_for=endpoint.url)

    @expose("/update", methods=["POST"])
    def update(self):
        endpoint = db.session.get(WebhookEndpoint, _int("endpoint_id") or 0)
        if endpoint is None:
            return self._page(404, error="That endpoint no longer exists.")
        action = request.form.get("action")
        if action == "rotate":
            secret, error = self._run(
                lambda: webhooks_domain.rotate_secret(db.session, current_user, endpoint)
            )
            if error is None:
                return self._page(200, secret=secret, secret_for=endpoint.url)
        elif action in ("enable", "disable"):
            _, error = self._run(
                lambda: webhooks_domain.set_endpoint_active(
                    db.session, current_user, endpoint, action == "enable"
                )
            )
        else:
            _, error = self._run(
                lambda: webhooks_domain.update_endpoint(db.session, current_user, endpoint, **self._fields())
            )
        if error is not None:
            return self._page(error.status, error=error.message)
        webhooks_domain.invalidate()
        flash("Endpoint saved.", "success")
        return redirect(url_for(".index"))

    @expose("/redeliver", methods=["POST"])
    def redeliver(self):
        delivery = db.session.get(WebhookDelivery, _int("delivery_id") or 0)
        if delivery is None:
            return self._page(404, error="That delivery is not in the log.")
        endpoint_id = delivery.endpoint_id
        _, error = self._run(lambda: webhooks_domain.redeliver(db.session, current_user, delivery))
        if error is not None:
            return self._page(error.status, error=error.message)
        flash("Queued for delivery again: the log shows the new attempt.", "success")
        return redirect(url_for(".index", endpoint_id=endpoint_id))


def snippet(key: str, source: CaptureSource) -> str:
    """The HTML to paste into a website: a plain form posting to /capture/<key>, and the script that
    gives it its fill-time token."""
    base = current_app.config.get("BASE_URL", "").rstrip("/")
    action = f"{base}/capture/{key}"
    return "\n".join(
        [
            f'<form method="post" action="{escape(action)}" class="zarts-capture">',
            '  <input type="hidden" name="_started" value="">',
            '  <label>Your name <input name="name" required maxlength="120"></label>',
            '  <label>Email <input name="email" type="email" required maxlength="254"></label>',
            '  <label>Company <input name="company" required maxlength="200"></label>',
            '  <label>Phone <input name="phone" maxlength="40"></label>',
            '  <label>What do you need help with? <textarea name="message" maxlength="5000"></textarea></label>',
            '  <div style="position:absolute;left:-10000px" aria-hidden="true">'
            '<input name="website" tabindex="-1" autocomplete="off"></div>',
            f'  <label><input type="checkbox" name="consent" value="1"> {escape(source.consent_wording)}</label>',
            '  <button type="submit">Send</button>',
            "</form>",
            f'<script src="{escape(base)}/static/capture.js" defer></script>',
        ]
    )


class CaptureSourcesView(AdminOnlyView):
    def _page(self, status=200, **context):
        sources = db.session.scalars(sa.select(CaptureSource).order_by(CaptureSource.id)).all()
        owners = db.session.scalars(
            sa.select(User)
            .where(User.role.in_(("growth_ops", "admin")), User.active.is_(True))
            .order_by(User.name)
            .limit(500)
        ).all()
        return self.render(
            "api/admin_capture.html",
            sources=sources,
            owners=owners,
            SOURCES=SOURCES,
            SERVICES=SERVICES,
            SERVICE_LABELS=SERVICE_LABELS,
            **{"key": None, "made": None, **context},  # a new key is shown once, when made
        ), status

    @expose("/")
    def index(self):
        return self._page()

    def _fields(self) -> dict:
        return {
            "name": request.form.get("name", ""),
            "source": request.form.get("source"),
            "service": request.form.get("service"),
            "default_owner_id": _int("default_owner_id"),
            "consent_wording": request.form.get("consent_wording"),
        }

    @expose("/new", methods=["POST"])
    def create(self):
        made, error = self._run(
            lambda: capture_domain.create_source(db.session, current_user, **self._fields())
        )
        if error is not None:
            return self._page(error.status, error=error.message)
        source, key = made
        return self._page(201, key=key, snippet=snippet(key, source), made=source)

    @expose("/update", methods=["POST"])
    def update(self):
        source = db.session.get(CaptureSource, _int("source_id") or 0)
        if source is None:
            return self._page(404, error="That capture source no longer exists.")
        if request.form.get("action") == "rotate":
            key, error = self._run(lambda: capture_domain.rotate_key(db.session, current_user, source))
            if error is None:
                return self._page(200, key=key, snippet=snippet(key, source), made=source)
        else:
            _, error = self._run(
                lambda: capture_domain.update_source(
                    db.session,
                    current_user,
                    source,
                    active=request.form.get("active") == "1",
                    **self._fields(),
                )
            )
        if error is not None:
            return self._page(error.status, error=error.message)
        flash("Capture source saved.", "success")
        return redirect(url_for(".index"))
