"""Email delivery of a logged message through SMTP_URL (smtp://, smtp+starttls://, smtps://; user:pass@ optional)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from ..auth.tokens import body_with_link
from ..models import Message, User
from .errors import Permanent


class MailConfigError(Exception):
    pass


def deliver(session: Session, message_id: int) -> str:
    """Email one message once: a message already sent is not sent again. Marks it sent.

    A message carrying an invite or reset link (`link_purpose`) is stored with a placeholder: the link
    is minted here, for the active account the message is addressed to, and exists readable only in
    the email sent. Its hash is committed before sending, so the link works as soon as the email is
    out; a retry spends the link of the earlier attempt (it may have reached the inbox) and mints
    another.
    """

    msg = session.get(Message, message_id)
    if msg is None:
        raise Permanent(f"message {message_id} does not exist")
    if msg.email_status == "sent":
        return "already sent"
    if not msg.to_email:
        raise Permanent(f"message {message_id} has no recipient")
    url = current_app.config.get("SMTP_URL")
    if not url:
        raise Permanent("SMTP_URL is not set")
    body = msg.body
    if msg.link_purpose:
        user = session.execute(sa.select(User).where(User.email == msg.to_email)).scalar_one_or_none()
        if user is None or not user.active:
            raise Permanent(f"message {message_id} is for no active account: its link is not sent")
        body = body_with_link(session, msg, user)
        session.commit()
    from .mail_in import reply_to_for

    send(url, current_app.config["MAIL_FROM"], msg.to_email, msg.subject, body,
         message_id=make_msgid(f"zarts-message-{msg.id}"), reply_to=reply_to_for(session, msg))
    msg.email_status = "sent"
    session.commit()
    return f"emailed message {msg.id}"


def send(url: str, sender: str, to: str, subject: str, body: str, *, message_id: str | None = None,
         reply_to: str | None = None, timeout: float = 30) -> None:
    """Send one plain-text email; `reply_to`: the address replies go to (a client thread's, see mail_in)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps", "smtp+starttls"):
        raise MailConfigError(f"SMTP_URL scheme must be smtp, smtp+starttls or smtps, not {scheme!r}")
    host = parts.hostname or "127.0.0.1"
    port = parts.port or {"smtp": 25, "smtps": 465, "smtp+starttls": 587}[scheme]
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = sender, to, subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = message_id or make_msgid("zarts")
    if reply_to:
        email["Reply-To"] = reply_to
    email.set_content(body)
    smtp_class = smtplib.SMTP_SSL if scheme == "smtps" else smtplib.SMTP
    with smtp_class(host, port, timeout=timeout) as smtp:
        if scheme == "smtp+starttls":
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(email)
