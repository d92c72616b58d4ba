"""Prepared reads of the portal: one named query function per view, every one scoped to the client.

Each function takes the signed-in contact's `client_id` and filters on it in SQL, so another
client's row is simply not found (the view answers 404). Functions ending in `_row` return the ORM
row a domain call needs; all others return view models (`zarts.portal.views_models`) and are the
only things templates receive.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import (
    Approval,
    Attachment,
    Audit,
    Client,
    Contract,
    Lead,
    Message,
    Project,
    Proposal,
    Report,
    ReportNote,
    Task,
    User,
    today,
)
from ..models.vocab import ITEM_KINDS
from .views_models import (
    ChecklistGroup,
    ChecklistItem,
    FileLine,
    HomePage,
    Progress,
    ProjectCard,
    ProposalLine,
    PromiseLine,
    PromiseRow,
    ProposalPage,
    ReportLine,
    ReportPage,
    ScopeItem,
    SupersededNotice,
    ThreadMessage,
)

CLIENT_VISIBLE_STATUSES = ("sent", "accepted", "declined")
# The team's onboarding work is shown to the client as counts only: staff task titles may be internal.
TEAM_TASK_KINDS = ("onboarding", "connector")
LIST_LIMIT = 100
THREAD_LIMIT = 200


# --- projects and the onboarding checklist ---------------------------------------------------------


def _progress(session: Session, client_id: int, project_ids: list[int]) -> dict[int | None, Progress]:
    """Checklist and team-task counts per project, in two grouped queries."""
    mine = session.execute(
        sa.select(Task.project_id, sa.func.count(Task.id), sa.func.count(Task.done_at))
        .where(Task.client_id == client_id, Task.client_visible.is_(True))
        .group_by(Task.project_id)
    ).all()
    team = (
        session.execute(
            sa.select(Task.project_id, sa.func.count(Task.id), sa.func.count(Task.done_at))
            .where(
                Task.project_id.in_(project_ids),
                Task.client_visible.is_(False),
                Task.kind.in_(TEAM_TASK_KINDS),
            )
            .group_by(Task.project_id)
        ).all()
        if project_ids
        else []
    )
    counts: dict[int | None, dict] = {}
    for pid, total, done in mine:
        counts.setdefault(pid, {}).update(ticked=done, total=total)
    for pid, total, done in team:
        counts.setdefault(pid, {}).update(team_done=done, team_total=total)
    return {pid: Progress(**c) for pid, c in counts.items()}


def _approved_client_text(column):
    """A project's client field, read only while its current wording is approved (else NULL)."""
    return sa.case((Project.client_text_status == "approved", column)).label(column.key)


def project_cards(session: Session, client_id: int, project_id: int | None = None) -> tuple[ProjectCard, ...]:
    q = (
        sa.select(
            Project.id,
            Project.name,
            Project.service,
            Project.status,
            Project.kickoff_date,
            _approved_client_text(Project.client_next_steps),
            _approved_client_text(Project.client_launch_blockers),
        )
        .where(Project.client_id == client_id)
        .order_by(Project.kickoff_date.desc().nulls_last(), Project.id.desc())
        .limit(LIST_LIMIT)
    )
    if project_id is not None:
        q = q.where(Project.id == project_id)
    rows = session.execute(q).all()
    progress = _progress(session, client_id, [r.id for r in rows])
    return tuple(
        ProjectCard(
            id=r.id,
            name=r.name,
            service=r.service,
            status=r.status,
            kickoff_date=r.kickoff_date,
            next_steps=r.client_next_steps,
            launch_blockers=r.client_launch_blockers,
            progress=progress.get(r.id, Progress()),
        )
        for r in rows
    )


