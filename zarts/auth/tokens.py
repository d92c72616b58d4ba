"""Single-use, expiring links for portal invites and password resets.

A link carries a random token; the database keeps only its SHA-256 (auth_tokens.token_hash), so
whoever reads a table, an admin page, an export or a backup holds nothing that opens an account.
A logged message keeps PLACEHOLDER where its link goes; the token is minted when the email is sent
(zarts.jobs.mail.deliver) and exists readable only in that email. Looking a token up by its hash
also means no comparison ever runs on the secret itself.

A token works once: setting a password (through a link, /account/password, the CLI) and
deactivation spend every outstanding link of the user.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import AuthToken, Message, User, utcnow

log = logging.getLogger("zarts.mail")

PLACEHOLDER = "[A single-use link to choose a password was emailed; links are never stored.]"
NOT_VALID = "This link is not valid."
EXPIRED = "This link has expired. Ask the team for a new one."
USED = "This link has already been used or is no longer valid."
_MAX_AGE = {"invite": "INVITE_MAX_AGE", "reset": "RESET_MAX_AGE"}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mint(session: Session, user: User, purpose: str, *, message_id: int | None = None) -> str:
    """A fresh token for `user`, valid for the purpose's max age; only its hash goes to the session
    (the caller commits)."""
    token, now = secrets.token_urlsafe(32), utcnow()
    session.add(
        AuthToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_digest(token),
            message_id=message_id,
            created_at=now,
            expires_at=now + timedelta(seconds=current_app.config[_MAX_AGE[purpose]]),
        )
    )
    return token


def link(purpose: str, token: str) -> str:
    """Absolute (emails are built without a request): /invite/<token> or /reset/<token>."""
    return f"{current_app.config['BASE_URL'].rstrip('/')}/{purpose}/{token}"


def body_with_link(session: Session, msg: Message, user: User) -> str:
    """The body to email: PLACEHOLDER replaced by a fresh link for `user`. The links minted for an
    earlier attempt at this message are spent first, so one message has at most one live link."""
    revoke(session, message_id=msg.id)
    token = mint(session, user, msg.link_purpose, message_id=msg.id)
    return msg.body.replace(PLACEHOLDER, link(msg.link_purpose, token))


def carries_link(session: Session, msg: Message, user: User, purpose: str) -> None:
    """Mark a just-logged message as carrying `user`'s invite or reset link (its body has PLACEHOLDER).

    With SMTP the email job mints the link. Without SMTP_URL the email never goes out: in development
    (ZARTS_ENV not "production") the email is printed with a fresh link to the app log, like Django's
    console email backend, so a developer can still accept an invite or reset a password. In
    production nothing is printed, and the link exists nowhere.
    """
    msg.link_purpose = purpose
    if msg.email_status == "none" and current_app.config.get("ZARTS_ENV") != "production":
        log.warning(
            "SMTP_URL is not set: this email was not sent (development only: printed here).\n"
            "To: %s\nSubject: %s\n\n%s",
            msg.to_email,
            msg.subject,
            body_with_link(session, msg, user),
        )


def read_token(token: str, purpose: str) -> tuple[User | None, str | None]:
    """(user, None) when the link is valid; (None, message) when unknown, expired, used or revoked."""
    row = db.session.execute(
        sa.select(AuthToken).where(AuthToken.token_hash == _digest(token))
    ).scalar_one_or_none()
    if row is None or row.purpose != purpose:
        return None, NOT_VALID
    if row.expires_at <= utcnow():
        return None, EXPIRED
    if row.used_at is not None or not row.user.active:
        return None, USED
    return row.user, None


def spend(token: str) -> bool:
    """Mark the link used; False when another request spent it first (one statement: no race)."""
    done = db.session.execute(
        sa.update(AuthToken)
        .where(AuthToken.token_hash == _digest(token), AuthToken.used_at.is_(None))
        .values(used_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    return done.rowcount == 1


def revoke(session: Session, *, user_id: int | None = None, message_id: int | None = None) -> None:
    """Spend every unused link of a user, or those minted for one message."""
    stmt = sa.update(AuthToken).where(AuthToken.used_at.is_(None))
    stmt = (
        stmt.where(AuthToken.user_id == user_id)
        if message_id is None
        else stmt.where(AuthToken.message_id == message_id)
    )
    session.execute(stmt.values(used_at=utcnow()), execution_options={"synchronize_session": False})
