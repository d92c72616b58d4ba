"""Portal fixtures: two clients built through the domain layer, with every internal text seeded.

`world` holds client A and client B, each with an open (sent) proposal, a won project with its
onboarding checklist, a published report, a message thread — and a CANARY-<table>-<column> marker in
every internal text field, so a crawl can prove none of them reaches a client. Client-safe texts
carry SAFE-<tag>-… markers: present for their own client, absent for the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from tests.conftest import csrf_token
from zarts.domain import approvals, audits, messaging, pipeline, projects, proposals, publication
from zarts.extensions import db
from zarts.models import (
    Audit,
    Client,
    Connector,
    Contract,
    EvidenceItem,
    Lead,
    Message,
    Project,
    Proposal,
    Report,
    Task,
    User,
    today,
)


class RequestClient(FlaskClient):
    """Every request in its own app context, as in production (no `g` or session shared with the test)."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(autouse=True)
def _own_request_contexts(app):
    app.test_client_class = RequestClient


class Portal:
    """A signed-in client (or staff) session on the portal: `portal.get(url)`, `portal.post(url, data)`."""

    def __init__(self, app, user):
        self.client = app.test_client()
        self.user_id = user.id
        with self.client.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
        self._token = None

    def get(self, url, htmx=False, **kw):
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.get(url, headers=headers, **kw)

    def version_on(self, url, form_action: str | None = None) -> str:
        """The version a page's form carries (the one a user would submit), read from the HTML."""
        html = self.client.get(url).get_data(as_text=True)
        if form_action is not None:
            html = html[html.index(f'action="{form_action}"') :]
        return html.split('name="version" value="', 1)[1].split('"', 1)[0]

    def post(self, url, data=None, htmx=False, **kw):
        if self._token is None:
            self._token = csrf_token(self.client)
        data = dict(data or {})
        data.setdefault("csrf_token", self._token)
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.post(url, data=data, headers=headers, **kw)


@pytest.fixture
def portal_as(app):
    return lambda user: Portal(app, user)


def safe_items(tag: str) -> list[dict]:
    return [
        {"kind": "included", "title": f"SAFE-{tag}-included", "description": f"SAFE-{tag}-included-desc"},
        {"kind": "excluded", "title": f"SAFE-{tag}-excluded"},
        {"kind": "add_on", "title": f"SAFE-{tag}-addon-1", "price_cents": 90000},
        {"kind": "add_on", "title": f"SAFE-{tag}-addon-2", "price_cents": 25000},
        {"kind": "assumption", "title": f"SAFE-{tag}-assumption"},
        {"kind": "dependency", "title": f"SAFE-{tag}-dependency"},
    ]


def safe_texts(tag: str) -> dict:
    return {
        "title": f"SAFE-{tag}-proposal-title",
        "summary": f"SAFE-{tag}-proposal-summary",
        "timeline": f"SAFE-{tag}-timeline",
        "expected_improvement": f"SAFE-{tag}-improvement",
        "contract_language": f"SAFE-{tag}-terms",
        "price_cents": 450000,
        "items": safe_items(tag),
    }


@dataclass
class ClientWorld:
    tag: str
    client: Client
    contact: User
    owner: User
    open_lead: Lead
    open_proposal: Proposal
    won_lead: Lead
    accepted_proposal: Proposal
    project: Project
    checklist: list[Task]
    staff_tasks: list[Task]
    report: Report
    extra: dict = field(default_factory=dict)

    @property
    def add_on_ids(self) -> list[int]:
        return [i["id"] for i in self.open_proposal.snapshot["items"] if i["kind"] == "add_on"]


class WorldBuilder:
    """Builds a client's world through the domain (projects and checklists directly: handoff is elsewhere)."""

    def __init__(self, make, journey):
        self.make = make
        self.journey = journey
        self.approver = make.user("approver", name="CANARY-users-approver_name")
        journey.approver = self.approver

    def client(self, tag: str) -> Client:
        return self.make.client(name=f"SAFE-{tag}-client")

    def lead(self, client: Client, owner: User | None = None, **kw) -> Lead:
        tag = client.name.split("-")[1] if client.name.startswith("SAFE-") else str(client.id)
        kw.setdefault("contact_email", f"contact-{client.id}@client.test")
        kw.setdefault("contact_name", f"SAFE-{tag}-contact")
        return self.make.lead(owner=owner, client_id=client.id, **kw)

    def sent_proposal(self, lead: Lead, **texts) -> Proposal:
        """Lead → contract stage with a sent version 1 (audit, draft, approvals, send: all domain)."""
        self.journey.to(lead, "proposal")
        p = self.journey.draft(lead, **texts)
        self.journey.approve_all(p)
        self.journey.send(p)
        return p

    def revise_and_send(self, proposal: Proposal, **fields) -> Proposal:
        """A new version sent (an existing draft of the next version is revised in place)."""
        from zarts.domain.gates import latest_proposal

        latest = latest_proposal(db.session, proposal.lead_id)
        v2 = proposals.revise_proposal(db.session, latest, proposal.lead.owner, latest.version, **fields)
        self.journey.approve_all(v2)
        self.journey.send(v2)
        return v2

    def contact(self, client: Client) -> User:
        return (
            db.session.execute(
                sa.select(User).where(User.client_id == client.id, User.role == "client").order_by(User.id)
            )
            .scalars()
            .first()
        )

    def won_project(self, lead: Lead, tag: str) -> Project:
        """Win the deal; the handoff (run after the commit, inline without Redis) makes the project."""
        self.journey.to(lead, "won")
        db.session.commit()
        project = db.session.execute(
            sa.select(Project).where(Project.lead_id == lead.id)
        ).scalar_one_or_none()
        if project is None:  # no handoff ran (jobs off): make the project it would make
            accepted = db.session.execute(
                sa.select(Proposal).where(Proposal.lead_id == lead.id, Proposal.status == "accepted")
            ).scalar_one()
            project = Project(
                client_id=lead.client_id,
                lead_id=lead.id,
                proposal_id=accepted.id,
                service=lead.service,
                scope_snapshot=accepted.snapshot,
                name="-",
                kickoff_date=today() + timedelta(days=7),
                status="onboarding",
            )
            db.session.add(project)
        # The client text through the domain: written, then approved (the portal shows it only then).
        projects.update_project(
            db.session,
            project,
            lead.owner,
            project.version,
            name=f"SAFE-{tag}-project",
            client_next_steps=f"SAFE-{tag}-next-steps",
            client_launch_blockers=f"SAFE-{tag}-launch-blockers",
        )
        self.approve(projects.request_project_text_approval(db.session, project, lead.owner))
        db.session.flush()
        return project

    def checklist_item(
        self, project: Project, title: str, *, due_days: int = 3, owner: User | None = None
    ) -> Task:
        task = Task(
            kind="onboarding",
            title=title,
            owner_id=(owner or self.make.user("delivery")).id,
            due=today() + timedelta(days=due_days),
            client_id=project.client_id,
            project_id=project.id,
            lead_id=project.lead_id,
            client_visible=True,
        )
        db.session.add(task)
        db.session.flush()
        return task

    def staff_task(self, project: Project, title: str, *, kind: str = "onboarding") -> Task:
        task = Task(
            kind=kind,
            title=title,
            notes="CANARY-tasks-notes-staff",
            owner_id=self.make.user("delivery").id,
            due=today() + timedelta(days=2),
            client_id=project.client_id,
            project_id=project.id,
            lead_id=project.lead_id,
            client_visible=False,
        )
        db.session.add(task)
        db.session.flush()
        return task

    def published_report(
        self, project: Project, owner: User, *, title: str, summary: str, notes: tuple[str, ...] = ()
    ) -> Report:
        """A client report through the domain: summary approved, client-safe notes approved, published."""
        report = Report(
            kind="client_report",
            title=title,
            client_id=project.client_id,
            project_id=project.id,
            lead_id=project.lead_id,
            owner_id=owner.id,
            cadence="monthly",
            period_start=today() - timedelta(days=30),
            period_end=today() - timedelta(days=1),
            client_summary=summary,
        )
        db.session.add(report)
        db.session.flush()
        for body in notes:
            note = publication.add_note(db.session, owner, body=body, visibility="client_safe", report=report)
            self.approve(publication.request_note_approval(db.session, note, owner))
        self.approve(publication.request_report_approval(db.session, report, owner))
        publication.publish_report(db.session, report, owner, report.version)
        return report

    def approve(self, approval, approve=True, comment=None):
        return approvals.decide(
            db.session, approval, self.approver, approval.version, approve=approve, comment=comment
        )

    def build(self, tag: str) -> ClientWorld:
        client = self.client(tag)
        owner = self.make.user("growth_ops")
        open_lead = self.lead(client, owner)
        open_proposal = self.sent_proposal(open_lead, **safe_texts(tag))
        contact = self.contact(client)
        won_lead = self.lead(client, owner)
        self.sent_proposal(won_lead, **safe_texts(tag))
        project = self.won_project(won_lead, tag)
        accepted = db.session.execute(
            sa.select(Proposal).where(Proposal.lead_id == won_lead.id, Proposal.status == "accepted")
        ).scalar_one()
        checklist = [self.checklist_item(project, f"SAFE-{tag}-check-{n}", due_days=n) for n in (1, 2, 3)]
        staff_tasks = [self.staff_task(project, f"CANARY-tasks-title-staff-{tag}-{n}") for n in (1, 2)]
        report = self.published_report(
            project,
            owner,
            title=f"SAFE-{tag}-report",
            summary=f"SAFE-{tag}-report-summary",
            notes=(f"SAFE-{tag}-report-note",),
        )
        messaging.post_staff_message(
            db.session,
            owner,
            client=client,
            subject=f"SAFE-{tag}-staff-subject",
            body=f"SAFE-{tag}-staff-message",
            lead=won_lead,
        )
        messaging.post_client_message(db.session, contact, f"SAFE-{tag}-client-message", lead=won_lead)
        db.session.flush()
        return ClientWorld(
            tag=tag,
            client=client,
            contact=contact,
            owner=owner,
            open_lead=open_lead,
            open_proposal=open_proposal,
            won_lead=won_lead,
            accepted_proposal=accepted,
            project=project,
            checklist=checklist,
            staff_tasks=staff_tasks,
            report=report,
        )


