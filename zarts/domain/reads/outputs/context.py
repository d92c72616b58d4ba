"""Batch reads for a page of opportunities: one statement per related table, whatever the page size.

`load(session, leads, needs)` returns a Context whose dicts are keyed by lead id. Each loader reads
its table once with `lead_id IN (…)`, so a page's query count depends on the output, never on the
number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from ....models import (
    Approval,
    Audit,
    ClaimCitation,
    Contract,
    Event,
    EvidenceItem,
    Lead,
    Project,
    Proposal,
    ProposalItem,
    Task,
)

# Tasks that make up onboarding (the handoff checklist and the connectors delivery must wire up).
ONBOARDING_KINDS = ("onboarding", "connector")


@dataclass
class TaskTotals:
    onboarding_total: int = 0
    onboarding_done: int = 0
    client_items_total: int = 0
    client_items_done: int = 0
    open_tasks: int = 0
    next_onboarding_due: date | None = None
    next_review_due: date | None = None


@dataclass
class Context:
    proposals: dict[int, list[Proposal]] = field(default_factory=dict)  # oldest version first
    item_counts: dict[int, dict[str, int]] = field(default_factory=dict)  # latest version, by kind
    approvals: dict[int, list[Approval]] = field(default_factory=dict)
    audits: dict[int, Audit] = field(default_factory=dict)  # the completed one, else the newest
    contracts: dict[int, Contract] = field(default_factory=dict)
    projects: dict[int, Project] = field(default_factory=dict)
    tasks: dict[int, TaskTotals] = field(default_factory=dict)
    qualified_at: dict[int, datetime] = field(default_factory=dict)
    evidence: dict[int, list[EvidenceItem]] = field(default_factory=dict)  # the audit's items, by lead
    citations: dict[int, list[ClaimCitation]] = field(default_factory=dict)  # the latest version's, by lead

    def latest(self, lead_id: int) -> Proposal | None:
        versions = self.proposals.get(lead_id)
        return versions[-1] if versions else None

    def live(self, lead_id: int) -> Proposal | None:
        """The version the client holds: the newest sent or accepted one."""
        for p in reversed(self.proposals.get(lead_id, [])):
            if p.status in ("sent", "accepted"):
                return p
        return None

    def task_totals(self, lead_id: int) -> TaskTotals:
        return self.tasks.get(lead_id) or TaskTotals()


def _proposals(session: Session, ids: list[int], ctx: Context) -> None:
    # With their items: the pricing part an approval backs lists every add-on (proposals.part_content).
    rows = session.execute(
        sa.select(Proposal)
        .options(selectinload(Proposal.items), selectinload(Proposal.citations))
        .where(Proposal.lead_id.in_(ids))
        .order_by(Proposal.lead_id, Proposal.number)
    ).scalars()
    for p in rows:
        ctx.proposals.setdefault(p.lead_id, []).append(p)
    latest = (
        sa.select(Proposal.lead_id, sa.func.max(Proposal.number).label("n"))
        .where(Proposal.lead_id.in_(ids))
        .group_by(Proposal.lead_id)
        .subquery()
    )
    counts = session.execute(
        sa.select(Proposal.lead_id, ProposalItem.kind, sa.func.count(ProposalItem.id))
        .join(latest, sa.and_(Proposal.lead_id == latest.c.lead_id, Proposal.number == latest.c.n))
        .join(ProposalItem, ProposalItem.proposal_id == Proposal.id)
        .group_by(Proposal.lead_id, ProposalItem.kind)
    ).all()
    for lead_id, kind, n in counts:
        ctx.item_counts.setdefault(lead_id, {})[kind] = n


def _approvals(session: Session, ids: list[int], ctx: Context) -> None:
    rows = session.execute(
        sa.select(Approval)
        .options(joinedload(Approval.decided_by), joinedload(Approval.requested_by))
        .where(Approval.lead_id.in_(ids))
        .order_by(Approval.id)
    ).scalars()
    for a in rows:
        ctx.approvals.setdefault(a.lead_id, []).append(a)


def _audits(session: Session, ids: list[int], ctx: Context) -> None:
    for audit in session.execute(sa.select(Audit).where(Audit.lead_id.in_(ids)).order_by(Audit.id)).scalars():
        current = ctx.audits.get(audit.lead_id)
        # A completed audit is the evidence; a newer draft does not replace it.
        if current is None or audit.status == "completed" or current.status != "completed":
            ctx.audits[audit.lead_id] = audit


def _contracts(session: Session, ids: list[int], ctx: Context) -> None:
    for c in session.execute(
        sa.select(Contract).options(joinedload(Contract.onboarding_owner)).where(Contract.lead_id.in_(ids))
    ).scalars():
        ctx.contracts[c.lead_id] = c


def _projects(session: Session, ids: list[int], ctx: Context) -> None:
    for p in session.execute(
        sa.select(Project).options(joinedload(Project.onboarding_owner)).where(Project.lead_id.in_(ids))
    ).scalars():
        ctx.projects[p.lead_id] = p


def _tasks(session: Session, ids: list[int], ctx: Context) -> None:
    open_ = Task.done_at.is_(None)
    onboarding = Task.kind.in_(ONBOARDING_KINDS)

    def count_if(*cond):
        return sa.func.coalesce(sa.func.sum(sa.case((sa.and_(*cond), 1), else_=0)), 0)

    def min_due_if(*cond):
        return sa.func.min(sa.case((sa.and_(*cond), Task.due), else_=None))

    rows = session.execute(
        sa.select(
            Task.lead_id,
            count_if(onboarding),
            count_if(onboarding, ~open_),
            count_if(Task.client_visible.is_(True)),
            count_if(Task.client_visible.is_(True), ~open_),
            count_if(open_),
            min_due_if(onboarding, open_),
            min_due_if(Task.kind == "proposal_review", open_),
        )
        .where(Task.lead_id.in_(ids))
        .group_by(Task.lead_id)
    ).all()
    for lead_id, *values in rows:
        ctx.tasks[lead_id] = TaskTotals(*(int(v) for v in values[:5]), *(_as_date(v) for v in values[5:]))


def _as_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])  # SQLite returns MIN() over a CASE as text


def _qualified(session: Session, ids: list[int], ctx: Context) -> None:
    rows = session.execute(
        sa.select(Event.lead_id, sa.func.min(Event.created_at))
        .where(Event.lead_id.in_(ids), Event.kind == "qualified")
        .group_by(Event.lead_id)
    ).all()
    for lead_id, stamp in rows:
        ctx.qualified_at[lead_id] = (
            stamp if isinstance(stamp, datetime) else datetime.fromisoformat(str(stamp))
        )


def _evidence(session: Session, ids: list[int], ctx: Context) -> None:
    """The evidence items of each lead's audit (as `audits` chose it) and what the claims of its
    latest proposal cite: two statements (needs "proposals" and "audits" loaded first)."""
    audit_ids = {a.id: lead_id for lead_id, a in ctx.audits.items()}
    if audit_ids:
        for item in session.scalars(
            sa.select(EvidenceItem)
            .where(EvidenceItem.audit_id.in_(audit_ids))
            .order_by(EvidenceItem.audit_id, EvidenceItem.position, EvidenceItem.id)
        ):
            ctx.evidence.setdefault(audit_ids[item.audit_id], []).append(item)
    latest = {p.id: lead_id for lead_id in ids if (p := ctx.latest(lead_id)) is not None}
    if latest:
        for c in session.scalars(
            sa.select(ClaimCitation).where(ClaimCitation.proposal_id.in_(latest)).order_by(ClaimCitation.id)
        ):
            ctx.citations.setdefault(latest[c.proposal_id], []).append(c)


LOADERS = {
    "proposals": _proposals,
    "approvals": _approvals,
    "audits": _audits,
    "contracts": _contracts,
    "projects": _projects,
    "tasks": _tasks,
    "qualified": _qualified,
    "evidence": _evidence,
}


def load(session: Session, leads: list[Lead], needs: tuple[str, ...]) -> Context:
    """Read what `needs` names for these leads (nothing at all for an empty page)."""
    ctx = Context()
    ids = [lead.id for lead in leads]
    if ids:
        for name in needs:
            LOADERS[name](session, ids, ctx)
    return ctx


def lead_tasks(session: Session, lead_id: int, limit: int = 200) -> list[Task]:
    """One opportunity's tasks (open first, then by due date), with their owners."""
    return list(
        session.execute(
            sa.select(Task)
            .options(joinedload(Task.owner))
            .where(Task.lead_id == lead_id)
            .order_by(Task.done_at.is_not(None), Task.due, Task.id)
            .limit(limit)
        ).scalars()
    )
