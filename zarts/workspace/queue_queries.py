"""Prepared reads of the work queues: the approvals queue and my tasks (see `queries` for the rules)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..models import Approval, Audit, Lead, Proposal, Task, today
from ..statements import PREPARE_NOW
from .queries import _fixed

# ---------------------------------------------------------------- approvals queue


@dataclass
class QueueItem:
    approval: Approval
    evidence: Audit | None

    @property
    def claims(self) -> list[tuple]:
        """The claims this approval backs, each beside the evidence items it cites (claim, citations):
        the approver approves the pair (issue 21)."""
        from ..domain.claims import citations_of, claims_of

        proposal, kind = self.approval.proposal, self.approval.kind
        wanted = {"claim": ("expected_improvement",), "timeline": ("timeline",), "scope": ("item",)}.get(kind)
        if proposal is None or wanted is None:
            return []
        return [
            (claim, citations_of(proposal, claim)) for claim in claims_of(proposal) if claim.kind in wanted
        ]

    @property
    def changes(self) -> dict | None:
        proposal = self.approval.proposal
        if proposal is None or proposal.previous is None:
            return None
        return proposal_changes(proposal.previous, proposal)


def proposal_changes(before: Proposal, after: Proposal) -> dict:
    """What changed between two versions: scope items added/removed and the approved parts."""

    def keyed(p):
        return {(i.kind, i.title): i for i in p.items}

    old, new = keyed(before), keyed(after)
    fields = []
    for name, label in (
        ("price_cents", "Price"),
        ("timeline", "Timeline"),
        ("expected_improvement", "Expected improvement"),
        ("contract_language", "Contract language"),
    ):
        a, b = getattr(before, name), getattr(after, name)
        if a != b:
            fields.append((label, name, a, b))
    return {
        "number": before.number,
        "added": [new[k] for k in new if k not in old],
        "removed": [old[k] for k in old if k not in new],
        "fields": fields,
    }


QUEUE_LIMIT = 20  # pending approvals per page: each shows its content, changes and evidence in full


def approvals_queue(session: Session, limit: int = QUEUE_LIMIT) -> dict:
    """The oldest pending approvals beside the audit evidence behind them, and recent decisions.

    `more` says whether others wait behind these (they come up as these are decided). The proposals
    (with the version each one changes and both versions' items) come in statements of their own:
    one statement joining all eight tables costs PostgreSQL more to plan than to run.
    """
    # Seven tables joined: planning costs ten times the run (~15 ms against 1.5 ms at a million
    # leads), so the statement carries no parameters and is prepared at once: planned once per
    # connection (zarts.statements).
    pending = (
        session.execute(
            sa.select(Approval)
            .where(Approval.state == _fixed("pending"))
            .options(
                joinedload(Approval.lead),
                joinedload(Approval.requested_by),
                joinedload(Approval.audit),
                joinedload(Approval.report),
                joinedload(Approval.report_note),
                joinedload(Approval.evidence_item),
            )  # the note: its report's link
            .order_by(Approval.requested_at, Approval.id)
            .limit(_fixed(limit + 1)),
            execution_options=PREPARE_NOW,
        )
        .unique()
        .scalars()
        .all()
    )
    more = len(pending) > limit
    pending = pending[:limit]
    _load_proposals(session, pending)
    evidence = _completed_audits(session, {a.lead_id for a in pending if a.lead_id is not None})
    items = [QueueItem(a, a.audit if a.audit_id is not None else evidence.get(a.lead_id)) for a in pending]
    return {"items": items, "more": more, "decided": recently_decided(session)}


def _load_proposals(session: Session, approvals: list[Approval]) -> None:
    """The approvals' proposals and the versions they follow, with their items, in one statement
    (and one for the items): set on `approval.proposal` and `proposal.previous` as loaded."""
    ids = {a.proposal_id for a in approvals if a.proposal_id is not None}
    if not ids:
        return
    wanted = sa.union(
        sa.select(Proposal.id).where(Proposal.id.in_(ids)),
        sa.select(Proposal.previous_id).where(Proposal.id.in_(ids), Proposal.previous_id.is_not(None)),
    )
    found = {
        p.id: p
        for p in session.execute(
            sa.select(Proposal)
            .where(Proposal.id.in_(wanted))
            .options(
                selectinload(Proposal.items), joinedload(Proposal.citations)
            )  # claims and their evidence
        )
        .unique()
        .scalars()
    }
    for proposal in found.values():
        if proposal.previous_id is None or proposal.previous_id in found:
            set_committed_value(proposal, "previous", found.get(proposal.previous_id))
    for approval in approvals:
        if approval.proposal_id is not None:
            set_committed_value(approval, "proposal", found.get(approval.proposal_id))


def _completed_audits(session: Session, lead_ids: set[int]) -> dict[int, Audit]:
    if not lead_ids:
        return {}
    latest: dict[int, Audit] = {}
    for audit in session.execute(
        sa.select(Audit)
        .where(Audit.lead_id.in_(lead_ids), Audit.status == "completed")
        .order_by(Audit.completed_at)
    ).scalars():
        latest[audit.lead_id] = audit
    return latest


def recently_decided(session: Session, limit: int = 20) -> list[Approval]:
    """The latest decisions (ix_approvals_decided, read backwards from the newest decision time)."""
    return (
        session.execute(
            sa.select(Approval)
            .where(
                Approval.state.in_([_fixed("approved"), _fixed("rejected")]), Approval.decided_at.is_not(None)
            )
            .options(
                joinedload(Approval.lead), joinedload(Approval.decided_by), joinedload(Approval.requested_by)
            )
            .order_by(Approval.decided_at.desc(), Approval.id.desc())
            .limit(_fixed(limit)),
            execution_options=PREPARE_NOW,
        )
        .scalars()
        .all()
    )


def decided_row(session: Session, approval_id: int) -> Approval | None:
    """One decision as the decided list shows it (the answer to a decision made in the queue)."""
    return session.execute(
        sa.select(Approval)
        .where(Approval.id == approval_id)
        .options(joinedload(Approval.lead), joinedload(Approval.decided_by))
    ).scalar_one_or_none()


def queue_item(session: Session, approval_id: int) -> QueueItem | None:
    """One approval as the queue shows it (re-rendered after a decision or a refusal)."""
    approval = session.execute(
        sa.select(Approval)
        .where(Approval.id == approval_id)
        .options(
            joinedload(Approval.lead),
            joinedload(Approval.requested_by),
            joinedload(Approval.audit),
            joinedload(Approval.decided_by),
            joinedload(Approval.report),
            joinedload(Approval.report_note),
            joinedload(Approval.evidence_item),
        )
    ).scalar_one_or_none()
    if approval is None:
        return None
    _load_proposals(session, [approval])
    evidence = approval.audit
    if evidence is None and approval.lead_id is not None:
        evidence = _completed_audits(session, {approval.lead_id}).get(approval.lead_id)
    return QueueItem(approval, evidence)


# ---------------------------------------------------------------- my tasks


TASKS_PER_SECTION = 50  # open tasks shown per section (overdue, today, upcoming), soonest first


class LeadRef(NamedTuple):
    """What a task row shows of its lead: its company, and its id for the link."""

    id: int
    company: str


class TaskLine(NamedTuple):
    """A task as a list row shows it (zarts.workspace.task_rows.task_row): the columns it reads, as
    a tuple, not a Task object with its forty attributes and lazy relations (a list holds 170)."""

    id: int
    kind: str
    title: str
    due: date
    done_at: datetime | None
    version: int
    client_visible: bool
    lead: LeadRef | None


_TASK_LINE = (
    Task.id,
    Task.kind,
    Task.title,
    Task.due,
    Task.done_at,
    Task.version,
    Task.client_visible,
    Lead.id,
    Lead.company,
)


def _task_lines(session: Session, statement) -> list[TaskLine]:
    return [
        TaskLine(*row[:7], LeadRef(row[7], row[8]) if row[7] is not None else None)
        for row in session.execute(statement)
    ]


def my_tasks(session: Session, user_id: int, limit: int = TASKS_PER_SECTION) -> dict:
    """The user's open tasks in three sections, overdue, today and upcoming, each its first `limit`
    by due date (so today's tasks show however many are overdue), and what they ticked lately.
    One statement for the three sections: each reads its own range of ix_tasks_owner_open.
    Rows are `TaskLine` tuples (the page only shows them)."""
    now = today()
    mine = (Task.owner_id == user_id, Task.done_at.is_(None))
    ranges = {"overdue": Task.due < now, "due_today": Task.due == now, "upcoming": Task.due > now}
    ids = sa.union_all(
        *[
            sa.select(inner.c.id)
            for inner in (
                sa.select(Task.id).where(*mine, cond).order_by(Task.due, Task.id).limit(limit + 1).subquery()
                for cond in ranges.values()
            )
        ]
    )
    open_tasks = _task_lines(
        session,
        sa.select(*_TASK_LINE)
        .outerjoin(Lead, Lead.id == Task.lead_id)
        .where(Task.id.in_(ids))
        .order_by(Task.due, Task.id),
    )
    done = _task_lines(
        session,
        sa.select(*_TASK_LINE)
        .outerjoin(Lead, Lead.id == Task.lead_id)
        .where(
            Task.owner_id == user_id,
            Task.done_at.is_not(None),
            Task.done_at >= datetime.combine(today() - timedelta(days=7), datetime.min.time()),
        )
        .order_by(Task.done_at.desc(), Task.id.desc())
        .limit(20),
    )
    sections = {
        "overdue": [t for t in open_tasks if t.due < now],
        "due_today": [t for t in open_tasks if t.due == now],
        "upcoming": [t for t in open_tasks if t.due > now],
    }
    more = {name: len(items) > limit for name, items in sections.items()}
    return {
        **{name: items[:limit] for name, items in sections.items()},
        "more": more,
        "limit": limit,
        "done": done,
    }


def task(session: Session, task_id: int) -> Task | None:
    return session.execute(
        sa.select(Task).where(Task.id == task_id).options(joinedload(Task.lead))
    ).scalar_one_or_none()
