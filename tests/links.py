"""Invite and reset links for tests that only need one that works.

Messages never hold their link (zarts.auth.tokens): a link is minted when the email is sent. Tests
about the emailed link itself read it from a real SMTP server (tests/security/test_secrets.py); the
others mint one here, as the email job does.
"""

from __future__ import annotations

from zarts.auth import tokens
from zarts.extensions import db


def fresh_token(user, purpose: str) -> str:
    """A new, committed invite or reset token for `user`."""
    token = tokens.mint(db.session, user, purpose)
    db.session.commit()
    return token


def fresh_link(user, purpose: str) -> str:
    """The path of a new /invite/<token> or /reset/<token> link for `user`."""
    return f"/{purpose}/{fresh_token(user, purpose)}"
