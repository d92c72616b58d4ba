"""Webhooks: admins register endpoints for trail events; each event an endpoint subscribes to becomes
a "webhook" outbox job (zarts.jobs.webhook delivers it, signed, and logs each attempt).

The signing secret is never stored: it is HMAC-SHA256(SECRET_KEY, "webhook:<id>:<secret_version>"),
shown to the admin once when the endpoint is registered (or its secret rotated). Changing SECRET_KEY
changes every endpoint's secret.

Recording an event must not cost a query when nobody listens (the stage move and the handoff have
fixed statement counts): the active subscriptions are cached per app for WEBHOOKS_CACHE_SECONDS and
dropped at once by every change made here; another process sees a change within that time.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import time
import uuid
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from ..models import Event, Lead, Outbox, User, utcnow
from ..models.integrations import WEBHOOK_EVENTS, WebhookDelivery, WebhookEndpoint
from .errors import Invalid
from . import trail
from .trail import require_staff

TYPE_OF_KIND = {kind: name for name, kind in WEBHOOK_EVENTS.items()}
# What a payload says about the event beyond its kind: never approval internals or free text.
EVENT_DETAILS = ("from_stage", "to_stage", "proposal_id", "number", "message_id", "reason", "source")
# The lead's fields a payload carries: what every staff role reads on the board and the lead page,
# never discovery notes, pain points, pause or loss notes, or anything of a proposal's internals.
LEAD_FIELDS = (
    "id",
    "title",
    "company",
    "contact_name",
    "contact_email",
    "source",
    "service",
    "stage",
    "probability",
    "next_action",
    "next_action_due",
    "decision_deadline",
    "value_cents",
    "currency",
    "owner_id",
    "client_id",
    "created_at",
    "updated_at",
)
_CACHE = "zarts.webhook_subscriptions"


# -- secrets and signatures -----------------------------------------------------------------------


def secret_for(endpoint: WebhookEndpoint, secret_key: str | None = None) -> str:
    key = (secret_key or current_app.config["SECRET_KEY"]).encode()
    return hmac.new(
        key, f"webhook:{endpoint.id}:{endpoint.secret_version}".encode(), hashlib.sha256
    ).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Zarts-Signature header: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


# -- who may manage endpoints ----------------------------------------------------------------------


def check_target(url: str, allow_private: bool) -> str:
    """The URL, if a webhook may be sent there: http(s), a host, and (unless allowed) no private,
    loopback, link-local or reserved address behind its name."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        raise Invalid("Give a full http:// or https:// address (up to 500 characters).", "url")
    if parts.username or parts.password:
        raise Invalid("Leave credentials out of the address: verify the signature instead.", "url")
    if not allow_private:
        try:
            infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError, ValueError):
            raise Invalid("That host name does not resolve.", "url") from None
        for info in infos:
            address = ipaddress.ip_address(info[4][0].split("%")[0])
            if not address.is_global or address.is_multicast:
                raise Invalid(
                    "That address is on a private or local network: webhooks go to public addresses only.",
                    "url",
                )
    return url


def _event_types(types) -> list[str]:
    chosen = sorted(set(types or ()))
    unknown = [t for t in chosen if t not in WEBHOOK_EVENTS]
    if unknown:
        raise Invalid(f"Unknown event type: {unknown[0]}.", "event_types")
    if not chosen:
        raise Invalid("Choose at least one event.", "event_types")
    return chosen


def _acts_as(session: Session, user_id) -> User:
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_staff or not user.is_active:
        raise Invalid("Choose an active staff member: the payload carries what they may read.", "acts_as_id")
    return user


def register_endpoint(
    session: Session, actor: User, *, url: str, event_types, acts_as_id: int, description: str | None = None
) -> tuple[WebhookEndpoint, str]:
    """An admin registers an endpoint: the row and its signing secret (shown once)."""
    require_staff(actor, "admin", action="manage webhooks")
    endpoint = WebhookEndpoint(
        url=check_target(url, _allow_private()),
        event_types=_event_types(event_types),
        acts_as_id=_acts_as(session, acts_as_id).id,
        created_by_id=actor.id,
        description=(description or "").strip()[:200] or None,
        active=True,
    )
    session.add(endpoint)
    session.flush()
    invalidate()
    return endpoint, secret_for(endpoint)


def update_endpoint(
    session: Session,
    actor: User,
    endpoint: WebhookEndpoint,
    *,
    url: str,
    event_types,
    acts_as_id: int,
    description: str | None = None,
) -> WebhookEndpoint:
    require_staff(actor, "admin", action="manage webhooks")
    endpoint.url = check_target(url, _allow_private())
    endpoint.event_types = _event_types(event_types)
    endpoint.acts_as_id = _acts_as(session, acts_as_id).id
    endpoint.description = (description or "").strip()[:200] or None
    session.flush()
    invalidate()
    return endpoint


