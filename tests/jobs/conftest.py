"""Builders and fixtures for the background-job tests.

`deals.won()` takes a lead the whole way to a won deal through the domain layer, one committed
user action at a time (so every commit triggers the outbox relay as in the app). Copy it freely.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.builders import Journey
from zarts.domain import approvals, audits, contracts, pipeline, proposals, unit
from zarts.extensions import db
from zarts.models import Outbox, Proposal, User, today

CANARY = "CANARY-INTERNAL-7f3a"  # placed in internal fields; must never reach a message

SCOPE_V1 = [
    {"kind": "included", "title": "Technical SEO fixes", "description": "Top 50 issues from the audit"},
    {"kind": "included", "title": "Monthly content plan"},
    {"kind": "excluded", "title": "Paid media management"},
    {"kind": "add_on", "title": "Landing page copy", "price_cents": 90000},
    {"kind": "add_on", "title": "Quarterly workshop", "price_cents": 150000},
    {"kind": "assumption", "title": "Client gives CMS access in week 1"},
    {"kind": "dependency", "title": "Analytics property exists"},
]


@dataclass
class Deal:
    lead_id: int
    owner: User
    approver: User
    delivery: User
    contact: User | None


class Deals:
    """Drives leads along the path through zarts.domain, committing each user action."""

    def __init__(self, make):
        self.make = make

    def won(
        self,
        *,
        provider_stack: str = "HubSpot, Google Ads\nGA4; hubspot \n\n",
        revise: bool = True,
        canary: bool = True,
        service: str = "seo",
        contact_email: str | None = None,
    ) -> Deal:
        s = db.session
        owner, approver, delivery = (
            self.make.user("growth_ops"),
            self.make.user("approver"),
            self.make.user("delivery"),
        )
        extra = {"contact_email": contact_email} if contact_email else {}
        lead = self.make.lead(owner=owner, service=service, **extra)
        s.commit()
        due = today() + timedelta(days=3)
        secret = (lambda text: f"{text} {CANARY}") if canary else (lambda text: text)
        cites = Journey(self.make)
        for stage in ("qualified", "discovery"):
            with unit(s):
                pipeline.move(s, lead, stage, owner, lead.version, next_action_due=due)
        with unit(s):
            pipeline.log_discovery(
                s,
                lead,
                owner,
                lead.version,
                pain_points="Leads go cold in 48h",
                current_lead_flow="Web form to a shared inbox",
                provider_stack=provider_stack,
                decision_criteria="Cost per qualified lead",
                discovery_notes=secret("Budget owner is sceptical"),
            )
        with unit(s):
            pipeline.move(s, lead, "audit", owner, lead.version, next_action_due=due)
        with unit(s):
            audit = audits.start_audit(s, lead, owner)
            audits.save_audit(
                s,
                audit,
                owner,
                audit.version,
                findings=secret("Mobile form loses 30%"),
                baseline_figures="CPL 84 EUR; 120 leads/month",
                raw_notes=secret("Raw call notes"),
                provider_caveats=secret("GA4 sampling"),
                client_summary="Your mobile form loses about a third of visitors.",
            )
            cites.add_evidence(audit)  # the findings and baseline the proposal's claims cite
            audits.complete_audit(s, audit, owner, audit.version)
        with unit(s):
            pipeline.move(s, lead, "proposal", owner, lead.version, next_action_due=due)
        with unit(s):
            p = proposals.draft_proposal(
                s,
                lead,
                owner,
                title="Growth plan",
                summary="A 3-month plan",
                price_cents=450000,
                timeline="12 weeks",
                expected_improvement="CPL down 20% in 90 days",
                contract_language="Standard MSA, 30 days notice",
                items=SCOPE_V1,
                pricing_assumptions=secret("Margin 40%"),
                internal_notes=secret("Competitor quoted 3k"),
            )
            cites.cite(p)
        p = self._approve_and_send(p, owner, approver)
        if revise:
            with unit(s):
                items = [i for i in SCOPE_V1 if i["title"] != "Monthly content plan"] + [
                    {"kind": "included", "title": "Bi-weekly content plan"},
                    {"kind": "dependency", "title": "CMS staging site"},
                ]
                p = proposals.revise_proposal(
                    s, p, owner, p.version, items=items, price_cents=480000, timeline="14 weeks"
                )
                cites.cite(p)
            p = self._approve_and_send(p, owner, approver)
        contact = (
            s.execute(sa.select(User).where(User.client_id == lead.client_id, User.role == "client"))
            .scalars()
            .first()
        )
        with unit(s):
            add_on = next(i["id"] for i in p.snapshot["items"] if i["kind"] == "add_on")
            proposals.accept_proposal(s, p, contact, p.version, add_on_ids=[add_on])
        with unit(s):
            c = contracts.contract_for(s, lead)
            contracts.update_contract(
                s,
                lead,
                owner,
                c.version,
                state="signed",
                payment_state="deposit_paid",
                kickoff_date=today() + timedelta(days=7),
                onboarding_owner_id=delivery.id,
                launch_blockers=secret("Their dev team is on leave"),
                client_launch_blockers="Waiting for CMS access",
            )
        with unit(s):
            pipeline.mark_won(s, lead, owner, lead.version)
        return Deal(lead_id=lead.id, owner=owner, approver=approver, delivery=delivery, contact=contact)

    def _approve_and_send(self, p: Proposal, owner: User, approver: User) -> Proposal:
        s = db.session
        with unit(s):
            requested = proposals.request_approvals(s, p, owner)
        for a in requested:
            with unit(s):
                approvals.decide(s, a, approver, a.version, approve=True)
        with unit(s):
            proposals.send_proposal(
                s,
                p,
                owner,
                p.version,
                follow_up_date=today() + timedelta(days=2),
                decision_deadline=today() + timedelta(days=14),
            )
        return p


@pytest.fixture
def deals(make):
    return Deals(make)


def outbox_row(key: str) -> Outbox:
    db.session.expire_all()
    return db.session.execute(sa.select(Outbox).where(Outbox.key == key)).scalar_one()


_queues = itertools.count(1)


@pytest.fixture
def rq_app(pg_app, redis_url):
    """pg_app with the real Redis and a queue of its own; the queue's Redis keys are removed after."""
    import redis

    name = f"{pg_app.config['RQ_QUEUE']}-{next(_queues)}"
    pg_app.config.update(REDIS_URL=redis_url, RQ_QUEUE=name)
    yield pg_app
    conn = redis.Redis.from_url(redis_url)
    for key in conn.scan_iter(match=f"*{name}*", count=500):
        conn.delete(key)
    conn.srem("rq:queues", f"rq:queue:{name}")


def run_burst(app) -> None:
    """Run every queued job of the app's queue in this process (no fork)."""
    from rq import SimpleWorker

    from zarts.jobs.queue import connection, queue

    conn = connection()
    SimpleWorker([queue(conn)], connection=conn).work(burst=True)
