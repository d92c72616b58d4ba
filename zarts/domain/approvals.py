"""Approvals: approve or reject. Only approvers (and admins) decide; nobody decides their own.

Requests (and withdrawals) live in zarts.domain.approval_requests, below publication, which applies
a decision to the text it covers: approval_requests <- publication <- approvals, one way.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Approval, Attachment, Lead, Task, User, utcnow
from .approval_requests import request_approval, review_key, withdraw  # noqa: F401 (the public API)
from .attachments import on_client_copy_decided
from .errors import Forbidden, Invalid
from .notifications import notify
from .publication import on_approval_decided
from .trail import check_version, record_event, require_staff


def decide(
    session: Session,
    approval: Approval,
    actor: User,
    expected_version: int | None,
    *,
    approve: bool,
    comment: str | None = None,
) -> Approval:
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
    task = session.execute(sa.select(Task).where(Task.key == review_key(approval.id))).scalar_one_or_none()
    if task is not None and task.done_at is None:
        task.done_at, task.done_by_id = utcnow(), actor.id
    _apply_to_subject(session, approval, actor)
    notify(
        session,
        "approval_decided",
        approval.id,
        approval.requested_by_id,
        actor,
        approval_id=approval.id,
        state=approval.state,
    )
    if approval.lead_id is not None:
        lead = session.get(Lead, approval.lead_id)
        record_event(
            session,
            lead,
            "approval_decided",
            actor,
            approval_id=approval.id,
            approval_kind=approval.kind,
            state=approval.state,
            comment=comment,
        )
    session.flush()
    return approval


def _apply_to_subject(session: Session, approval: Approval, actor: User) -> None:
    """Client-safe texts become visible only through an approved approval of their exact content."""
    on_approval_decided(session, approval, actor)
    if approval.attachment_id is not None:
        on_client_copy_decided(session.get(Attachment, approval.attachment_id), approval)