@pytest.fixture
def builder(make, journey):
    return WorldBuilder(make, journey)


@pytest.fixture
def world(builder, app, tmp_path):
    """Clients A and B, every internal field seeded with a canary; committed (requests run apart)."""
    app.config["ATTACHMENT_FOLDER"] = str(tmp_path / "attachments")
    a, b = builder.build("A"), builder.build("B")
    for w in (a, b):
        seed_canaries(builder, w)
    db.session.commit()
    return a, b


def seed_canaries(builder: WorldBuilder, w: ClientWorld) -> None:
    """Put CANARY-<table>-<column> into every internal text of w's client (domain first, then setup writes)."""
    s, owner, tag = db.session, w.owner, w.tag
    c = f"-{tag}"
    # Proposals: a draft version 2 of the open proposal (never sent), an objection, internal fields.
    proposals.record_objection(
        s, w.open_proposal, owner, w.open_proposal.version, "CANARY-proposals-objection" + c
    )
    proposals.revise_proposal(
        s,
        w.open_proposal,
        owner,
        w.open_proposal.version,
        title="CANARY-proposals-draft_title" + c,
        summary="CANARY-proposals-draft_summary" + c,
        items=[
            {"kind": "included", "title": "CANARY-proposal_items-draft" + c},
            {"kind": "add_on", "title": "CANARY-proposal_items-draft_addon" + c, "price_cents": 1},
        ],
    )
    for p in s.scalars(sa.select(Proposal).join(Lead).where(Lead.client_id == w.client.id)):
        p.pricing_assumptions = "CANARY-proposals-pricing_assumptions" + c
        p.internal_notes = "CANARY-proposals-internal_notes" + c
    # A lead whose proposal was only drafted (never sent).
    draft_lead = builder.lead(w.client, owner)
    builder.journey.to(draft_lead, "proposal")
    builder.journey.draft(
        draft_lead, title="CANARY-proposals-unsent_title" + c, summary="CANARY-proposals-unsent_summary" + c
    )
    w.extra["draft_proposal"] = s.scalars(sa.select(Proposal).where(Proposal.lead_id == draft_lead.id)).one()
    # A lost lead and a paused lead (their notes through the domain).
    lost = builder.lead(w.client, owner)
    pipeline.mark_lost(
        s,
        lost,
        owner,
        lost.version,
        lost_reason="price",
        lost_note="CANARY-leads-lost_note" + c,
        reactivation_date=today() + timedelta(days=90),
    )
    paused = builder.lead(w.client, owner)
    pipeline.move(s, paused, "qualified", owner, paused.version, next_action_due=today() + timedelta(days=3))
    pipeline.pause(s, paused, owner, paused.version, "timing", "CANARY-leads-pause_note" + c)
    for lead in s.scalars(sa.select(Lead).where(Lead.client_id == w.client.id)):
        for col in (
            "title",
            "discovery_notes",
            "pain_points",
            "current_lead_flow",
            "provider_stack",
            "source_context",
            "decision_criteria",
            "budget_signal",
            "decision_owner",
            "contact_path",
            "contact_phone",
            "next_action",
        ):
            setattr(lead, col, f"CANARY-leads-{col}{c}")
    # Audits: evidence, raw notes, caveats and an unapproved client summary; a note on the audit.
    for audit in s.scalars(sa.select(Audit).join(Lead).where(Lead.client_id == w.client.id)):
        for col in ("raw_notes", "provider_caveats", "findings", "baseline_figures", "client_summary"):
            setattr(audit, col, f"CANARY-audits-{col}{c}")
        audit.client_summary_status = "none"
        w.extra["audit"] = audit
        # Its evidence items (issue 21): every internal field, and client wording never approved.
        for item in s.scalars(sa.select(EvidenceItem).where(EvidenceItem.audit_id == audit.id)):
            for col in ("raw_note", "source", "export_note", "provider", "excerpt", "client_text"):
                setattr(item, col, f"CANARY-evidence_items-{col}-{item.id}{c}")
            item.client_safe_status = "none"
    publication.add_note(
        s, owner, body="CANARY-report_notes-audit_note" + c, visibility="client_safe", audit=w.extra["audit"]
    )
    # The open proposal's audit: its client-safe summary approved through the domain (the portal shows
    # it beside the proposal, "Based on your audit").
    s.flush()
    shown = s.scalars(
        sa.select(Audit).where(Audit.lead_id == w.open_lead.id).order_by(Audit.id.desc())
    ).first()
    audits.save_audit(s, shown, owner, shown.version, client_summary=f"SAFE-{tag}-audit-summary")
    builder.approve(audits.request_summary_approval(s, shown, owner))
    # Report notes: internal, client-safe never sent for approval, pending, rejected.
    publication.add_note(
        s, owner, body="CANARY-report_notes-internal" + c, visibility="internal", report=w.report
    )
    publication.add_note(
        s, owner, body="CANARY-report_notes-unapproved" + c, visibility="client_safe", report=w.report
    )
    pending = publication.add_note(
        s, owner, body="CANARY-report_notes-pending" + c, visibility="client_safe", report=w.report
    )
    publication.request_note_approval(s, pending, owner)
    rejected = publication.add_note(
        s, owner, body="CANARY-report_notes-rejected" + c, visibility="client_safe", report=w.report
    )
    builder.approve(
        publication.request_note_approval(s, rejected, owner),
        approve=False,
        comment="CANARY-approvals-comment" + c,
    )
    w.report.internal_body = "CANARY-reports-internal_body" + c
    # Reports the client must not see: a draft, an approved-not-published one, a handoff packet,
    # and a published one whose summary was edited after approval.
    for status, kind in (
        ("draft", "client_report"),
        ("approved", "client_report"),
        ("published", "handoff_packet"),
    ):
        s.add(
            Report(
                kind=kind,
                status=status,
                client_id=w.client.id,
                project_id=w.project.id,
                title=f"CANARY-reports-{kind}_{status}_title{c}",
                client_summary=f"CANARY-reports-{kind}_{status}_summary{c}",
            )
        )
    edited = builder.published_report(
        w.project, owner, title=f"SAFE-{tag}-edited-report", summary=f"SAFE-{tag}-edited-report-original"
    )
    edited.client_summary = "CANARY-reports-client_summary_edited_after_approval" + c
    w.extra["edited_report"] = edited
    # Projects, contracts, connectors, clients.
    w.project.launch_blockers = "CANARY-projects-launch_blockers" + c
    w.project.handoff_notes = "CANARY-projects-handoff_notes" + c
    w.project.scope_snapshot = {"internal": "CANARY-projects-scope_snapshot" + c}
    for contract in s.scalars(sa.select(Contract).join(Lead).where(Lead.client_id == w.client.id)):
        contract.launch_blockers = "CANARY-contracts-launch_blockers" + c
    s.add(
        Connector(
            project_id=w.project.id, name="CANARY-connectors-name" + c, notes="CANARY-connectors-notes" + c
        )
    )
    w.client.notes = "CANARY-clients-notes" + c
    # Tasks: internal notes on the client's own items; every staff task's title (domain-made ones too).
    for task in s.scalars(
        sa.select(Task).where(Task.client_id == w.client.id, Task.client_visible.is_(True))
    ):
        task.notes = "CANARY-tasks-notes-client_item" + c
    lead_ids = sa.select(Lead.id).where(Lead.client_id == w.client.id).scalar_subquery()
    for task in s.scalars(
        sa.select(Task).where(
            Task.client_visible.is_(False), sa.or_(Task.client_id == w.client.id, Task.lead_id.in_(lead_ids))
        )
    ):
        task.title = f"CANARY-tasks-title-{task.id}{c}"
        task.notes = f"CANARY-tasks-notes-{task.id}{c}"
    # Messages that are not client-visible (the invite, internal notes).
    messaging.log_message(
        s,
        subject="CANARY-messages-subject" + c,
        body="CANARY-messages-body" + c,
        channel="phone",
        direction="internal",
        client_id=w.client.id,
        lead_id=w.open_lead.id,
    )
    for msg in s.scalars(
        sa.select(Message).where(Message.client_id == w.client.id, Message.client_visible.is_(False))
    ):
        msg.subject = f"CANARY-messages-subject-{msg.id}{c}"
        msg.body = f"CANARY-messages-body-{msg.id}{c}"
    seed_files(builder, w)
    s.flush()


