"""Communication records: every outgoing message is rendered from a template, logged as a Message
row and, when SMTP is configured, emailed by a job queued in the same transaction."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, render_template
from sqlalchemy.orm import Session

from ..auth.tokens import PLACEHOLDER, carries_link
from ..models import Client, Lead, Message, Task, User, today, utcnow
from .errors import Forbidden, Invalid
from .notifications import notify
from .trail import enqueue, ensure_task, record_event, require_lead_actor, require_staff

TEMPLATES = (
    "portal_invite",
    "password_reset",
    "reminder",
    "report_notice",
    "handoff_notice",
    "proposal_sent",
)


def render_message(name: str, **context) -> tuple[str, str]:
    """(subject, body) from templates/messages/<name>.txt; the first line is the subject."""
    if name not in TEMPLATES:
        raise ValueError(f"unknown message template {name}")
    context.setdefault("base_url", current_app.config["BASE_URL"].rstrip("/"))
    text = render_template(f"messages/{name}.txt", **context)
    subject, _, body = text.strip().partition("\n")
    return subject.strip(), body.strip() + "\n"


def log_message(
    session: Session,
    *,
    subject: str,
    body: str,
    channel: str = "email",
    direction: str = "outbound",
    lead_id: int | None = None,
    client_id: int | None = None,
    project_id: int | None = None,
    to_email: str | None = None,
    client_visible: bool = False,
    author_id: int | None = None,
    key: str | None = None,
    key_is_new: bool = False,
) -> Message:
    """Record a message once per key; queue its email when SMTP is configured. `key_is_new`: the
    caller knows no message has this key yet (it is not looked up)."""
    if key is not None and not key_is_new:
        existing = session.execute(sa.select(Message).where(Message.key == key)).scalar_one_or_none()
        if existing is not None:
            return existing
    email = bool(to_email) and channel == "email" and bool(current_app.config.get("SMTP_URL"))
    msg = Message(
        subject=subject[:300],
        body=body,
        channel=channel,
        direction=direction,
        lead_id=lead_id,
        client_id=client_id,
        project_id=project_id,
        to_email=to_email,
        client_visible=client_visible,
        author_id=author_id,
        key=key,
        sent_at=utcnow(),
        email_status="pending" if email else "none",
    )
    session.add(msg)
    session.flush()
    if email:
        enqueue(session, "deliver_email", f"email:{msg.id}", message_id=msg.id)
    return msg


def ensure_client_contact(
    session: Session, client: Client, *, email: str | None, name: str | None, lead: Lead | None = None
) -> User | None:
    """The client's portal login for `email`, created (with an invite message) once.

    Returns None when there is no email or the address belongs to someone else (staff or another
    client): such a collision is left for staff to resolve, never merged silently.
    """
    email = (email or "").strip().lower()
    if not email:
        return None
    user = session.execute(sa.select(User).where(User.email == email)).scalar_one_or_none()
    if user is not None:
        return user if user.client_id == client.id else None
    user = User(email=email, name=(name or email)[:120], role="client", client_id=client.id)
    session.add(user)
    session.flush()
    subject, body = render_message("portal_invite", user=user, client=client, link=PLACEHOLDER)
    msg = log_message(
        session,
        subject=subject,
        body=body,
        to_email=email,
        client_id=client.id,
        lead_id=lead.id if lead else None,
        key=f"invite:{user.id}",
    )
    carries_link(session, msg, user, "invite")
    return user


def send_password_reset(session: Session, user: User) -> Message:
    """The reset email; its link is minted when it is sent (zarts.auth.tokens), never stored."""
    subject, body = render_message("password_reset", user=user, link=PLACEHOLDER)
    msg = log_message(session, subject=subject, body=body, to_email=user.email, client_id=user.client_id)
    carries_link(session, msg, user, "reset")
    return msg


def post_staff_message(
    session: Session, actor: User, *, client: Client | None, subject: str, body: str, lead: Lead | None = None
) -> Message:
    """A message from the team to a client's portal thread, authored by `actor` and shown to the client
    as it is: what a staff member writes to a client themselves needs no approval (an approver backs
    texts written about the client, not words said to them). A `message_sent` event on the lead.

    It answers the client's thread: the open reply tasks of this client and lead are closed, and with
    SMTP configured each active contact gets an email copy (a link to the portal, where they reply)."""
    _require_writer(actor, lead, action="write to the client about this opportunity")
    if client is None:
        raise Invalid("Choose the client this message is for.", "client")
    _check_lead_of(client, lead)
    subject, body = (subject or "").strip(), _text(body)
    msg = log_message(
        session,
        subject=subject or "Message from the team",
        body=body,
        channel="portal",
        client_id=client.id,
        lead_id=lead.id if lead else None,
        client_visible=True,
        author_id=actor.id,
    )
    if lead is not None:
        record_event(session, lead, "message_sent", actor, message_id=msg.id, channel="portal")
    _close_reply_tasks(session, actor, client, lead, msg)
    _email_contacts(session, actor, client, msg)
    session.flush()
    return msg


def _close_reply_tasks(
    session: Session, actor: User, client: Client, lead: Lead | None, msg: Message
) -> None:
    """A post to the client answers what they wrote in that thread (the client and the same lead, or
    no lead): its open reply tasks are done, by the author, each with a `task_done` event."""
    tasks = (
        session.execute(
            sa.select(Task)
            .where(
                Task.kind == "reply",
                Task.done_at.is_(None),
                Task.client_id == client.id,
                Task.lead_id == lead.id if lead is not None else Task.lead_id.is_(None),
            )
            .order_by(Task.id)
        )
        .scalars()
        .all()
    )
    for task in tasks:
        task.done_at, task.done_by_id = utcnow(), actor.id
        if lead is not None:
            record_event(session, lead, "task_done", actor, task_id=task.id, done=True, reply_id=msg.id)


def _email_contacts(session: Session, actor: User, client: Client, msg: Message) -> None:
    """With SMTP configured, each active contact of the client gets an email copy of the post (an
    internal record, not part of the thread: no lead, not client-visible). Without SMTP the portal
    thread, with its unread count, is the only way the client hears of it."""
    if not current_app.config.get("SMTP_URL"):
        return
    contacts = (
        session.execute(
            sa.select(User)
            .where(User.client_id == client.id, User.role == "client", User.active.is_(True))
            .order_by(User.id)
        )
        .scalars()
        .all()
    )
    link = current_app.config["BASE_URL"].rstrip("/") + "/portal/messages"
    # With MAIL_REPLY_TO the copy gets its thread's Reply-To when sent (zarts.jobs.mail_in).
    answer = (
        "Reply to this email, or read and answer it"
        if current_app.config.get("MAIL_REPLY_TO")
        else "Read and answer it"
    )
    for contact in contacts:
        body = (
            f"Hello {contact.name},\n\nThe ZartsAlgo team wrote to you:\n\n{msg.body}\n\n"
            f"{answer} in your portal: {link}\n"
        )
        log_message(
            session,
            subject=msg.subject,
            body=body,
            client_id=client.id,
            to_email=contact.email,
            author_id=actor.id,
            key=f"message:{msg.id}:email:{contact.id}",
            key_is_new=True,
        )


def mark_thread_read(session: Session, client_user: User) -> int:
    """The client contact opened their thread: the team's posts to their client are read (read_at set
    once, the first time any contact of the client opens it). Returns how many were unread."""
    if client_user is None or not client_user.is_client or client_user.client_id is None:
        raise Forbidden("Only a client contact reads their thread.")
    result = session.execute(
        sa.update(Message)
        .where(
            Message.client_id == client_user.client_id,
            Message.client_visible.is_(True),
            Message.direction == "outbound",
            Message.read_at.is_(None),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# What staff record besides a portal message: (direction, channel). Said elsewhere, so only logged here
# (never emailed, never shown to the client); a note is for the team alone.
LOGGED_KINDS = {
    "email": ("outbound", "email"),
    "phone": ("outbound", "phone"),
    "meeting": ("outbound", "meeting"),
    "note": ("internal", "system"),
}


def log_communication(
    session: Session,
    actor: User,
    *,
    kind: str,
    subject: str,
    body: str,
    client: Client | None = None,
    lead: Lead | None = None,
) -> Message:
    """A record, authored by `actor`, of an email sent, a call or a meeting held outside the app (a
    `message_sent` event on the lead), or an internal note. Never inbound: what a client said reaches
    the app only from the client (the portal) or in the words of the staff member who logs it."""
    if kind not in LOGGED_KINDS:
        raise Invalid("Choose what you are recording: an email, a call, a meeting or a note.", "kind")
    _require_writer(actor, lead, action="record communication about this opportunity")
    if client is None and lead is None:
        raise Invalid("Choose the opportunity or the client this is about.", "lead")
    if client is None and lead.client_id is not None:
        client = session.get(Client, lead.client_id)
    _check_lead_of(client, lead)
    subject, body = (subject or "").strip(), _text(body)
    if not subject:
        raise Invalid("Give it a subject, e.g. “Call about the audit”.", "subject")
    direction, channel = LOGGED_KINDS[kind]
    msg = log_message(
        session,
        subject=subject,
        body=body,
        channel=channel,
        direction=direction,
        client_id=client.id if client else None,
        lead_id=lead.id if lead else None,
        author_id=actor.id,
    )
    if lead is not None and direction == "outbound":
        record_event(session, lead, "message_sent", actor, message_id=msg.id, channel=channel)
    session.flush()
    return msg


def _require_writer(actor: User | None, lead: Lead | None, *, action: str) -> None:
    """Growth ops and delivery write to clients (admins too); growth ops only on their own leads."""
    if lead is None:
        require_staff(actor, "growth_ops", "delivery", action="write to clients")
    else:
        require_lead_actor(actor, lead, "growth_ops", "delivery", action=action)


def _check_lead_of(client: Client | None, lead: Lead | None) -> None:
    if client is not None and lead is not None and lead.client_id != client.id:
        raise Invalid("This opportunity is not this client's: choose the client's own opportunity.", "lead")


def _text(body: str | None) -> str:
    text = (body or "").strip()
    if not text:
        raise Invalid("Write a message.", "body")
    if len(text) > 10000:
        raise Invalid("Keep the message under 10,000 characters.", "body")
    return text


def post_client_message(session: Session, client_user: User, body: str, *, lead: Lead | None) -> Message:
    """A client writes to the team: a message record and a reply task for the owner."""
    if client_user is None or not client_user.is_client:
        raise Forbidden("Only a client contact posts here.")
    text = (body or "").strip()
    if not text:
        raise Invalid("Write a message before sending.", "body")
    if len(text) > 10000:
        raise Invalid("Keep the message under 10,000 characters.", "body")
    client = session.get(Client, client_user.client_id)
    msg = Message(
        subject=f"Message from {client_user.name}",
        body=text,
        channel="portal",
        direction="inbound",
        client_id=client.id,
        lead_id=lead.id if lead else None,
        client_visible=True,
        author_id=client_user.id,
        sent_at=utcnow(),
    )
    session.add(msg)
    session.flush()
    owner_id = client.owner_id or (lead.owner_id if lead else None)
    if owner_id is None:
        owner_id = session.execute(
            sa.select(User.id).where(User.role == "admin", User.active.is_(True)).order_by(User.id).limit(1)
        ).scalar_one_or_none()
    if owner_id is not None:
        ensure_task(
            session,
            key=f"message:{msg.id}:reply",
            kind="reply",
            title=f"Reply to {client_user.name} ({client.name})",
            owner_id=owner_id,
            due=today(),
            client_id=client.id,
            lead_id=lead.id if lead else None,
        )
        notify(session, "client_message", msg.id, owner_id, message_id=msg.id)
    if lead is not None:
        record_event(session, lead, "message_received", client_user, message_id=msg.id)
    session.flush()
    return msg
