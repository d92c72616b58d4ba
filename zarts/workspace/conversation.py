"""Client conversation in the workspace: the reply box under a lead's thread, and the inbox of client
messages still waiting for an answer (oldest first).

Both post through `messaging.post_staff_message`, which checks who may write (SECURITY.md: "write to a
client about a lead": admins and delivery on every lead, growth ops on their own or unowned ones) and
closes the thread's open reply tasks. The inbox lists only what the signed-in user may answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from sqlalchemy.orm import Session, aliased

from ..auth.access import staff_required
from ..domain import Invalid, messaging
from ..extensions import db
from ..models import Client, Lead, Message, Task, User
from . import bp
from .common import actor, attempt, render, text, wants_fragment
from .lead import lead_action

INBOX_LIMIT = 200
WRITERS = ("admin", "delivery", "growth_ops")  # who writes to clients (SECURITY.md)


def may_write(user, lead_owner_id: int | None) -> bool:
    """Whether `user` may write to the client about a lead owned by `lead_owner_id` (shows the reply box;
    the domain decides again on every post)."""
    if user.role not in WRITERS:
        return False
    return user.role != "growth_ops" or lead_owner_id in (None, user.id)


# ---------------------------------------------------------------- the lead page's thread


@bp.post("/leads/<int:lead_id>/thread")
@staff_required
def reply_on_lead(lead_id: int):
    """Reply to the client from the lead page: the page body comes back with the reply in the thread
    and the reply task gone from the open tasks."""

    def send(lead: Lead):
        client = db.session.get(Client, lead.client_id) if lead.client_id is not None else None
        if client is None:
            raise Invalid(
                "This opportunity has no client yet (one is made when a proposal is sent): "
                "nobody can read a reply in the portal.",
                "body",
            )
        messaging.post_staff_message(
            db.session, actor(), client=client, subject="", body=text("body") or "", lead=lead
        )

    return lead_action(lead_id, "thread", send, "Reply sent: the client sees it in the portal.")


# ---------------------------------------------------------------- the inbox


@dataclass(frozen=True, slots=True)
class Waiting:
    """One client message whose reply task is still open."""

    id: int
    body: str
    sent_at: datetime | None
    author_name: str | None
    client_id: int
    client_name: str
    lead_id: int | None
    lead_title: str | None
    task_id: int


def _reply_key():
    return sa.literal("message:") + sa.cast(Message.id, sa.String) + sa.literal(":reply")


def inbox_items(session: Session, user) -> list[Waiting]:
    """Inbound client messages with an open reply task, oldest first, that `user` may answer: growth
    ops those on their own or unowned leads (lead-less ones: of their own or unowned clients); delivery
    and admins all; approvers none (they do not write to clients). One statement."""
    if user.role not in WRITERS:
        return []
    author = aliased(User)
    q = (
        sa.select(
            Message.id,
            Message.body,
            Message.sent_at,
            Message.created_at,
            author.name,
            Client.id,
            Client.name,
            Lead.id,
            Lead.title,
            Task.id,
        )
        .join(Task, sa.and_(Task.key == _reply_key(), Task.kind == "reply", Task.done_at.is_(None)))
        .join(Client, Client.id == Message.client_id)
        .outerjoin(Lead, Lead.id == Message.lead_id)
        .outerjoin(author, author.id == Message.author_id)
        .where(Message.direction == "inbound")
        .order_by(Message.created_at, Message.id)
        .limit(INBOX_LIMIT)
    )
    if user.role == "growth_ops":
        q = q.where(
            sa.or_(
                sa.and_(
                    Message.lead_id.is_not(None), sa.or_(Lead.owner_id.is_(None), Lead.owner_id == user.id)
                ),
                sa.and_(
                    Message.lead_id.is_(None), sa.or_(Client.owner_id.is_(None), Client.owner_id == user.id)
                ),
            )
        )
    return [
        Waiting(
            id=r[0],
            body=r[1],
            sent_at=r[2] or r[3],
            author_name=r[4],
            client_id=r[5],
            client_name=r[6],
            lead_id=r[7],
            lead_title=r[8],
            task_id=r[9],
        )
        for r in session.execute(q).all()
    ]


def render_inbox(*, error=None, error_id: int | None = None, done: str | None = None, status: int = 200):
    items = inbox_items(db.session, actor())
    return render(
        "workspace/partials/inbox.html",
        "workspace/inbox.html",
        status,
        items=items,
        error=error,
        error_id=error_id,
        kept=text("body") if error else None,
        done=done,
        limit=INBOX_LIMIT,
    )


@bp.route("/inbox")
@staff_required
def inbox():
    return render_inbox()


@bp.post("/inbox/reply")
@staff_required
def reply_from_inbox():
    """Answer one waiting message (its id in the form): the reply goes to its client and lead."""
    raw = (request.form.get("message_id") or "").strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        abort(404)
    msg = db.session.get(Message, int(raw))
    if msg is None or msg.direction != "inbound" or msg.client_id is None:
        abort(404)
    client, lead = db.session.get(Client, msg.client_id), msg.lead
    error = attempt(
        lambda: messaging.post_staff_message(
            db.session, actor(), client=client, subject="", body=text("body") or "", lead=lead
        )
    )
    done = f"Reply sent to {client.name}."
    if error is None and not wants_fragment():
        flash(done, "success")
        return redirect(url_for(".inbox"), 303)
    return render_inbox(
        error=error, error_id=msg.id, done=None if error else done, status=error.status if error else 200
    )
