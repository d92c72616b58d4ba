"""Approval requests: ask an approver to back exactly a text, or withdraw a request whose text changed.

The bottom of the approval flow: publication, proposals, audits, projects and tasks ask and withdraw
here; zarts.domain.approvals decides (and, through publication, applies the decision).
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Approval, Lead, Task, User, today, utcnow
from ..models.vocab import APPROVAL_KIND_LABELS
from .errors import Invalid
from .notifications import notify
from .trail import ensure_task, record_event, require_staff


def _reviewer(session: Session, requester: User) -> User | None:
    """The active approver (not the requester) with the fewest open reviews."""
    open_reviews = (
        sa.select(sa.func.count(Task.id))
        .where(Task.owner_id == User.id, Task.kind == "proposal_review", Task.done_at.is_(None))
        .scalar_subquery()
    )
    return session.execute(
        sa.select(User)
        .where(User.role.in_(("approver", "admin")), User.active.is_(True), User.id != requester.id)
        .order_by(sa.case((User.role == "approver", 0), else_=1), open_reviews, User.id)
        .limit(1)
    ).scalar_one_or_none()


def request_approval(
    session: Session, actor: User, *, kind: str, content: str, lead: Lead | None, **subject
) -> Approval:
    """Ask an approver to back exactly `content`. An identical pending or approved request is reused.

    `subject` is one of proposal=, audit=, report_note=, report=. A review task goes to an approver.
    """
    require_staff(actor, "growth_ops", "delivery", action="request approvals")
    if kind not in APPROVAL_KIND_LABELS:
        raise Invalid("Unknown approval kind.", "kind")
    if not (content or "").strip():
        raise Invalid("There is nothing to approve yet.", "content")
    if len(subject) != 1:
        raise Invalid("An approval covers exactly one subject.")
    ((name, obj),) = subject.items()
    column = getattr(Approval, f"{name}_id")
    existing = (
        session.execute(
            sa.select(Approval).where(
                column == obj.id, Approval.kind == kind, Approval.state.in_(("pending", "approved"))
            )
        )
        .scalars()
        .all()
    )
    for old in existing:
        if old.content == content:
            return old
        withdraw(session, old)  # the text changed: the old request no longer covers it
    approval = Approval(
        kind=kind,
        content=content,
        lead_id=lead.id if lead else None,
        requested_by_id=actor.id,
        requested_at=utcnow(),
        **{f"{name}_id": obj.id},
    )
    session.add(approval)
    session.flush()
    # The review is always someone's task: with no other approver, the requester must find one.
    reviewer = _reviewer(session, actor) or actor
    ensure_task(
        session,
        key=review_key(approval.id),
        kind="proposal_review",
        title=f"Review {APPROVAL_KIND_LABELS[kind].lower()}" + (f" for {lead.company}" if lead else ""),
        owner_id=reviewer.id,
        due=today() + timedelta(days=1),
        lead_id=lead.id if lead else None,
    )
    notify(session, "approval_requested", approval.id, reviewer.id, actor, approval_id=approval.id)
    if lead is not None:
        record_event(session, lead, "approval_requested", actor, approval_id=approval.id, approval_kind=kind)
    session.flush()
    return approval


def withdraw(session: Session, approval: Approval) -> None:
    """The text an approval covers changed: it no longer covers anything (superseded), and its review,
    if still open, is closed with it (nobody is left reviewing words that are gone)."""
    approval.state = "superseded"
    task = session.execute(
        sa.select(Task).where(Task.key == review_key(approval.id), Task.done_at.is_(None))
    ).scalar_one_or_none()
    if task is not None:
        task.done_at = utcnow()


def review_key(approval_id: int) -> str:
    return f"approval:{approval_id}:review"
