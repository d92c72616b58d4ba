"""Webhooks: a real HTTP server in a thread receives a signed POST for every event type; a failing
endpoint is retried, redelivered from the admin and disabled after repeated failure; payloads
carry nothing internal."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from zarts.domain import messaging, pipeline, proposals, unit
from zarts.domain.gates import live_proposal
from zarts.domain.webhooks import register_endpoint
from zarts.extensions import db
from zarts.jobs.relay import relay
from zarts.models import Lead, Outbox, User, today
from zarts.models.integrations import WEBHOOK_EVENTS, WebhookDelivery, WebhookEndpoint

CANARY = "CANARY-INTERNAL-7f3a"


class _Server(ThreadingHTTPServer):
    def shutdown(self):
        super().shutdown()
        self.server_close()  # shutdown() only stops the loop; this closes the listening socket


class Receiver:
    """A local webhook endpoint: records each request and answers `status`."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok" if receiver.status < 300 else b"broken on purpose")

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def types(self) -> list[str]:
        return [r["headers"]["X-Zarts-Event"] for r in self.requests]


@pytest.fixture
def receiver(app):
    app.config.update(WEBHOOKS_ALLOW_PRIVATE=True, JOBS_RETRY_INTERVALS=[0, 0])
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()


def verify(secret: str, headers: dict, body: bytes) -> bool:
    """What a subscriber does (the README's example)."""
    parts = dict(p.split("=", 1) for p in headers["X-Zarts-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def _endpoint(make, receiver, types=tuple(WEBHOOK_EVENTS), acts_as=None):
    admin = make.user("admin")
    with unit(db.session):
        endpoint, secret = register_endpoint(
            db.session,
            admin,
            url=receiver.url,
            event_types=list(types),
            acts_as_id=(acts_as or make.user("growth_ops")).id,
        )
    return endpoint, secret, admin


def test_every_event_type_arrives_signed_and_holds_nothing_internal(app, make, journey, receiver):
    _, secret, _ = _endpoint(make, receiver)
    owner = make.user("growth_ops")
    won = journey.to(make.lead(owner=owner, discovery_notes=CANARY, pain_points=CANARY), "contract")
    proposal = live_proposal(db.session, won.id)
    proposal.internal_notes = proposal.pricing_assumptions = CANARY
    contact = journey.contact(won)
    proposals.record_view(db.session, proposal, contact)
    messaging.post_client_message(db.session, contact, "Can we start in May?", lead=won)
    journey.to(won, "won")
    declined = journey.to(make.lead(owner=owner), "contract")
    p2 = live_proposal(db.session, declined.id)
    proposals.decline_proposal(db.session, p2, journey.contact(declined), p2.version, "Too expensive")
    lost = make.lead(owner=owner)
    pipeline.mark_lost(
        db.session,
        lost,
        owner,
        lost.version,
        lost_reason="price",
        reactivation_date=today() + timedelta(days=90),
    )
    db.session.commit()
    with unit(db.session):
        pipeline.create_lead(
            db.session, owner, title="Fresh", company="New Co", source="website", service="seo"
        )

    assert set(receiver.types()) == set(WEBHOOK_EVENTS), sorted(set(WEBHOOK_EVENTS) - set(receiver.types()))
    for req in receiver.requests:
        assert verify(secret, req["headers"], req["body"])
        assert CANARY not in req["body"].decode()
        body = json.loads(req["body"])
        assert (
            body["type"] == req["headers"]["X-Zarts-Event"]
            and body["id"] == req["headers"]["X-Zarts-Delivery"]
        )
        assert set(body["data"]["lead"]) >= {"id", "stage", "company", "owner_id"}
        assert "discovery_notes" not in body["data"]["lead"] and "pain_points" not in body["data"]["lead"]
    moved = [
        json.loads(r["body"])
        for r in receiver.requests
        if r["headers"]["X-Zarts-Event"] == "lead.stage_moved"
    ]
    assert {"from_stage": "contract", "to_stage": "won"} in [m["data"]["event"]["details"] for m in moved]
    assert not verify("another-secret", receiver.requests[0]["headers"], receiver.requests[0]["body"])
    log = db.session.scalars(sa.select(WebhookDelivery)).all()
    assert len(log) == len(receiver.requests) and all(d.status_code == 200 for d in log)


def test_only_subscribed_events_are_sent_and_nothing_without_endpoints(app, make, receiver):
    owner = make.user("growth_ops")
    with unit(db.session):
        pipeline.create_lead(db.session, owner, title="Before", company="A", source="website", service="seo")
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(Outbox).where(Outbox.job == "webhook")) == 0
    )
    _endpoint(make, receiver, types=["deal.won"])
    with unit(db.session):
        pipeline.create_lead(db.session, owner, title="After", company="B", source="website", service="seo")
    assert receiver.requests == []