def checklist_groups(
    session: Session, client_id: int, project_id: int | None = None
) -> tuple[ChecklistGroup, ...]:
    """The client's own checklist items, grouped by their project (the client's projects only)."""
    projects = {
        r.id: r.name
        for r in session.execute(
            sa.select(Project.id, Project.name).where(Project.client_id == client_id)
        ).all()
    }
    q = (
        sa.select(Task.id, Task.version, Task.title, Task.due, Task.done_at, Task.project_id)
        .where(Task.client_id == client_id, Task.client_visible.is_(True))
        .order_by(Task.due, Task.id)
    )
    if project_id is not None:
        q = q.where(Task.project_id == project_id)
    items: dict[int | None, list[ChecklistItem]] = {}
    for r in session.execute(q).all():
        pid = r.project_id if r.project_id in projects else None
        items.setdefault(pid, []).append(
            ChecklistItem(
                id=r.id,
                version=r.version,
                title=r.title,
                due=r.due,
                done=r.done_at is not None,
                project_id=pid,
            )
        )
    progress = _progress(session, client_id, list(projects))
    order = [pid for pid in projects if pid in items] + ([None] if None in items else [])
    if project_id is not None and project_id in projects and project_id not in items:
        order = [project_id]
    return tuple(
        ChecklistGroup(
            project_id=pid,
            project_name=projects.get(pid, "Other items"),
            items=tuple(items.get(pid, ())),
            progress=progress.get(pid, Progress())
            if pid is not None
            else Progress(ticked=sum(i.done for i in items[None]), total=len(items[None])),
        )
        for pid in order
    )


def project_exists(session: Session, client_id: int, project_id: int) -> bool:
    return (
        session.execute(
            sa.select(Project.id).where(Project.id == project_id, Project.client_id == client_id)
        ).first()
        is not None
    )


def checklist_task_row(session: Session, client_id: int, task_id: int) -> Task | None:
    """A checklist item the client owns; staff tasks and other clients' items are not found."""
    return session.execute(
        sa.select(Task).where(Task.id == task_id, Task.client_id == client_id, Task.client_visible.is_(True))
    ).scalar_one_or_none()


def checklist_item(session: Session, client_id: int, task_id: int) -> ChecklistItem | None:
    task = checklist_task_row(session, client_id, task_id)
    if task is None:
        return None
    pid = (
        task.project_id
        if task.project_id is not None and project_exists(session, client_id, task.project_id)
        else None
    )
    return ChecklistItem(
        id=task.id,
        version=task.version,
        title=task.title,
        due=task.due,
        done=task.done_at is not None,
        project_id=pid,
    )


def group_progress(session: Session, client_id: int, project_id: int | None) -> Progress:
    if project_id is None:
        return Progress()
    return _progress(session, client_id, [project_id]).get(project_id, Progress())


# --- proposals ------------------------------------------------------------------------------------


def _deadline(proposal_deadline: date | None, snapshot: dict | None) -> date | None:
    # The live deadline is the one the domain enforces (staff may extend it); the snapshot's is the fallback.
    if proposal_deadline is not None:
        return proposal_deadline
    raw = (snapshot or {}).get("decision_deadline")
    return date.fromisoformat(raw) if raw else None


def proposal_lines(
    session: Session, client_id: int, *, awaiting_only: bool = False
) -> tuple[ProposalLine, ...]:
    q = (
        sa.select(
            Proposal.id,
            Proposal.number,
            Proposal.status,
            Proposal.sent_at,
            Proposal.decision_deadline,
            Proposal.snapshot,
            Lead.stage,
        )
        .join(Lead, Lead.id == Proposal.lead_id)
        .where(Lead.client_id == client_id, Proposal.status.in_(CLIENT_VISIBLE_STATUSES))
        .order_by(Proposal.sent_at.desc(), Proposal.id.desc())
        .limit(LIST_LIMIT)
    )
    if awaiting_only:
        q = q.where(Proposal.status == "sent", Lead.stage == "contract")
    out = []
    for r in session.execute(q).all():
        snap = r.snapshot or {}
        deadline = _deadline(r.decision_deadline, snap)
        line = ProposalLine(
            id=r.id,
            number=r.number,
            title=str(snap.get("title") or "Proposal"),
            status=r.status,
            sent_on=r.sent_at.date() if r.sent_at else None,
            decision_deadline=deadline,
            price_cents=snap.get("price_cents"),
            currency=str(snap.get("currency") or "EUR"),
            expired=r.status == "sent" and deadline is not None and deadline < today(),
            closed=r.stage != "contract",
        )
        if not awaiting_only or line.awaiting_decision:
            out.append(line)
    return tuple(out)


