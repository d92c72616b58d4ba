"""Single-use, expiring tokens for invites and password resets.

A token is signed over the user id and a fingerprint of the current password hash and session
token: once the password is set (or the user signs out everywhere) the token no longer matches.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..extensions import db
from ..models import User


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"zarts-{purpose}")


def _fingerprint(user: User) -> str:
    raw = f"{user.password_hash or ''}|{user.session_token}|{user.active}".encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def make_token(user: User, purpose: str) -> str:
    return _serializer(purpose).dumps({"u": user.id, "f": _fingerprint(user)})


def read_token(token: str, purpose: str) -> tuple[User | None, str | None]:
    """(user, None) when valid; (None, message) when expired, used or forged."""
    max_age = current_app.config["INVITE_MAX_AGE" if purpose == "invite" else "RESET_MAX_AGE"]
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        return None, "This link has expired. Ask the team for a new one."
    except BadSignature:
        return None, "This link is not valid."
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("f") != _fingerprint(user):
        return None, "This link has already been used or is no longer valid."
    return user, None