def test_a_failing_endpoint_is_retried_then_redelivered_from_the_admin(app, make, receiver, client, auth):
    endpoint, secret, admin = _endpoint(make, receiver, types=["lead.created"])
    receiver.status = 500
    owner = make.user("growth_ops")
    with unit(db.session):
        pipeline.create_lead(
            db.session, owner, title="Retry me", company="R", source="website", service="seo"
        )
    assert len(receiver.requests) == 1
    row = db.session.scalar(sa.select(Outbox).where(Outbox.job == "webhook"))
    assert row.status == "pending" and row.attempts == 1  # backoff, then again
    relay()
    relay()
    db.session.expire_all()
    assert len(receiver.requests) == 3 and db.session.get(Outbox, row.id).status == "failed"
    assert len({r["headers"]["X-Zarts-Delivery"] for r in receiver.requests}) == 1  # one delivery, 3 attempts
    log = db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert [d.attempt for d in log] == [1, 2, 3] and {d.status_code for d in log} == {500}
    assert log[0].response_excerpt == "broken on purpose"

    receiver.status = 200
    auth.login_as(admin)
    page = client.get("/admin/webhooks/").get_data(as_text=True)
    assert "Redeliver" in page and "broken on purpose" in page
    resp = auth.post("/admin/webhooks/redeliver", {"delivery_id": str(log[-1].id)})
    assert resp.status_code == 302
    assert len(receiver.requests) == 4 and verify(
        secret, receiver.requests[-1]["headers"], receiver.requests[-1]["body"]
    )
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, endpoint.id).consecutive_failures == 0
    assert (
        db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id.desc())).first().status_code
        == 200
    )


def test_an_endpoint_is_disabled_after_repeated_failure(app, make, receiver, client, auth):
    app.config.update(WEBHOOKS_DISABLE_AFTER=3, JOBS_RETRY_INTERVALS=[3600])
    endpoint, _, admin = _endpoint(make, receiver, types=["lead.created"])
    receiver.status = 503
    owner = make.user("growth_ops")
    for i in range(4):
        with unit(db.session):
            pipeline.create_lead(
                db.session, owner, title=f"L{i}", company="C", source="website", service="seo"
            )
    assert len(receiver.requests) == 3  # the fourth was never sent: the endpoint is off
    db.session.expire_all()
    row = db.session.get(WebhookEndpoint, endpoint.id)
    assert not row.active and "3 failed deliveries in a row" in row.disabled_reason
    auth.login_as(admin)
    assert "is disabled: Disabled after 3 failed" in client.get("/admin/webhooks/").get_data(as_text=True)
    assert (
        auth.post("/admin/webhooks/update", {"endpoint_id": str(endpoint.id), "action": "enable"}).status_code
        == 302
    )
    receiver.status = 200
    with unit(db.session):
        pipeline.create_lead(db.session, owner, title="Back", company="C", source="website", service="seo")
    assert len(receiver.requests) == 4 and receiver.status == 200


def test_admins_only_and_private_targets_refused_by_default(app, make, client, auth):
    growth = make.user("growth_ops")
    db.session.commit()
    auth.login_as(growth)
    assert client.get("/admin/webhooks/").status_code == 403
    assert (
        auth.post(
            "/admin/webhooks/new",
            {"url": "https://example.com/x", "event_types": "deal.won", "acts_as_id": str(growth.id)},
        ).status_code
        == 403
    )
    admin = make.user("admin")
    db.session.commit()
    auth.login_as(admin)
    resp = auth.post(
        "/admin/webhooks/new",
        {"url": "http://127.0.0.1:9/x", "event_types": "deal.won", "acts_as_id": str(admin.id)},
    )
    assert resp.status_code == 400 and "private or local network" in resp.get_data(as_text=True)
    resp = auth.post("/admin/webhooks/new", {"url": "ftp://x", "event_types": "deal.won", "acts_as_id": "x"})
    assert resp.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) == 0
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    made = auth.post(
        "/admin/webhooks/new",
        {"url": "http://127.0.0.1:9/x", "event_types": "deal.won", "acts_as_id": str(admin.id)},
    )
    assert made.status_code == 201 and 'data-testid="webhook-secret"' in made.get_data(as_text=True)
    again = client.get("/admin/webhooks/").get_data(as_text=True)
    assert 'data-testid="webhook-secret"' not in again  # shown once


def test_a_deactivated_acts_as_user_stops_deliveries(app, make, receiver):
    acts_as = make.user("growth_ops")
    _endpoint(make, receiver, types=["lead.created"], acts_as=acts_as)
    db.session.get(User, acts_as.id).active = False
    db.session.commit()
    owner = make.user("growth_ops")
    with unit(db.session):
        pipeline.create_lead(db.session, owner, title="Quiet", company="Q", source="website", service="seo")
    assert receiver.requests == []
    assert db.session.scalar(sa.select(Outbox.status).where(Outbox.job == "webhook")) == "failed"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == 1
