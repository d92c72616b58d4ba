"""Client replies by email: the emailed copy of a staff post carries a per-thread Reply-To, and
`zarts mail-in` posts what comes back to that address onto the client's portal thread.

The address is `<local>+<token>@<domain>` from MAIL_REPLY_TO. The token is the thread (client id,
lead id) signed with SECRET_KEY under a salt of its own: nothing is stored, and it cannot be altered
to reach another client's thread. A reply is posted only when its sender is an active contact of
that very client, as that contact, through the same domain call as the portal (reply task, event,
notification follow). Everything else is moved to the Maildir's `quarantine` folder, never posted.
"""

from __future__ import annotations

import email
import email.policy
import fcntl
import logging
import mailbox
import os
import re
from collections import Counter
from email.utils import getaddresses

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from ..models import Client, Lead, Message, User

log = logging.getLogger("zarts.mail_in")

SALT = "zarts-reply-thread"
# The key post_staff_message gives each contact's email copy of a post: message:<post id>:email:<contact id>.
COPY_KEY = re.compile(r"^message:(\d+):email:\d+$")
# Headers that may name the address the reply was sent to (the MTA adds the last two).
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")


class CannotRun(Exception):
    """mail-in cannot start (no MAIL_REPLY_TO, another run holds the Maildir)."""


class Refused(Exception):
    """Why a reply is quarantined instead of posted (a plain sentence for the log)."""


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _reply_parts() -> tuple[str, str] | None:
    """(local part, domain) of MAIL_REPLY_TO, or None when replies by email are off."""
    address = (current_app.config.get("MAIL_REPLY_TO") or "").strip()
    local, at, domain = address.rpartition("@")
    return (local, domain.lower()) if at and local and domain else None


def reply_address(client_id: int, lead_id: int | None) -> str | None:
    """The Reply-To of one thread, or None without MAIL_REPLY_TO."""
    parts = _reply_parts()
    if parts is None:
        return None
    token = _serializer().dumps([client_id, lead_id])
    return f"{parts[0]}+{token}@{parts[1]}"


def reply_to_for(session: Session, msg: Message) -> str | None:
    """The Reply-To of an email: only a contact's copy of a staff post has one, the address of the
    post's thread (the copy itself has no lead: the thread is read from the post it copies)."""
    match = COPY_KEY.match(msg.key or "")
    if match is None or _reply_parts() is None:
        return None
    post = session.get(Message, int(match.group(1)))
    if post is None or post.client_id is None:
        return None
    return reply_address(post.client_id, post.lead_id)


def read_thread(mail) -> tuple[int, int | None]:
    """The (client id, lead id) of the first reply address among the recipients with a valid token."""
    local, domain = _reply_parts()
    prefix = f"{local}+".lower()
    seen = False
    for _, address in getaddresses([str(v) for h in RECIPIENT_HEADERS for v in (mail.get_all(h) or [])]):
        addr_local, _, addr_domain = address.rpartition("@")
        if addr_domain.lower() != domain or not addr_local.lower().startswith(prefix):
            continue
        seen = True
        try:
            client_id, lead_id = _serializer().loads(addr_local[len(prefix) :])
        except (BadSignature, TypeError, ValueError):
            continue
        if isinstance(client_id, int) and (lead_id is None or isinstance(lead_id, int)):
            return client_id, lead_id
    raise Refused(
        "its reply address has a forged or damaged token" if seen else "it was not sent to a reply address"
    )


QUOTE_START = re.compile(r"^(>|-----\s*Original Message\s*-----|--\s*$)", re.IGNORECASE)
WROTE = re.compile(r"\bwrote:\s*$")


def reply_text(body: str) -> str:
    """The new text of a reply: cut at the first quoted line (">"), the "On … wrote:" line before the
    quote (which mail programs may wrap onto two lines), an "Original Message" rule or a signature."""
    lines = body.replace("\r\n", "\n").split("\n")
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if QUOTE_START.match(line) or (line.startswith("On ") and (WROTE.search(line) or WROTE.search(nxt))):
            lines = lines[:i]
            break
    return "\n".join(lines).strip()


def _plain_text(mail) -> str:
    part = mail.get_body(preferencelist=("plain",))
    if part is None:
        raise Refused("it has no plain-text part")
    try:
        return part.get_content()
    except (LookupError, UnicodeError) as exc:
        raise Refused(f"its text cannot be decoded ({exc})") from None


def _sender(session: Session, mail, client_id: int) -> User:
    senders = [a for _, a in getaddresses([str(v) for v in (mail.get_all("From") or [])]) if a]
    if len(senders) != 1:
        raise Refused("it has no single sender address")
    user = session.execute(
        sa.select(User).where(
            sa.func.lower(User.email) == senders[0].lower(),
            User.client_id == client_id,
            User.role == "client",
        )
    ).scalar_one_or_none()
    if user is None:
        raise Refused(f"the sender {senders[0]} is not a contact of client {client_id}")
    if not user.active:
        raise Refused(f"the sender {senders[0]} is an inactive contact")
    return user


def post_reply(session: Session, raw: bytes) -> Message:
    """Post one emailed reply onto its thread as the contact who sent it (flushes, never commits)."""
    from ..domain.errors import DomainError
    from ..domain.messaging import post_client_message

    mail = email.message_from_bytes(raw, policy=email.policy.default)
    client_id, lead_id = read_thread(mail)
    if session.get(Client, client_id) is None:
        raise Refused(f"its thread's client {client_id} no longer exists")
    lead = None
    if lead_id is not None:
        lead = session.get(Lead, lead_id)
        if lead is None or lead.client_id != client_id:
            raise Refused(f"its thread's opportunity {lead_id} is no longer client {client_id}'s")
    contact = _sender(session, mail, client_id)
    text = reply_text(_plain_text(mail))
    if not text:
        raise Refused("it has no text besides the quoted message")
    try:
        return post_client_message(session, contact, text, lead=lead)
    except DomainError as exc:
        raise Refused(str(exc)) from None


def process_maildir(session: Session, path: str) -> Counter:
    """Post every new message of the Maildir at `path`, each in its own transaction.

    A posted reply is moved to `cur` (seen), so the next run skips it; a refused one to the
    `quarantine` folder. The move follows the commit: a crash between the two would post that reply
    again on the next run, never lose it. A lock file keeps two runs (an overlapping cron) apart.
    """
    from ..domain import unit

    if _reply_parts() is None:
        raise CannotRun("MAIL_REPLY_TO is not set: there is no reply address to read mail for")
    inbox = mailbox.Maildir(path, create=False)
    counts: Counter = Counter()
    with open(os.path.join(path, ".zarts-mail-in.lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CannotRun("another zarts mail-in is reading this Maildir") from None
        quarantine = inbox.add_folder("quarantine")
        for key in sorted(inbox.iterkeys()):
            item = inbox.get_message(key)
            if item.get_subdir() != "new":
                continue
            try:
                with unit(session):
                    msg = post_reply(session, inbox.get_bytes(key))
            except Refused as exc:
                quarantine.add(item)
                inbox.remove(key)
                log.warning("mail-in: quarantined %s (From %r): %s", key, str(item.get("From", "?")), exc)
                counts["quarantined"] += 1
                continue
            item.set_subdir("cur")
            item.add_flag("S")
            inbox[key] = item
            log.info("mail-in: posted %s as message %s on client %s's thread", key, msg.id, msg.client_id)
            counts["posted"] += 1
    return counts
