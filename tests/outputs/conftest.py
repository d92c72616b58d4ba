"""Outputs fixtures: a signed-in client per user, one opportunity at every stage, and a won deal whose every
internal field carries a CANARY marker (client-safe texts carry SAFE markers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from zarts.domain import approvals, audits, contracts, pipeline, projects, proposals, publication
from zarts.domain.gates import completed_audit, live_proposal
from zarts.extensions import db
from zarts.models import Connector, Project, Proposal, Report, Task, today


class RequestClient(FlaskClient):
    """Every request in its own app context, as in production (no session shared with the test)."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(autouse=True)
def _own_request_contexts(app_context_any):
    app_context_any.test_client_class = RequestClient


@pytest.fixture
def as_user(app_context_any):
    """`as_user(user)`: a test client signed in as `user` (committed first)."""

    def sign_in(user):
        db.session.commit()  # requests run in their own sessions: the user must be committed
        client = app_context_any.test_client()
        with client.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
        return client

    return sign_in


STAGES = ("new", "qualified", "discovery", "audit", "proposal", "contract", "accepted", "won", "lost")


@dataclass
class Pipeline:
    owner: object
    leads: dict = field(default_factory=dict)  # stage name (incl. "accepted") -> Lead


@pytest.fixture
def pipeline_world(make, journey):
    """One lead per stage, all owned by "Olga Owner", driven there through the domain; committed."""
    owner = make.user("growth_ops", name="Olga Owner")
    world = Pipeline(owner=owner)
    for stage in STAGES:
        lead = make.lead(owner=owner, title=f"Lead at {stage}", company=f"{stage.title()} Ltd")
        if stage == "lost":
            journey.to(lead, "qualified")
            pipeline.mark_lost(
                db.session,
                lead,
                owner,
                lead.version,
                lost_reason="price",
                reactivation_date=today() + timedelta(days=60),
            )
        elif stage != "new":
            journey.to(lead, stage)
        world.leads[stage] = lead
    db.session.commit()
    return world


# ---------------------------------------------------------------- the canary deal

CANARY_FIELDS = (
    "CANARY-raw-notes",
    "CANARY-provider-caveats",
    "CANARY-pricing-assumptions",
    "CANARY-internal-notes",
    "CANARY-contract-launch-blockers",
    "CANARY-discovery-notes",
    "CANARY-report-note-internal",
    "CANARY-audit-note-internal",
    "CANARY-report-note-unapproved",
    "CANARY-task-notes",
    "CANARY-approval-comment",
    "CANARY-project-launch-blockers",
    "CANARY-handoff-notes",
    "CANARY-connector-notes",
)
SAFE_TEXTS = (
    "SAFE-title-v2",
    "SAFE-summary",
    "SAFE-included",
    "SAFE-excluded",
    "SAFE-addon",
    "SAFE-assumption",
    "SAFE-dependency",
    "SAFE-new-included",
    "SAFE-timeline-v2",
    "SAFE-claim",
    "SAFE-terms",
    "SAFE-client-launch-blockers",
    "SAFE-audit-summary",
    "SAFE-report-note",
    "SAFE-checklist-item",
)


def _items(extra=()):
    return [
        {"kind": "included", "title": "SAFE-included", "description": "SAFE-included-desc"},
        {"kind": "excluded", "title": "SAFE-excluded"},
        {"kind": "add_on", "title": "SAFE-addon", "price_cents": 90000},
        {"kind": "assumption", "title": "SAFE-assumption"},
        {"kind": "dependency", "title": "SAFE-dependency"},
        *extra,
    ]


@dataclass
class CanaryDeal:
    lead: object
    owner: object
    v1: Proposal
    v2: Proposal
    project: Project


def _approve_all(proposal, approver, comment=None):
    for a in proposals.request_approvals(db.session, proposal, proposal.lead.owner):
        approvals.decide(db.session, a, approver, a.version, approve=True, comment=comment)


