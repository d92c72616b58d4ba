"""The "webhook" outbox job: POST one event to one endpoint, signed, and log the attempt.

A failed attempt is logged (and committed) before the job raises, so the outbox's retries with
backoff (RQ Retry, or the inline backoff) try again and the log keeps every attempt. After
WEBHOOKS_DISABLE_AFTER consecutive failures the endpoint is disabled (the admin shows why).
Redirects are not followed (a redirect could point into the private network); proxies from the
environment are not used.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from ..domain.errors import Invalid
from ..domain.webhooks import TYPE_OF_KIND, build_payload, check_target, invalidate, secret_for, sign
from ..models import Event, User, utcnow
from ..models.integrations import WebhookDelivery, WebhookEndpoint
from .errors import Permanent

EXCERPT_BYTES = 1024
USER_AGENT = "ZartsAlgo-Webhooks/1"


class DeliveryFailed(RuntimeError):
    """The endpoint did not answer 2xx: retried with backoff."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def deliver(session: Session, payload: dict) -> str:
    cfg = current_app.config
    endpoint = session.get(WebhookEndpoint, int(payload["endpoint_id"]))
    if endpoint is None or not endpoint.active:
        raise Permanent("the endpoint is disabled or removed")
    event = session.get(Event, int(payload["event_id"]))
    if event is None:
        raise Permanent("the event no longer exists")
    acts_as = session.get(User, endpoint.acts_as_id)
    if acts_as is None or not acts_as.is_active or not acts_as.is_staff:
        raise Permanent("the user this endpoint acts as is not active staff: nothing may be sent")
    key = str(payload.get("delivery") or f"{endpoint.id}-{event.id}")[:64]
    attempt = 1 + session.scalar(
        sa.select(sa.func.count()).select_from(WebhookDelivery).where(WebhookDelivery.delivery_key == key)
    )
    body = json.dumps(
        build_payload(session, endpoint, event, key), separators=(",", ":"), sort_keys=True
    ).encode()
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Zarts-Event": TYPE_OF_KIND[event.kind],
        "X-Zarts-Delivery": key,
        "X-Zarts-Signature": sign(secret_for(endpoint), stamp, body),
    }
    status, excerpt, error = None, None, None
    started = time.perf_counter()
    try:
        check_target(endpoint.url, bool(cfg.get("WEBHOOKS_ALLOW_PRIVATE")))
        request = urllib.request.Request(endpoint.url, data=body, headers=headers, method="POST")
        with _opener.open(request, timeout=cfg.get("WEBHOOKS_TIMEOUT", 5)) as resp:
            status, excerpt = resp.status, resp.read(EXCERPT_BYTES)
    except urllib.error.HTTPError as exc:
        status, excerpt = exc.code, exc.read(EXCERPT_BYTES) if exc.fp else b""
    except Invalid as exc:
        error = exc.message
    except (urllib.error.URLError, OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    duration = int((time.perf_counter() - started) * 1000)
    session.add(
        WebhookDelivery(
            endpoint_id=endpoint.id,
            event_id=event.id,
            event_type=headers["X-Zarts-Event"],
            delivery_key=key,
            attempt=attempt,
            status_code=status,
            duration_ms=duration,
            error=(error or None) and error[:500],
            response_excerpt=excerpt.decode("utf-8", "replace") if excerpt else None,
            created_at=utcnow(),
        )
    )
    if status is not None and 200 <= status < 300:
        if endpoint.consecutive_failures:
            session.execute(
                sa.update(WebhookEndpoint)
                .where(WebhookEndpoint.id == endpoint.id)
                .values(consecutive_failures=0),
                execution_options={"synchronize_session": False},
            )
        return f"delivered {key} ({status}, {duration} ms)"
    failures = session.execute(
        sa.update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint.id)
        .values(consecutive_failures=WebhookEndpoint.consecutive_failures + 1)
        .returning(WebhookEndpoint.consecutive_failures),
        execution_options={"synchronize_session": False},
    ).scalar()
    limit = int(cfg.get("WEBHOOKS_DISABLE_AFTER", 10))
    why = error or f"answered {status}"
    if failures >= limit:
        session.execute(
            sa.update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint.id)
            .values(
                active=False,
                disabled_at=utcnow(),
                disabled_reason=f"Disabled after {failures} failed deliveries in a row (last: {why})"[:300],
            ),
            execution_options={"synchronize_session": False},
        )
    session.commit()  # the log and the count survive the rollback of the failed job
    if failures >= limit:
        invalidate()
        raise Permanent(f"endpoint disabled after {failures} failures; last: {why}")
    raise DeliveryFailed(f"webhook {key} to endpoint {endpoint.id}: {why}")