def seed_files(builder: WorldBuilder, w: ClientWorld) -> None:
    """Files: internal ones (the lead's, the audit's, the proposal's never sent for approval, pending,
    rejected or approved-then-deleted) named and filled with canaries; one approved file of the open
    proposal is client-safe (SAFE-<tag>-file.pdf)."""
    import io

    from zarts.domain import attachments

    s, owner, c = db.session, w.owner, f"-{w.tag}"

    def add(parent, name, body=b""):
        data = (b"%PDF-1.4\n" if name.endswith(".pdf") else b"") + body
        return attachments.add_attachment(
            s, owner, parent, filename=name, stream=io.BytesIO(data or b"x"), max_bytes=10**6
        )

    add(w.open_lead, "CANARY-attachments-lead" + c + ".txt", b"CANARY-attachments-lead-body" + c.encode())
    add(w.extra["audit"], "CANARY-attachments-audit" + c + ".txt", b"CANARY-attachments-audit-body")
    add(w.open_proposal, "CANARY-attachments-unrequested" + c + ".txt", b"CANARY-attachments-body")
    attachments.request_client_copy(
        s, add(w.open_proposal, "CANARY-attachments-pending" + c + ".txt", b"CANARY-attachments-body"), owner
    )
    rejected = add(w.open_proposal, "CANARY-attachments-rejected" + c + ".txt", b"CANARY-attachments-body")
    builder.approve(
        attachments.request_client_copy(s, rejected, owner),
        approve=False,
        comment="CANARY-approvals-file_comment" + c,
    )
    deleted = add(w.open_proposal, "CANARY-attachments-deleted" + c + ".txt", b"CANARY-attachments-body")
    builder.approve(attachments.request_client_copy(s, deleted, owner))
    attachments.delete_attachment(s, deleted, owner)
    shared = add(w.open_proposal, f"SAFE-{w.tag}-file.pdf", f"SAFE-{w.tag}-file-body".encode())
    builder.approve(attachments.request_client_copy(s, shared, owner))


