"""Email delivery of a logged message through SMTP_URL (smtp://, smtp+starttls://, smtps://; user:pass@ optional)."""

from __future__ import annotations

import secrets
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from ..auth.tokens import body_with_link
from ..models import Message, User, utcnow
from .errors import Permanent
from .faults import fault


class MailConfigError(Exception):
    pass


def deliver(session: Session, message_id: int) -> str:
    """Email one message once: a message already sent is not sent again. Marks it sent.

    Exactly once, as far as SMTP allows: the attempt (with the message's Message-ID, made on the
    first attempt and kept) is committed before the SMTP transaction, and the outcome after it. A
    re-drive of a message whose attempt was recorded but not its outcome (the worker died, or the
    database connection dropped, between the two) is not sent again when the SMTP server is known to
    have accepted it (noted in Redis the moment it did: `_accepted`); otherwise it is sent again with
    the same Message-ID, which mail clients show once.

    A message carrying an invite or reset link (`link_purpose`) is stored with a placeholder: the link
    is minted here, for the active account the message is addressed to, and exists readable only in
    the email sent. Its hash is committed before sending, so the link works as soon as the email is
    out; a retry spends the link of the earlier attempt (it may have reached the inbox) and mints
    another, under a new Message-ID (folded into the earlier one, a dead link could be what shows).
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
    again = msg.email_attempted_at is not None
    if again and msg.mail_message_id and _accepted(msg.mail_message_id):
        msg.email_status = "sent"
        session.commit()
        return f"message {msg.id} was accepted by SMTP on an earlier attempt: marked sent, not sent again"
    if msg.mail_message_id is None or (again and msg.link_purpose):
        msg.mail_message_id = _new_message_id(msg.id)
    body = msg.body
    if msg.link_purpose:
        user = session.execute(sa.select(User).where(User.email == msg.to_email)).scalar_one_or_none()
        if user is None or not user.active:
            raise Permanent(f"message {message_id} is for no active account: its link is not sent")
        body = body_with_link(session, msg, user)
    from .mail_in import reply_to_for

    reply_to = reply_to_for(session, msg)
    files = attachments_for(session, msg)
    msg.email_attempted_at = utcnow()
    session.commit()  # the attempt and its Message-ID, before the SMTP transaction
    send(
        url,
        current_app.config["MAIL_FROM"],
        msg.to_email,
        msg.subject,
        body,
        message_id=msg.mail_message_id,
        reply_to=reply_to,
        attachments=files,
    )
    _note_accepted(msg.mail_message_id)
    msg.email_status = "sent"
    fault("deliver_email", "sent", session)  # tests: the connection drops between send and commit
    session.commit()
    return f"emailed message {msg.id}" + (" again, same Message-ID" if again and not msg.link_purpose else "")


def attachments_for(session: Session, msg: Message) -> list[tuple[str, str, bytes]]:
    """The files an email carries, made when it is delivered: (filename, content type, bytes) from each
    provider the app registered in `app.extensions["zarts.mail_attachments"]` (e.g. the portal's
    proposal PDF), so this job does not import the web packages that know how to print them."""
    files = []
    for provider in current_app.extensions.get("zarts.mail_attachments", ()):
        files.extend(provider(session, msg))
    return files


def _new_message_id(message_id: int) -> str:
    """A Message-ID for message `message_id`: short enough never to be folded across header lines,
    in the domain of MAIL_FROM."""
    domain = current_app.config["MAIL_FROM"].rpartition("@")[2].strip(" >") or "zarts.invalid"
    return f"<zarts-message-{message_id}.{secrets.token_hex(8)}@{domain}>"


# How long Redis remembers that SMTP accepted a message (a re-drive comes within minutes).
ACCEPTED_TTL = 7 * 24 * 3600


def _accepted_key(mail_message_id: str) -> str:
    return f"zarts:mail-accepted:{mail_message_id}"


def _note_accepted(mail_message_id: str) -> None:
    """Remember (in Redis, when there is one) that SMTP accepted this Message-ID."""
    if not current_app.config.get("REDIS_URL"):
        return
    import redis

    from .queue import connection

    try:
        connection().set(_accepted_key(mail_message_id), "1", ex=ACCEPTED_TTL)
    except redis.RedisError:  # not known, then: a re-drive sends it again with the same Message-ID
        pass


def _accepted(mail_message_id: str) -> bool:
    if not current_app.config.get("REDIS_URL"):
        return False
    import redis

    from .queue import connection

    try:
        return bool(connection().exists(_accepted_key(mail_message_id)))
    except redis.RedisError:
        return False


def send(
    url: str,
    sender: str,
    to: str,
    subject: str,
    body: str,
    *,
    message_id: str | None = None,
    reply_to: str | None = None,
    timeout: float = 30,
    attachments=(),
) -> None:
    """Send one plain-text email; `reply_to`: the address replies go to (a client thread's, see mail_in);
    `attachments`: (filename, content type, bytes) each."""
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
    for filename, content_type, data in attachments:
        maintype, _, subtype = content_type.partition("/")
        email.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    smtp_class = smtplib.SMTP_SSL if scheme == "smtps" else smtplib.SMTP
    smtp = smtp_class(host, port, timeout=timeout)
    try:
        if scheme == "smtp+starttls":
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(email)
    except BaseException:
        smtp.close()
        raise
    # Accepted (250 after DATA): a failing QUIT must not make it look unsent, and so be sent again.
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