def proposal_row(session: Session, client_id: int, proposal_id: int) -> Proposal | None:
    """A version the client received (sent, decided or later superseded); drafts are not found."""
    return session.execute(
        sa.select(Proposal)
        .join(Lead, Lead.id == Proposal.lead_id)
        .where(
            Proposal.id == proposal_id,
            Lead.client_id == client_id,
            Proposal.status.in_(CLIENT_VISIBLE_STATUSES + ("superseded",)),
        )
    ).scalar_one_or_none()


def _scope(snapshot: dict) -> dict[str, tuple[ScopeItem, ...]]:
    scope: dict[str, list[ScopeItem]] = {kind: [] for kind in ITEM_KINDS}
    for raw in snapshot.get("items") or []:
        if raw.get("kind") in scope:
            scope[raw["kind"]].append(
                ScopeItem(
                    id=int(raw["id"]),
                    kind=raw["kind"],
                    title=str(raw["title"]),
                    description=raw.get("description"),
                    price_cents=raw.get("price_cents"),
                )
            )
    return {kind: tuple(items) for kind, items in scope.items()}


def proposal_page(proposal: Proposal, lead_stage: str, chosen=None) -> ProposalPage:
    """The client's view of a sent version, from its frozen snapshot (never the live draft fields).

    `chosen` are the add-on ids ticked on the page (ignored once a decision is recorded).
    """
    snap = proposal.snapshot or {}
    scope = _scope(snap)
    offered = {i.id for i in scope["add_on"]}
    if proposal.status == "accepted":
        picked = frozenset(int(i) for i in proposal.accepted_add_on_ids or ()) & offered
    else:
        picked = frozenset(i for i in (chosen or ()) if i in offered)
    deadline = _deadline(proposal.decision_deadline, snap)
    return ProposalPage(
        id=proposal.id,
        version=proposal.version,
        number=int(snap.get("number") or proposal.number),
        title=str(snap.get("title") or "Proposal"),
        summary=snap.get("summary"),
        service=str(snap.get("service") or ""),
        currency=str(snap.get("currency") or "EUR"),
        price_cents=snap.get("price_cents"),
        timeline=snap.get("timeline"),
        expected_improvement=snap.get("expected_improvement"),
        contract_language=snap.get("contract_language"),
        decision_deadline=deadline,
        status=proposal.status,
        scope=scope,
        chosen_add_on_ids=picked,
        accepted_at=proposal.accepted_at,
        declined_at=proposal.declined_at,
        decline_reason=proposal.decline_reason,
        expired=proposal.status == "sent" and deadline is not None and deadline < today(),
        closed=lead_stage != "contract",
        promises=_promises(snap),
    )


def _promises(snapshot: dict) -> tuple[PromiseLine, ...]:
    """The promises of a sent version with the approved evidence frozen beside them (never a live
    evidence row: a later audit version does not change what the client was sent)."""
    out = []
    for raw in snapshot.get("claims") or []:
        shown = tuple(str(e["client_text"]) for e in raw.get("evidence") or [] if e.get("client_text"))
        out.append(PromiseLine(claim=str(raw.get("claim")), text=str(raw.get("text") or ""), evidence=shown))
    return tuple(out)


def superseded_notice(session: Session, proposal: Proposal) -> SupersededNotice | None:
    """For an old version: where the latest one the client can open is (None when there is none)."""
    latest = session.execute(
        sa.select(Proposal.id, Proposal.number)
        .where(Proposal.lead_id == proposal.lead_id, Proposal.status.in_(CLIENT_VISIBLE_STATUSES))
        .order_by(Proposal.number.desc())
        .limit(1)
    ).first()
    if latest is None:
        return None
    snap = proposal.snapshot or {}
    return SupersededNotice(
        number=proposal.number,
        title=str(snap.get("title") or "Proposal"),
        latest_id=latest.id,
        latest_number=latest.number,
    )


def lead_stage(session: Session, proposal: Proposal) -> str:
    return session.execute(sa.select(Lead.stage).where(Lead.id == proposal.lead_id)).scalar_one()


def audit_summary(session: Session, client_id: int, lead_id: int) -> str | None:
    """What the audit behind a proposal found, as the client may read it: the summary of the lead's
    latest audit whose summary is approved, and only in exactly the wording an approver approved.
    One statement (the audit joined to its approvals); another client's lead finds nothing."""
    rows = session.execute(
        sa.select(Audit.client_summary, Approval.content)
        .join(Lead, Lead.id == Audit.lead_id)
        .join(
            Approval,
            sa.and_(
                Approval.audit_id == Audit.id, Approval.kind == "client_summary", Approval.state == "approved"
            ),
        )
        .where(
            Audit.lead_id == lead_id, Lead.client_id == client_id, Audit.client_summary_status == "approved"
        )
        .order_by(Audit.id.desc(), Approval.id.desc())
    ).all()
    for summary, content in rows:
        if (summary or "").strip() and summary.strip() == content.strip():
            return summary.strip()
    return None


# --- reports --------------------------------------------------------------------------------------


def _published(client_id: int):
    return (Report.client_id == client_id, Report.kind == "client_report", Report.status == "published")


def report_lines(session: Session, client_id: int) -> tuple[ReportLine, ...]:
    rows = session.execute(
        sa.select(Report.id, Report.title, Report.period_start, Report.period_end, Report.published_at)
        .where(*_published(client_id))
        .order_by(Report.published_at.desc(), Report.id.desc())
        .limit(LIST_LIMIT)
    ).all()
    return tuple(
        ReportLine(
            id=r.id,
            title=r.title,
            period_start=r.period_start,
            period_end=r.period_end,
            published_at=r.published_at,
        )
        for r in rows
    )


def _approved_contents(session: Session, column, ids) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for subject_id, content in session.execute(
        sa.select(column, Approval.content).where(
            column.in_(ids), Approval.kind == "client_summary", Approval.state == "approved"
        )
    ).all():
        out.setdefault(subject_id, set()).add(content.strip())
    return out


def report_page(session: Session, client_id: int, report_id: int) -> ReportPage | None:
    """A published report: its summary and notes only in exactly the wording an approver approved."""
    r = session.execute(
        sa.select(
            Report.id,
            Report.title,
            Report.period_start,
            Report.period_end,
            Report.published_at,
            Report.client_summary,
            Report.project_id,
        ).where(Report.id == report_id, *_published(client_id))
    ).first()
    if r is None:
        return None
    summary_ok = _approved_contents(session, Approval.report_id, [r.id]).get(r.id, set())
    summary = r.client_summary if (r.client_summary or "").strip() in summary_ok else None
    notes = session.execute(
        sa.select(ReportNote.id, ReportNote.body)
        .where(
            ReportNote.report_id == r.id,
            ReportNote.visibility == "client_safe",
            ReportNote.status == "approved",
        )
        .order_by(ReportNote.id)
    ).all()
    approved = _approved_contents(session, Approval.report_note_id, [n.id for n in notes]) if notes else {}
    return ReportPage(
        id=r.id,
        title=r.title,
        period_start=r.period_start,
        period_end=r.period_end,
        published_at=r.published_at,
        summary=summary,
        notes=tuple(n.body for n in notes if n.body.strip() in approved.get(n.id, set())),
        promises=_report_promises(session, r.project_id, r.published_at),
    )


def _report_promises(session: Session, project_id: int | None, published_at) -> tuple[PromiseRow, ...]:
    """Promised vs baseline vs measured for the report's project, with what was measured by the time
    the report was published (a published report does not change under the client)."""
    from ..domain.promises import ledger

    if project_id is None:
        return ()
    out = []
    for row in ledger(session, [project_id]).get(project_id, []):
        m = (
            row.measured
            if row.measured is not None and published_at and row.measured.created_at <= published_at
            else None
        )
        shown = type(row)(row.promise, m).as_json()
        out.append(
            PromiseRow(
                claim=shown["claim"],
                metric=shown["metric"],
                unit=shown["unit"],
                baseline=shown["baseline"],
                baseline_period=shown["baseline_period"],
                target=shown["target"],
                measured=shown["measured"],
                measured_period=shown["measured_period"],
                reached=shown["reached"],
            )
        )
    return tuple(out)


