"""Portal access: staff invite a client's contacts, send a new invite, revoke and restore access.

Who may (decided here, the same for the workspace and the admin): the staff who keep clients —
admins on every client; delivery on every client (they run onboarding); growth ops on the client of
a lead they own (or nobody owns), or, without a lead, on a client they own, nobody owns, or behind
one of their leads. Approvers decide texts and never manage logins.

A link is never stored readable (zarts.auth.tokens). With SMTP the email job mints it into the email.
Without SMTP nobody would ever receive it, so the invite mints its link here and hands it back to the
screen, which shows it once to be copied; only its hash is kept and nothing logs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from ..auth import tokens
from ..models import Client, Lead, Message, User
from .errors import Forbidden, Invalid
from .messaging import log_message, render_message
from .trail import record_changes, record_event, require_lead_actor, require_staff

ACTION = "manage this client's portal access"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class Invite:
    """What the screen shows after an invite: the contact, the logged message, and `link` — only when
    there is no SMTP, for this one response (never stored readable, never logged)."""

    contact: User
    message: Message
    link: str | None

    @property
    def emailed(self) -> bool:
        return self.link is None


def may_manage(session: Session, actor: User | None, client: Client, lead: Lead | None = None) -> bool:
    """Whether `actor` may invite, resend, revoke and restore (the screens show the buttons only then)."""
    try:
        require_keeper(session, actor, client, lead)
    except Forbidden:
        return False
    return True


def require_keeper(session: Session, actor: User | None, client: Client, lead: Lead | None = None) -> None:
    if lead is not None:
        require_lead_actor(actor, lead, "growth_ops", "delivery", action=ACTION)
        if lead.client_id != client.id:
            raise Invalid("This contact is not a contact of this opportunity's client.", "contact")
        return
    require_staff(actor, "growth_ops", "delivery", action=ACTION)
    if actor.role == "growth_ops" and client.owner_id not in (None, actor.id):
        own_lead = session.execute(
            sa.select(Lead.id).where(Lead.client_id == client.id, Lead.owner_id == actor.id).limit(1)
        ).scalar_one_or_none()
        if own_lead is None:
            raise Forbidden(
                f"Only the owner of this client or of one of its opportunities (or an admin) can {ACTION}."
            )


def invite_contact(
    session: Session,
    actor: User,
    client: Client | None,
    email: str | None,
    name: str | None,
    lead: Lead | None = None,
) -> Invite:
    """A new client contact with its invite. An address that already has an account is refused in
    words (staff, another client's contact, or this client's own: then Resend is the way)."""
    if client is None:
        raise Invalid(
            "This opportunity has no client yet: it gets one when its first proposal is sent "
            "(or link one in Admin → Leads). Invite its contacts then.",
            "email",
        )
    require_keeper(session, actor, client, lead)
    email, name = (email or "").strip().lower(), (name or "").strip()
    if not email:
        raise Invalid("Enter the contact's email address.", "email")
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise Invalid("Enter a valid email address, such as name@company.com.", "email")
    if len(name) > 120:
        raise Invalid("Keep the name under 120 characters.", "name")
    existing = session.execute(sa.select(User).where(User.email == email)).scalar_one_or_none()
    if existing is not None:
        if existing.is_staff:
            raise Invalid(
                "This address belongs to a staff account: a client contact needs an address of their own.",
                "email",
            )
        if existing.client_id != client.id:
            raise Invalid(
                "This address belongs to a contact of another client: use the contact's own "
                "address, or ask an admin to move the account.",
                "email",
            )
        raise Invalid(
            f"{existing.name} is already a contact of {client.name}: use Resend invite on their row.", "email"
        )
    contact = User(email=email, name=name or email, role="client", client_id=client.id)
    session.add(contact)
    session.flush()
    return _invite(session, actor, contact, client, lead, key=f"invite:{contact.id}")


def resend_invite(session: Session, actor: User, contact: User, lead: Lead | None = None) -> Invite:
    """A new invite message; every link the contact still had (invite or reset) is spent first, so
    only the newest one works."""
    client = _client_of(session, contact)
    require_keeper(session, actor, client, lead)
    if not contact.active:
        raise Invalid(f"{contact.name}'s access is revoked: restore it first.", "contact")
    tokens.revoke(session, user_id=contact.id)
    return _invite(session, actor, contact, client, lead, key=None)


def revoke_access(session: Session, actor: User, contact: User, lead: Lead | None = None) -> User:
    """Deactivate the contact: the User.active attribute event ends their sessions and spends their links."""
    client = _client_of(session, contact)
    require_keeper(session, actor, client, lead)
    if not contact.active:
        raise Invalid(f"{contact.name}'s access is already revoked.", "contact")
    before = {"active": contact.active}
    contact.active = False
    record_changes(session, lead, actor, contact, before, via="portal access panel")
    session.flush()
    return contact


def restore_access(session: Session, actor: User, contact: User, lead: Lead | None = None) -> User:
    """Reactivate the contact. No old session or link comes back: they sign in with their password,
    or staff send a new invite."""
    client = _client_of(session, contact)
    require_keeper(session, actor, client, lead)
    if contact.active:
        raise Invalid(f"{contact.name} already has access.", "contact")
    before = {"active": contact.active}
    contact.active = True
    record_changes(session, lead, actor, contact, before, via="portal access panel")
    session.flush()
    return contact


def _client_of(session: Session, contact: User | None) -> Client:
    if contact is None or not contact.is_client or contact.client_id is None:
        raise Invalid(
            "Only client contacts have portal access: staff accounts are managed in Admin → Users.", "contact"
        )
    return session.get(Client, contact.client_id)


def _invite(
    session: Session, actor: User, contact: User, client: Client, lead: Lead | None, key: str | None
) -> Invite:
    subject, body = render_message("portal_invite", user=contact, client=client, link=tokens.PLACEHOLDER)
    msg = log_message(
        session,
        subject=subject,
        body=body,
        to_email=contact.email,
        client_id=client.id,
        lead_id=lead.id if lead else None,
        author_id=actor.id,
        key=key,
        key_is_new=True,
    )
    msg.link_purpose = "invite"  # with SMTP the email job mints the link into the email
    link = None
    if not current_app.config.get("SMTP_URL"):
        link = tokens.link("invite", tokens.mint(session, contact, "invite", message_id=msg.id))
    if lead is not None:
        record_event(
            session, lead, "message_sent", actor, message_id=msg.id, channel="email", contact_id=contact.id
        )
    session.flush()
    return Invite(contact=contact, message=msg, link=link)