def set_endpoint_active(
    session: Session, actor: User, endpoint: WebhookEndpoint, active: bool
) -> WebhookEndpoint:
    """Disable an endpoint, or enable it again (its failure count starts over)."""
    require_staff(actor, "admin", action="manage webhooks")
    endpoint.active = bool(active)
    if active:
        endpoint.consecutive_failures, endpoint.disabled_at, endpoint.disabled_reason = 0, None, None
    else:
        endpoint.disabled_at, endpoint.disabled_reason = utcnow(), f"Disabled by {actor.name}"
    session.flush()
    invalidate()
    return endpoint


def rotate_secret(session: Session, actor: User, endpoint: WebhookEndpoint) -> str:
    """A new signing secret (the old one stops verifying at once): returned to be shown once."""
    require_staff(actor, "admin", action="manage webhooks")
    endpoint.secret_version += 1
    session.flush()
    return secret_for(endpoint)


def redeliver(session: Session, actor: User, delivery: WebhookDelivery) -> Outbox:
    """Send a logged delivery's event to its endpoint again, as a new outbox job (new attempts)."""
    require_staff(actor, "admin", action="redeliver webhooks")
    if delivery.event_id is None:
        raise Invalid("This delivery's event no longer exists.")
    key = f"webhook:{delivery.endpoint_id}:{delivery.event_id}:re:{uuid.uuid4().hex[:12]}"
    row = Outbox(
        job="webhook",
        key=key,
        payload={
            "endpoint_id": delivery.endpoint_id,
            "event_id": delivery.event_id,
            "delivery": uuid.uuid4().hex,
            "redelivery": True,
        },
    )
    session.add(row)
    session.info.setdefault("outbox_keys", []).append(key)
    session.flush()
    return row


def _allow_private() -> bool:
    return bool(current_app.config.get("WEBHOOKS_ALLOW_PRIVATE"))


# -- events become deliveries ----------------------------------------------------------------------


def invalidate() -> None:
    if has_app_context():
        current_app.extensions.pop(_CACHE, None)


def subscriptions(session: Session) -> dict[str, tuple[int, ...]]:
    """Trail event kind -> ids of the active endpoints subscribed to it (cached per app)."""
    app = current_app
    cached = app.extensions.get(_CACHE)
    now = time.monotonic()
    if cached is not None and now - cached[0] < app.config.get("WEBHOOKS_CACHE_SECONDS", 30):
        return cached[1]
    found: dict[str, list[int]] = {}
    with session.no_autoflush:
        rows = session.execute(
            sa.select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(WebhookEndpoint.active.is_(True))
        ).all()
    for endpoint_id, types in rows:
        for name in types or ():
            if name in WEBHOOK_EVENTS:
                found.setdefault(WEBHOOK_EVENTS[name], []).append(endpoint_id)
    subs = {kind: tuple(ids) for kind, ids in found.items()}
    app.extensions[_CACHE] = (now, subs)
    return subs


@trail.on_event
def on_event(session: Session, event: Event) -> None:
    """Called by trail.record_event (no query when nobody listens: subscriptions are cached): note the event for the endpoints listening to its kind (their
    outbox rows are added once the flush gave the event its id)."""
    if event.kind not in TYPE_OF_KIND or not has_app_context():
        return
    endpoint_ids = subscriptions(session).get(event.kind)
    if endpoint_ids:
        session.info.setdefault("webhook_events", []).append((event, endpoint_ids))


@sa.event.listens_for(Session, "after_flush")
def _queue_deliveries(session, flush_context):
    pending = session.info.get("webhook_events")
    if not pending:
        return
    waiting = []
    for event, endpoint_ids in pending:
        if event.id is None:
            waiting.append((event, endpoint_ids))
            continue
        for endpoint_id in endpoint_ids:
            key = f"webhook:{endpoint_id}:{event.id}"
            session.add(
                Outbox(
                    job="webhook",
                    key=key,
                    payload={"endpoint_id": endpoint_id, "event_id": event.id, "delivery": uuid.uuid4().hex},
                )
            )
            session.info.setdefault("outbox_keys", []).append(key)
    session.info["webhook_events"] = waiting


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop("webhook_events", None)


def build_payload(session: Session, endpoint: WebhookEndpoint, event: Event, delivery_key: str) -> dict:
    """The JSON an endpoint receives: the event and the lead's basic fields (LEAD_FIELDS), only what
    the endpoint's acts-as user may read (every active staff role reads these; nobody else gets any)."""
    lead = session.get(Lead, event.lead_id)
    details = {k: v for k, v in (event.payload or {}).items() if k in EVENT_DETAILS}
    return {
        "id": delivery_key,
        "type": TYPE_OF_KIND[event.kind],
        "created_at": event.created_at.isoformat() + "Z",
        "data": {
            "event": {
                "id": event.id,
                "kind": event.kind,
                "stage": event.stage,
                "lead_id": event.lead_id,
                "created_at": event.created_at.isoformat() + "Z",
                "details": details,
            },
            "lead": lead_fields(lead),
        },
    }


def lead_fields(lead: Lead) -> dict:
    out = {}
    for name in LEAD_FIELDS:
        value = getattr(lead, name)
        if hasattr(value, "isoformat"):
            value = value.isoformat() + ("Z" if hasattr(value, "hour") else "")
        out[name] = value
    out["paused"] = lead.paused_at is not None
    return out
