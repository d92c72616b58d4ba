"""Personal API tokens: a staff member makes one for a script and revokes it; the API acts as them.

Only the SHA-256 of a token is stored; the token itself is returned once, at creation. A token works
while it is not revoked, not expired and its user is active staff (a deactivated user's tokens stop
at once, without being revoked one by one).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import ApiToken, User, utcnow
from .errors import Forbidden, Invalid
from .trail import require_staff

TOKEN_PREFIX = "zat_"  # recognisable in logs and secret scanners
MAX_LIVE_TOKENS = 20


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(
    session: Session, actor: User, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for `actor` (staff only): the row and the token, which is never shown again."""
    require_staff(actor, action="create API tokens")
    name = (name or "").strip()
    if not name:
        raise Invalid("Give the token a name (what will use it).", "name")
    if len(name) > 80:
        raise Invalid("Keep the name under 80 characters.", "name")
    if expires_at is not None and expires_at <= utcnow():
        raise Invalid("The expiry date must be in the future.", "expires_at")
    live = session.scalar(
        sa.select(sa.func.count())
        .select_from(ApiToken)
        .where(ApiToken.user_id == actor.id, ApiToken.revoked_at.is_(None))
    )
    if live >= MAX_LIVE_TOKENS:
        raise Invalid(f"You have {live} tokens: revoke one you no longer use first.", "name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=actor.id,
        name=name,
        prefix=token[:8],
        token_hash=token_hash(token),
        created_at=utcnow(),
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row, token


def revoke_token(session: Session, actor: User, token_id: int) -> ApiToken:
    """Revoke one of the actor's tokens (an admin may revoke anyone's). Revoking twice is harmless."""
    require_staff(actor, action="revoke API tokens")
    row = session.get(ApiToken, token_id) if isinstance(token_id, int) else None
    if row is None or (row.user_id != actor.id and actor.role != "admin"):
        raise Forbidden("This is not one of your tokens.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row


def authenticate(session: Session, token: str) -> tuple[ApiToken, User] | None:
    """The live token and its active staff user for a presented token, else None. Marks it used
    (at most once a minute, so a busy script does not write on every call)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    if row is None or not row.is_live:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active or not user.is_staff:
        return None
    now = utcnow()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        row.last_used_at = now
    return row, user