def progress_of(project: Project) -> tuple[int, int, int, int]:
    """(ticked, total) of the client's checklist and (done, total) of the team's onboarding tasks, from the rows."""

    def count(*where):
        return db.session.scalar(
            sa.select(sa.func.count(Task.id)).where(Task.project_id == project.id, *where)
        )

    mine = (Task.client_visible.is_(True), Task.client_id == project.client_id)
    team = (Task.client_visible.is_(False), Task.kind.in_(("onboarding", "connector")))
    return (
        count(*mine, Task.done_at.is_not(None)),
        count(*mine),
        count(*team, Task.done_at.is_not(None)),
        count(*team),
    )


SAFE_SUFFIXES = (
    "client",
    "contact",
    "proposal-title",
    "proposal-summary",
    "timeline",
    "improvement",
    "terms",
    "included",
    "included-desc",
    "excluded",
    "addon-1",
    "addon-2",
    "assumption",
    "dependency",
    "project",
    "next-steps",
    "launch-blockers",
    "check-1",
    "check-2",
    "check-3",
    "report",
    "report-summary",
    "report-note",
    "staff-subject",
    "staff-message",
    "client-message",
    "edited-report",
    "audit-summary",
    "file",
)


def expected_safe(tag: str) -> list[str]:
    return [f"SAFE-{tag}-{s}" for s in SAFE_SUFFIXES]
