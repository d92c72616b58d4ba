"""Notifications: the bell of the workspace.

A domain function that causes one calls `notify`, which only queues an outbox job in the same
transaction (zarts.jobs.notify writes the row after the commit, never in the request). Opening a
notification or "Mark all read" are the only changes a user makes to their own notifications.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Notification, User, utcnow
from ..models.vocab import NOTIFICATION_KINDS
from .errors import Forbidden
from .trail import enqueue, require_staff


def record(
    session: Session, user: User, *, kind: str, title: str, url: str, lead_id: int | None, key: str
) -> bool:
    """Write one notification for `user` (the notify job, after the commit that caused it). Its key
    makes it once only: INSERT ... ON CONFLICT (key) DO NOTHING. True when it was new."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    row = {
        "user_id": user.id,
        "kind": kind,
        "title": title[:300],
        "url": url[:500],
        "lead_id": lead_id,
        "key": key[:160],
        "created_at": utcnow(),
        "read_at": None,
    }
    statement = insert(Notification).on_conflict_do_nothing(index_elements=["key"]).returning(Notification.id)
    return session.execute(statement, [row]).first() is not None


def notify(session: Session, kind: str, ref, user_id: int | None, actor: User | None = None, **ids) -> None:
    """Queue the job telling `user_id` about `kind` (`ref`: what makes this cause unique, e.g. an id).
    Nobody is told about what they did themselves, and no one is told when nobody is responsible."""
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if user_id is None or (actor is not None and actor.id == user_id):
        return
    key = f"notify:{kind}:{ref}:{user_id}"
    enqueue(
        session,
        "notify",
        key,
        kind=kind,
        user_id=user_id,
        note_key=key.removeprefix("notify:"),
        actor_id=actor.id if actor is not None else None,
        **ids,
    )


def mark_read(session: Session, notification: Notification, actor: User) -> Notification:
    """Open one's own notification: read from now on (opening it again changes nothing)."""
    require_staff(actor, action="read notifications")
    if notification.user_id != actor.id:
        raise Forbidden("This notification is someone else's.")
    if notification.read_at is None:
        notification.read_at = utcnow()
    session.flush()
    return notification


def mark_all_read(session: Session, actor: User) -> int:
    """Every unread notification of the actor read at once; returns how many were unread."""
    require_staff(actor, action="read notifications")
    result = session.execute(
        sa.update(Notification)
        .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount
