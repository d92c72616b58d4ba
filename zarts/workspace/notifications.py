"""The bell: each staff member's own notifications (made by zarts.jobs.notify), an unread count and
the approvals queue's pending count, both loaded by htmx polling so no page pays for them.

A user sees and opens only their own notifications: another user's id is a 404, as if it did not exist.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from sqlalchemy.orm import Session

from ..auth.access import is_safe_next, staff_required
from ..domain import notifications as domain
from ..extensions import db
from ..models import Approval, Notification
from . import bp
from .common import actor, attempt, render, wants_fragment

LIST_LIMIT = 50


# ---------------------------------------------------------------- reads


def unread_count(session: Session, user_id: int) -> int:
    """One COUNT, served by ix_notifications_user_unread (user_id, read_at, id)."""
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def latest(session: Session, user_id: int, limit: int = LIST_LIMIT) -> list[Notification]:
    """The user's newest notifications first (read or not)."""
    return list(
        session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def pending_approvals(session: Session) -> int:
    return (
        session.scalar(sa.select(sa.func.count()).select_from(Approval).where(Approval.state == "pending"))
        or 0
    )


# ---------------------------------------------------------------- views


@bp.route("/notifications")
@staff_required
def notifications():
    me = actor()
    items = latest(db.session, me.id)
    return render(
        "workspace/partials/notifications.html",
        "workspace/notifications.html",
        items=items,
        unread=sum(1 for n in items if n.read_at is None),
        limit=LIST_LIMIT,
    )


@bp.route("/notifications/bell")
@staff_required
def notification_bell():
    """The nav's unread badge (polled every 30 s); reloaded as a page it says the same in words."""
    unread = unread_count(db.session, actor().id)
    return render("workspace/partials/bell.html", "workspace/bell.html", unread=unread, pending=None)


@bp.route("/notifications/pending-approvals")
@staff_required
def approvals_pending():
    """The Approvals link's pending count (polled); only approvers and admins decide, so only they see one."""
    pending = pending_approvals(db.session) if actor().role in ("approver", "admin") else None
    return render(
        "workspace/partials/bell_approvals.html", "workspace/bell.html", pending=pending, unread=None
    )


@bp.post("/notifications/open")
@staff_required
def open_notification():
    """Open one of one's own notifications: marked read, then on to the record it is about."""
    note = _own(request.form.get("notification_id"))
    error = attempt(lambda: domain.mark_read(db.session, note, actor()))
    if error is not None:
        abort(error.status)
    return redirect(note.url if is_safe_next(note.url) else url_for(".notifications"), 303)


@bp.post("/notifications/read-all")
@staff_required
def read_all_notifications():
    made = []
    error = attempt(lambda: made.append(domain.mark_all_read(db.session, actor())))
    if error is not None:
        abort(error.status)
    if not wants_fragment():
        flash("All notifications marked read." if made[0] else "Nothing unread.", "success")
        return redirect(url_for(".notifications"), 303)
    return notifications()


def _own(raw) -> Notification:
    """The actor's notification of that id; anything else (missing, someone else's, not a number): 404."""
    try:
        note_id = int(raw or "")
    except ValueError:
        abort(404)
    note = db.session.get(Notification, note_id)
    if note is None or note.user_id != actor().id:
        abort(404)
    return note
