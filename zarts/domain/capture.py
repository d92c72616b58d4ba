"""Lead capture: a public form (or a JSON POST) with a per-source key creates a lead through
`pipeline.create_lead`, as the source's default owner, with its source context and consent.

Only the SHA-256 of a source's key is stored; the key is shown once when the source is made (or its
key rotated). Spam defences (limits, honeypot, fill time, CORS) live in the view: this module gets
input that already passed them and checks it like any other form.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from ..models import Lead, User, today
from ..models.integrations import CaptureSource
from ..models.vocab import SERVICES, SOURCES
from .errors import Invalid
from .pipeline import OWNER_ROLES, create_lead
from .trail import require_staff

KEY_PREFIX = "zcap_"
LIMITS = {"name": 120, "email": 254, "company": 200, "phone": 40, "message": 5000}
DEFAULT_CONSENT = "I agree to be contacted about my enquiry."


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _checked(session: Session, *, name, source, service, default_owner_id, consent_wording) -> dict:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise Invalid("Name the source (up to 120 characters), e.g. “Website contact form”.", "name")
    if source not in SOURCES:
        raise Invalid("Choose a source from the list.", "source")
    if service not in SERVICES:
        raise Invalid("Choose the service enquiries are about by default.", "service")
    owner = session.get(User, default_owner_id) if isinstance(default_owner_id, int) else None
    if owner is None or not owner.is_active or owner.role not in OWNER_ROLES:
        raise Invalid("The default owner must be an active growth-ops user or admin.", "default_owner_id")
    wording = (consent_wording or "").strip() or DEFAULT_CONSENT
    return {
        "name": name,
        "source": source,
        "service": service,
        "default_owner_id": owner.id,
        "consent_wording": wording[:1000],
    }


def create_source(session: Session, actor: User, **fields) -> tuple[CaptureSource, str]:
    """An admin makes a capture source: the row and its key (shown once)."""
    require_staff(actor, "admin", action="manage lead capture")
    key = KEY_PREFIX + secrets.token_urlsafe(18)
    row = CaptureSource(
        **_checked(session, **fields), key_hash=key_hash(key), key_prefix=key[:9], active=True
    )
    session.add(row)
    session.flush()
    return row, key


def update_source(
    session: Session, actor: User, row: CaptureSource, *, active: bool, **fields
) -> CaptureSource:
    require_staff(actor, "admin", action="manage lead capture")
    for name, value in _checked(session, **fields).items():
        setattr(row, name, value)
    row.active = bool(active)
    session.flush()
    return row


def rotate_key(session: Session, actor: User, row: CaptureSource) -> str:
    """A new key for the source; forms carrying the old one get 404 from now on."""
    require_staff(actor, "admin", action="manage lead capture")
    key = KEY_PREFIX + secrets.token_urlsafe(18)
    row.key_hash, row.key_prefix = key_hash(key), key[:9]
    session.flush()
    return key


def find_source(session: Session, key: str) -> CaptureSource | None:
    """The active source of a presented key (None for an unknown, rotated or inactive one)."""
    if not key or len(key) > 100:
        return None
    row = session.scalar(sa.select(CaptureSource).where(CaptureSource.key_hash == key_hash(key)))
    return row if row is not None and row.active else None


def capture_errors(data: dict) -> tuple[dict, dict[str, str]]:
    """The visitor's input cleaned, and a message per field that is not acceptable."""
    clean, errors = {}, {}
    for name, limit in LIMITS.items():
        value = data.get(name)
        value = value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""
        if len(value) > limit:
            errors[name] = f"Keep this under {limit} characters."
        clean[name] = value or None
    for name, label in (("name", "your name"), ("email", "your email"), ("company", "your company")):
        if not clean[name] and name not in errors:
            errors[name] = f"Please give {label}."
    if clean["email"] and "email" not in errors:
        try:
            # Tests use the reserved .test domain; real visitors never do.
            clean["email"] = validate_email(
                clean["email"], check_deliverability=False, test_environment=bool(current_app.testing)
            ).normalized
        except EmailNotValidError:
            errors["email"] = "This does not look like an email address."
    service = data.get("service")
    clean["service"] = service if isinstance(service, str) and service in SERVICES else None
    if service and clean["service"] is None:
        errors["service"] = "Choose a service from the list."
    clean["consent"] = data.get("consent") in (True, "1", "on", "yes", "true", "y")
    return clean, errors


def capture_lead(session: Session, source: CaptureSource, data: dict) -> Lead:
    """A new lead from the form, owned by the source's default owner, with a next action for them:
    reply by tomorrow. Consent is granted only when the visitor ticked the box (the time recorded)."""
    clean, errors = capture_errors(data)
    if errors:
        field = next(iter(errors))
        raise Invalid(errors[field], field)
    owner = session.get(User, source.default_owner_id)
    contact = clean["name"]
    return create_lead(
        session,
        owner,
        title=f"Web enquiry: {clean['company']}"[:200],
        company=clean["company"],
        contact_name=contact,
        contact_email=clean["email"],
        contact_phone=clean["phone"],
        contact_path="email",
        source=source.source,
        source_context=f"Web form: {source.name}",
        service=clean["service"] or source.service,
        pain_points=clean["message"],
        consent="granted" if clean["consent"] else "unknown",
        next_action=f"Reply to {contact}'s enquiry",
        next_action_due=today() + timedelta(days=1),
        owner_id=owner.id,
    )
