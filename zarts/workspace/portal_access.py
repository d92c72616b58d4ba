"""The lead page's "Portal access" panel: its client's contacts, invite, resend, revoke, restore.

The lead page loads the panel with its own request (hx-get on load), so the page's statement count
stays as it was. Every action answers with the panel (HTMX) or a page holding it (plain form). An
invite without SMTP carries its link in that one answer, to be copied; no later request shows it.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, request

from ..auth.access import staff_required
from ..domain import portal_access
from ..extensions import db
from ..models import Client, Lead, User
from . import bp
from .common import actor, attempt, render, text


def render_panel(lead: Lead, *, invite=None, error=None, done: str | None = None, status: int = 200):
    client = db.session.get(Client, lead.client_id) if lead.client_id else None
    contacts = (
        db.session.execute(
            sa.select(User)
            .where(User.client_id == client.id, User.role == "client")
            .order_by(User.name, User.id)
        )
        .scalars()
        .all()
        if client
        else []
    )
    return render(
        "workspace/partials/portal_access.html",
        "workspace/portal_access.html",
        status,
        lead=lead,
        client=client,
        contacts=contacts,
        invite=invite,
        error=error,
        done=done,
        panel=True,
        can_manage=client is not None and portal_access.may_manage(db.session, actor(), client, lead),
    )


def _lead(lead_id: int) -> Lead:
    return db.session.get(Lead, lead_id) or abort(404)


def _contact(lead: Lead) -> User:
    """The posted contact (a hidden field of its row), a contact of this lead's client; anyone else is a
    404, as if the row did not exist."""
    raw = (request.form.get("contact") or "").strip()
    contact = db.session.get(User, int(raw)) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None
    if contact is None or lead.client_id is None or contact.client_id != lead.client_id:
        abort(404)
    return contact


@bp.route("/leads/<int:lead_id>/portal-access")
@staff_required
def portal_access_panel(lead_id: int):
    return render_panel(_lead(lead_id))


@bp.post("/leads/<int:lead_id>/portal-access/invite")
@staff_required
def portal_invite(lead_id: int):
    lead, result = _lead(lead_id), []
    client = db.session.get(Client, lead.client_id) if lead.client_id else None
    error = attempt(
        lambda: result.append(
            portal_access.invite_contact(db.session, actor(), client, text("email"), text("name"), lead=lead)
        )
    )
    return _answer(lead, result, error, "Invite sent")


@bp.post("/leads/<int:lead_id>/portal-access/resend")
@staff_required
def portal_resend(lead_id: int):
    lead, result = _lead(lead_id), []
    contact = _contact(lead)
    error = attempt(
        lambda: result.append(portal_access.resend_invite(db.session, actor(), contact, lead=lead))
    )
    return _answer(lead, result, error, "New invite sent")


@bp.post("/leads/<int:lead_id>/portal-access/revoke")
@staff_required
def portal_revoke(lead_id: int):
    lead = _lead(lead_id)
    contact = _contact(lead)
    error = attempt(lambda: portal_access.revoke_access(db.session, actor(), contact, lead=lead))
    return _answer(
        lead, [], error, f"Access revoked: {contact.name} is signed out and their links no longer work."
    )


@bp.post("/leads/<int:lead_id>/portal-access/restore")
@staff_required
def portal_restore(lead_id: int):
    lead = _lead(lead_id)
    contact = _contact(lead)
    error = attempt(lambda: portal_access.restore_access(db.session, actor(), contact, lead=lead))
    return _answer(
        lead,
        [],
        error,
        f"Access restored: {contact.name} signs in with their password, or send them a new invite.",
    )


def _answer(lead: Lead, result: list, error, done: str):
    invite = result[0] if result and error is None else None
    if invite is not None:
        done = (
            f"{done} to {invite.contact.email}."
            if invite.emailed
            else f"{done}: no email server is set up, so give {invite.contact.name} this link yourself."
        )
    return render_panel(
        lead, invite=invite, error=error, done=None if error else done, status=error.status if error else 200
    )