# --- messages -------------------------------------------------------------------------------------


def thread(session: Session, client_id: int, viewer_id: int) -> tuple[ThreadMessage, ...]:
    """The client's visible thread, oldest first (the latest THREAD_LIMIT messages)."""
    rows = session.execute(
        sa.select(
            Message.id,
            Message.direction,
            Message.subject,
            Message.body,
            Message.sent_at,
            Message.created_at,
            Message.author_id,
            User.name.label("author_name"),
            User.client_id.label("author_client_id"),
        )
        .outerjoin(User, User.id == Message.author_id)
        .where(Message.client_id == client_id, Message.client_visible.is_(True))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(THREAD_LIMIT)
    ).all()
    out = []
    for r in reversed(rows):
        colleague = r.author_client_id == client_id and r.author_id is not None
        mine = r.author_id == viewer_id
        inbound = r.direction == "inbound"
        if mine:
            label = "You"
        elif colleague:
            label = r.author_name
        else:
            label = "Your organisation" if inbound else "ZartsAlgo team"
        out.append(
            ThreadMessage(
                id=r.id,
                from_label=label,
                mine=mine,
                inbound=inbound,
                subject=None if inbound else r.subject,
                body=r.body,
                sent_at=r.sent_at or r.created_at,
            )
        )
    return tuple(out)


def unread_count(session: Session, client_id: int) -> int:
    """The team's posts in the client's thread that no contact of the client has opened yet."""
    return session.execute(
        sa.select(sa.func.count(Message.id)).where(
            Message.client_id == client_id,
            Message.client_visible.is_(True),
            Message.direction == "outbound",
            Message.read_at.is_(None),
        )
    ).scalar_one()


def latest_lead_row(session: Session, client_id: int) -> Lead | None:
    """The client's most recent opportunity: a client message is linked to it."""
    return session.execute(
        sa.select(Lead)
        .where(Lead.client_id == client_id)
        .order_by(Lead.created_at.desc(), Lead.id.desc())
        .limit(1)
    ).scalar_one_or_none()


# --- home -----------------------------------------------------------------------------------------


def home(session: Session, client_id: int, contact_name: str) -> HomePage:
    name = session.execute(sa.select(Client.name).where(Client.id == client_id)).scalar_one()
    return HomePage(
        client_name=name,
        contact_name=contact_name,
        projects=project_cards(session, client_id),
        open_proposals=proposal_lines(session, client_id, awaiting_only=True),
    )


# --- files (attachments) ----------------------------------------------------------------------------


def _client_files(client_id: int):
    """Approved, not deleted files of the client's own received proposals and of their contracts."""
    proposals = (
        sa.select(Proposal.id)
        .join(Lead, Lead.id == Proposal.lead_id)
        .where(Lead.client_id == client_id, Proposal.status.in_(CLIENT_VISIBLE_STATUSES))
    )
    contracts = (
        sa.select(Contract.id)
        .join(Lead, Lead.id == Contract.lead_id)
        .where(Lead.client_id == client_id, Contract.state.in_(("sent", "signed")))
    )
    return (
        Attachment.deleted_at.is_(None),
        Attachment.client_safe_status == "approved",
        sa.or_(Attachment.proposal_id.in_(proposals), Attachment.contract_id.in_(contracts)),
    )


def client_attachment_row(session: Session, client_id: int, attachment_id: int) -> Attachment | None:
    return session.execute(
        sa.select(Attachment).where(Attachment.id == attachment_id, *_client_files(client_id))
    ).scalar_one_or_none()


def proposal_files(session: Session, client_id: int, proposal_id: int) -> tuple[FileLine, ...]:
    """The approved files of one received proposal (one statement)."""
    rows = session.execute(
        sa.select(Attachment.id, Attachment.filename, Attachment.content_type, Attachment.size_bytes)
        .where(Attachment.proposal_id == proposal_id, *_client_files(client_id))
        .order_by(Attachment.id)
    ).all()
    return tuple(
        FileLine(
            id=r.id, filename=r.filename, content_type=r.content_type.split(";")[0], size_bytes=r.size_bytes
        )
        for r in rows
    )
