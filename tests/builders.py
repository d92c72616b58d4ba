"""Small builders for test data: `make.user("approver")`, `make.lead(stage="audit")`, …

They write rows directly (set-up only). Tests of behaviour go through zarts.domain.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from zarts.auth.passwords import hash_password
from zarts.extensions import db
from zarts.models import Client, Lead, User, today, utcnow

PASSWORD = "correct horse battery"
_HASH = None
_seq = itertools.count(1)


def password_hash() -> str:
    global _HASH
    if _HASH is None:
        _HASH = hash_password(PASSWORD)
    return _HASH


class Make:
    def user(self, role: str = "growth_ops", *, client=None, email=None, name=None, **kw) -> User:
        n = next(_seq)
        if role == "client" and client is None:
            client = self.client()
        user = User(
            email=email or f"{role}{n}@zarts.test",
            name=name or f"{role.title()} {n}",
            role=role,
            client_id=client.id if client is not None else None,
            password_hash=password_hash(),
            **kw,
        )
        db.session.add(user)
        db.session.flush()
        return user

    def client(self, name=None, **kw) -> Client:
        c = Client(name=name or f"Client {next(_seq)}", **kw)
        db.session.add(c)
        db.session.flush()
        return c

    def lead(self, owner=None, **kw) -> Lead:
        """A new lead with every qualification field filled (so `qualified` passes its gate)."""
        n = next(_seq)
        if owner is None:
            owner = self.user("growth_ops")
        fields = dict(
            title=f"Lead {n}",
            company=f"Company {n}",
            contact_name=f"Contact {n}",
            contact_email=f"contact{n}@example.test",
            contact_path="email, then a call",
            source="referral",
            source_context="Met at the spring meetup",
            service="seo",
            service_fit="strong",
            urgency="high",
            decision_owner="CMO",
            budget_signal="5-8k / month",
            next_action="Call to qualify",
            next_action_due=today() + timedelta(days=2),
            consent="granted",
            consent_recorded_at=utcnow(),
            owner_id=owner.id,
        )
        fields.update(kw)
        lead = Lead(**fields)
        db.session.add(lead)
        db.session.flush()
        return lead


@pytest.fixture
def make(app_context_any):
    return Make()


@pytest.fixture
def app_context_any(request):
    """Builders work with whichever app fixture the test uses (SQLite `app` or `pg_app`)."""
    if "pg_app" in request.fixturenames:
        return request.getfixturevalue("pg_app")
    return request.getfixturevalue("app")


SCOPE = [
    {"kind": "included", "title": "Technical SEO audit fixes"},
    {"kind": "included", "title": "Monthly content plan"},
    {"kind": "excluded", "title": "Paid media management"},
    {"kind": "add_on", "title": "Landing page copy", "price_cents": 90000},
    {"kind": "assumption", "title": "Client gives CMS access in week 1"},
    {"kind": "dependency", "title": "Analytics property exists"},
]


class Journey:
    """Drives a lead along the path through the domain layer, as users would."""

    def __init__(self, make: Make):
        self.make = make
        self.approver = None

    def _approver(self):
        if self.approver is None:
            self.approver = self.make.user("approver")
        return self.approver

    PATH = ["qualified", "discovery", "audit", "proposal", "contract", "accepted", "won"]

    def to(self, lead, stage: str):
        """Move `lead` along the path until it reaches `stage` (or 'accepted': proposal accepted)."""
        for step in self.PATH[: self.PATH.index(stage) + 1]:
            if not self._reached(lead, step):
                getattr(self, f"_{step}")(lead)
        db.session.flush()
        return lead

    def _reached(self, lead, step):
        from zarts.domain.gates import live_proposal

        if step == "accepted":
            p = live_proposal(db.session, lead.id)
            return lead.stage == "won" or (p is not None and p.status == "accepted")
        order = self.PATH
        current = "won" if lead.stage == "won" else lead.stage
        return current in order and order.index(current) >= order.index(step) and current != "new"

    @property
    def due(self):
        return today() + timedelta(days=3)

    def _qualified(self, lead):
        from zarts.domain import pipeline

        pipeline.move(db.session, lead, "qualified", lead.owner, lead.version, next_action_due=self.due)

    def _discovery(self, lead):
        from zarts.domain import pipeline

        pipeline.move(db.session, lead, "discovery", lead.owner, lead.version, next_action_due=self.due)

    def _audit(self, lead):
        from zarts.domain import pipeline

        pipeline.log_discovery(
            db.session,
            lead,
            lead.owner,
            lead.version,
            pain_points="Leads go cold in 48h",
            current_lead_flow="Web form to shared inbox",
            provider_stack="HubSpot, Google Ads\nGA4",
            decision_criteria="Cost per qualified lead",
        )
        pipeline.move(db.session, lead, "audit", lead.owner, lead.version, next_action_due=self.due)

    def complete_audit(self, lead):
        from zarts.domain import audits

        audit = audits.start_audit(db.session, lead, lead.owner)
        audits.save_audit(
            db.session,
            audit,
            lead.owner,
            audit.version,
            findings="Forms lose 30% on mobile",
            baseline_figures="CPL 84 EUR; 120 leads/month",
            raw_notes="Raw: call notes",
            client_summary="Your mobile form loses about a third of visitors.",
        )
        self.add_evidence(audit)
        return audits.complete_audit(db.session, audit, lead.owner, audit.version)

    def add_evidence(self, audit):
        """A finding and a baseline metric on a draft audit (the evidence claims cite)."""
        from zarts.domain import evidence

        owner = db.session.get(Lead, audit.lead_id).owner
        evidence.add_item(
            db.session,
            audit,
            owner,
            kind="finding",
            raw_note="Raw: form drops on iOS Safari",
            client_text="About 40 % of mobile visitors leave the form.",
        )
        evidence.add_item(
            db.session,
            audit,
            owner,
            kind="baseline",
            metric="cost per lead",
            value="84",
            unit="EUR",
            period="Sep 2026",
            source="Google Ads export",
            better="lower",
            client_text="Your cost per lead was 84 EUR in September.",
        )

    def cite(self, proposal):
        """Every claim of a draft cites every evidence item of the lead's completed audit."""
        from zarts.domain import citations, claims, gates

        audit = gates.completed_audit(db.session, proposal.lead_id)
        ids = [item.id for item in audit.items]
        keys = {claim.key: ids for claim in claims.claims_of(proposal)}
        if keys and ids:
            citations.cite(db.session, proposal, proposal.lead.owner, None, keys)
        return proposal

    def _proposal(self, lead):
        from zarts.domain import pipeline

        self.complete_audit(lead)
        pipeline.move(db.session, lead, "proposal", lead.owner, lead.version, next_action_due=self.due)

    def draft(self, lead, **fields):
        from zarts.domain import proposals

        data = dict(
            title="Growth plan",
            summary="A 3-month plan",
            price_cents=450000,
            timeline="12 weeks",
            expected_improvement="CPL down 20% in 90 days",
            contract_language="Standard MSA, 30 days notice",
            items=SCOPE,
        )
        data.update(fields)
        return self.cite(proposals.draft_proposal(db.session, lead, lead.owner, **data))

    def approve_all(self, proposal):
        from zarts.domain import approvals, proposals

        for a in proposals.request_approvals(db.session, proposal, proposal.lead.owner):
            approvals.decide(db.session, a, self._approver(), a.version, approve=True)

    def send(self, proposal):
        from zarts.domain import proposals

        return proposals.send_proposal(
            db.session,
            proposal,
            proposal.lead.owner,
            proposal.version,
            follow_up_date=today() + timedelta(days=2),
            decision_deadline=today() + timedelta(days=14),
        )

    def _contract(self, lead):
        p = self.draft(lead)
        self.approve_all(p)
        self.send(p)

    def contact(self, lead):
        return (
            db.session.execute(db.select(User).filter_by(client_id=lead.client_id, role="client"))
            .scalars()
            .first()
        )

    def _accepted(self, lead):
        from zarts.domain import proposals
        from zarts.domain.gates import live_proposal

        p = live_proposal(db.session, lead.id)
        add_on = next(i["id"] for i in p.snapshot["items"] if i["kind"] == "add_on")
        proposals.accept_proposal(db.session, p, self.contact(lead), p.version, add_on_ids=[add_on])

    def sign(self, lead):
        from zarts.domain import contracts

        c = contracts.contract_for(db.session, lead)
        return contracts.update_contract(
            db.session,
            lead,
            lead.owner,
            c.version,
            state="signed",
            payment_state="invoiced",
            kickoff_date=today() + timedelta(days=7),
            onboarding_owner_id=self.make.user("delivery").id,
        )

    def _won(self, lead):
        from zarts.domain import pipeline

        self.sign(lead)
        pipeline.mark_won(db.session, lead, lead.owner, lead.version)


@pytest.fixture
def journey(make):
    return Journey(make)
