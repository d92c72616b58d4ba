"""Approvals: request, approve, reject. Only approvers (and admins) decide; nobody decides their own."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Approval, Lead, Task, User, today, utcnow
from ..models.vocab import APPROVAL_KIND_LABELS
from .errors import Forbidden, Invalid
from .notifications import notify
from .trail import check_version, ensure_task, record_event, require_staff


def _reviewer(session: Session, requester: User) -> User | None:
    """The active approver (not the requester) with the fewest open reviews."""
    open_reviews = (sa.select(sa.func.count(Task.id)).where(Task.owner_id == User.id,
                                                           Task.kind == "proposal_review",
                                                           Task.done_at.is_(None)).scalar_subquery())
    return session.execute(
        sa.select(User).where(User.role.in_(("approver", "admin")), User.active.is_(True),
                              User.id != requester.id)
        .order_by(sa.case((User.role == "approver", 0), else_=1), open_reviews, User.id).limit(1)
    ).scalar_one_or_none()


def request_approval(session: Session, actor: User, *, kind: str, content: str, lead: Lead | None,
                     **subject) -> Approval:
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
    (name, obj), = subject.items()
    column = getattr(Approval, f"{name}_id")
    existing = session.execute(
        sa.select(Approval).where(column == obj.id, Approval.kind == kind,
                                  Approval.state.in_(("pending", "approved")))
    ).scalars().all()
    for old in existing:
        if old.content == content:
            return old
        withdraw(session, old)  # the text changed: the old request no longer covers it
    approval = Approval(kind=kind, content=content, lead_id=lead.id if lead else None,
                        requested_by_id=actor.id, requested_at=utcnow(), **{f"{name}_id": obj.id})
    session.add(approval)
    session.flush()
    # The review is always someone's task: with no other approver, the requester must find one.
    reviewer = _reviewer(session, actor) or actor
    ensure_task(session, key=review_key(approval.id), kind="proposal_review",
                title=f"Review {APPROVAL_KIND_LABELS[kind].lower()}" + (f" for {lead.company}" if lead else ""),
                owner_id=reviewer.id, due=today() + timedelta(days=1), lead_id=lead.id if lead else None)
    notify(session, "approval_requested", approval.id, reviewer.id, actor, approval_id=approval.id)
    if lead is not None:
        record_event(session, lead, "approval_requested", actor, approval_id=approval.id, approval_kind=kind)
    session.flush()
    return approval


def withdraw(session: Session, approval: Approval) -> None:
    """The text an approval covers changed: it no longer covers anything (superseded), and its review,
    if still open, is closed with it (nobody is left reviewing words that are gone)."""
    approval.state = "superseded"
    task = session.execute(sa.select(Task).where(Task.key == review_key(approval.id), Task.done_at.is_(None))) \
        .scalar_one_or_none()
    if task is not None:
        task.done_at = utcnow()


def review_key(approval_id: int) -> str:
    return f"approval:{approval_id}:review"


def decide(session: Session, approval: Approval, actor: User, expected_version: int | None, *,
           approve: bool, comment: str | None = None) -> Approval:
    """Approve or reject a pending approval. A rejection needs a comment. The decision is an event."""
    require_staff(actor, "approver", action="decide approvals")
    check_version(approval, expected_version, "This approval")
    if approval.state != "pending":
        raise Invalid(f"This approval is already {approval.state}.")
    if approval.requested_by_id == actor.id:
        raise Forbidden("Nobody approves their own request: another approver must decide.")
    comment = (comment or "").strip() or None
    if not approve and comment is None:
        raise Invalid("Say why it is rejected: a comment is required.", "comment")
    approval.state = "approved" if approve else "rejected"
    approval.decided_by_id = actor.id
    approval.decided_at = utcnow()
    approval.comment = comment
    task = session.execute(sa.select(Task).where(Task.key == review_key(approval.id))) \
        .scalar_one_or_none()
    if task is not None and task.done_at is None:
        task.done_at, task.done_by_id = utcnow(), actor.id
    _apply_to_subject(session, approval, actor)
    notify(session, "approval_decided", approval.id, approval.requested_by_id, actor, approval_id=approval.id,
           state=approval.state)
    if approval.lead_id is not None:
        lead = session.get(Lead, approval.lead_id)
        record_event(session, lead, "approval_decided", actor, approval_id=approval.id, approval_kind=approval.kind,
                     state=approval.state, comment=comment)
    session.flush()
    return approval


def _apply_to_subject(session: Session, approval: Approval, actor: User) -> None:
    """Client-safe texts become visible only through an approved approval of their exact content."""
    from .publication import on_approval_decided

    on_approval_decided(session, approval, actor)