@pytest.fixture
def canary_deal(make, journey):
    """A won deal with two sent versions, every internal text a CANARY and every client-safe text SAFE."""
    s = db.session
    owner = make.user("growth_ops", name="Olga Owner")
    approver = make.user("approver", name="Alex Approver")
    journey.approver = approver
    lead = make.lead(owner=owner, title="Canary deal", company="Canary Co")
    journey.to(lead, "proposal")
    pipeline.update_lead(s, lead, owner, lead.version, discovery_notes="CANARY-discovery-notes")
    audit = completed_audit(s, lead.id)
    audit.raw_notes, audit.provider_caveats = "CANARY-raw-notes", "CANARY-provider-caveats"
    audits.save_audit(s, audit, owner, audit.version, client_summary="SAFE-audit-summary")
    for a in [audits.request_summary_approval(s, audit, owner)]:
        approvals.decide(s, a, approver, a.version, approve=True)
    publication.add_note(s, owner, body="CANARY-audit-note-internal", visibility="internal", audit=audit)

    v1 = proposals.draft_proposal(
        s,
        lead,
        owner,
        title="SAFE-title-v1",
        summary="SAFE-summary",
        price_cents=450000,
        timeline="SAFE-timeline-v1",
        expected_improvement="SAFE-claim",
        contract_language="SAFE-terms",
        pricing_assumptions="CANARY-pricing-assumptions",
        internal_notes="CANARY-internal-notes",
        items=_items(),
    )
    journey.cite(v1)  # every promise cites its proof (issue 21)
    _approve_all(v1, approver, comment="CANARY-approval-comment")
    journey.send(v1)
    v2 = proposals.revise_proposal(
        s,
        v1,
        owner,
        v1.version,
        title="SAFE-title-v2",
        price_cents=480000,
        timeline="SAFE-timeline-v2",
        items=_items([{"kind": "included", "title": "SAFE-new-included"}]),
    )
    _approve_all(v2, approver, comment="CANARY-approval-comment")
    journey.send(v2)
    c = contracts.contract_for(s, lead)
    contracts.update_contract(
        s,
        lead,
        owner,
        c.version,
        launch_blockers="CANARY-contract-launch-blockers",
        client_launch_blockers="SAFE-client-launch-blockers",
    )
    journey.to(lead, "won")

    project = s.execute(sa.select(Project).where(Project.lead_id == lead.id)).scalar_one_or_none()
    if project is None:  # the handoff job did not run here: make the project it would make
        project = Project(
            client_id=lead.client_id,
            lead_id=lead.id,
            proposal_id=v2.id,
            service=lead.service,
            scope_snapshot=v2.snapshot,
            name="Canary Co — SEO",
            kickoff_date=today() + timedelta(days=7),
        )
        s.add(project)
        s.flush()
    project.launch_blockers, project.handoff_notes = "CANARY-project-launch-blockers", "CANARY-handoff-notes"
    projects.update_project(
        s, project, owner, project.version, client_launch_blockers="SAFE-client-launch-blockers"
    )
    a = projects.request_project_text_approval(s, project, owner)
    approvals.decide(s, a, approver, a.version, approve=True)
    s.add(Connector(project_id=project.id, name="HubSpot-connector", notes="CANARY-connector-notes"))
    s.add(
        Task(
            kind="onboarding",
            title="SAFE-checklist-item",
            owner_id=owner.id,
            due=today() + timedelta(days=3),
            lead_id=lead.id,
            project_id=project.id,
            client_id=lead.client_id,
            client_visible=True,
        )
    )
    report = Report(
        kind="client_report",
        title="SAFE-report",
        client_id=lead.client_id,
        project_id=project.id,
        lead_id=lead.id,
        owner_id=owner.id,
        internal_body="CANARY-report-internal-body",
    )
    s.add(report)
    s.flush()
    publication.add_note(s, owner, body="CANARY-report-note-internal", visibility="internal", report=report)
    publication.add_note(
        s, owner, body="CANARY-report-note-unapproved", visibility="client_safe", report=report
    )
    safe = publication.add_note(s, owner, body="SAFE-report-note", visibility="client_safe", report=report)
    a = publication.request_note_approval(s, safe, owner)
    approvals.decide(s, a, approver, a.version, approve=True)
    for task in s.scalars(sa.select(Task).where(Task.lead_id == lead.id)):
        task.notes = "CANARY-task-notes"
    s.commit()
    assert live_proposal(s, lead.id).id == v2.id
    return CanaryDeal(lead=lead, owner=owner, v1=v1, v2=v2, project=project)


class InternalChecker(HTMLParser):
    """Records each text chunk with whether it sits inside an element of class `internal`."""

    VOID = frozenset({"br", "img", "input", "meta", "link", "hr", "wbr", "source", "col", "area", "base"})

    def __init__(self):
        super().__init__()
        self.stack: list[bool] = []
        self.chunks: list[tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        self.stack.append("internal" in classes or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if data.strip():
            self.chunks.append((data, bool(self.stack) and self.stack[-1]))


def texts_outside_internal(html: str) -> str:
    parser = InternalChecker()
    parser.feed(html)
    return "\n".join(text for text, internal in parser.chunks if not internal)
