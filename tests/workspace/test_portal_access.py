"""Portal access from the lead page (and Admin → Users): invite a client contact, resend, revoke,
restore. Without SMTP the invite's link is shown once, in the answer to the invite, to be copied;
the database keeps only its hash. With SMTP it is emailed and no page shows it."""

from __future__ import annotations

import hashlib
import re
from html import unescape
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from tests.admin.test_actions import run_action
from tests.jobs.test_email import free_port, smtp  # noqa: F401 - the SMTP server fixture
from tests.security.test_secrets import emailed_link, every_stored_value, set_password
from zarts.extensions import db
from zarts.models import AuthToken, Event, Message, User

ONCE = "Copy it now: it is shown once and expires in 7 days"
LINK = re.compile(r'value="(https?://[^"]+/invite/[^"]+)"')


@pytest.fixture
def lead(make, owner):
    client = make.client(name="Northwind", owner_id=owner.id)
    return make.lead(owner=owner, client_id=client.id)


def panel(lead) -> str:
    return f"/workspace/leads/{lead.id}/portal-access"


def invite(hx_post, lead, email="cleo@northwind.test", name="Cleo Client"):
    return hx_post(f"{panel(lead)}/invite", {"email": email, "name": name})


def shown_link(resp) -> str:
    """The path of the one-time link in an answer (the page shows the absolute link)."""
    return urlsplit(unescape(LINK.search(resp.get_data(as_text=True)).group(1))).path


def contact_of(email: str) -> User:
    db.session.expire_all()
    return db.session.scalars(sa.select(User).where(User.email == email)).one()


def test_an_invite_without_smtp_shows_its_link_once_and_the_link_signs_the_client_in(
    app, client, sign_in, hx_post, hx_get, lead, owner
):
    sign_in(owner)
    resp = invite(hx_post, lead)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and ONCE in page and "Copy link" in page
    assert "Invited, not signed in yet" in page and "Cleo Client" in page
    path = shown_link(resp)
    token = path.rsplit("/", 1)[1]

    # Only the hash is stored: no column of any table holds the token.
    assert token not in every_stored_value()
    assert (
        db.session.scalars(
            sa.select(AuthToken).where(AuthToken.token_hash == hashlib.sha256(token.encode()).hexdigest())
        )
        .one()
        .purpose
        == "invite"
    )
    contact = contact_of("cleo@northwind.test")
    assert (contact.role, contact.client_id) == ("client", lead.client_id)
    kinds = db.session.scalars(sa.select(Event.kind).where(Event.lead_id == lead.id)).all()
    assert "message_sent" in kinds

    # A reload shows the contact, never the link again.
    for url in (panel(lead), f"/workspace/leads/{lead.id}"):
        again = client.get(url).get_data(as_text=True)
        assert token not in again and ONCE not in again
    assert token not in hx_get(panel(lead)).get_data(as_text=True)

    browser = app.test_client()
    assert set_password(browser, path).headers["Location"] == "/portal/"
    assert browser.get("/portal/").status_code == 200
    used = app.test_client().get(path)
    assert used.status_code == 400 and "already been used" in used.get_data(as_text=True)
    assert "last signed in" in hx_get(panel(lead)).get_data(as_text=True)


def test_resend_spends_the_old_link_and_shows_a_new_one(app, sign_in, hx_post, lead, owner):
    sign_in(owner)
    first = shown_link(invite(hx_post, lead))
    contact = contact_of("cleo@northwind.test")

    resp = hx_post(f"{panel(lead)}/resend", {"contact": contact.id})

    assert resp.status_code == 200 and ONCE in resp.get_data(as_text=True)
    second = shown_link(resp)
    assert second != first
    assert "already been used" in app.test_client().get(first).get_data(as_text=True)
    assert app.test_client().get(second).status_code == 200
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Message).where(Message.to_email == contact.email)
        )
        == 2
    )


def test_revoke_ends_the_contacts_session_and_refuses_their_link_restore_lets_them_back(
    app, sign_in, hx_post, hx_get, lead, owner
):
    sign_in(owner)
    first = shown_link(invite(hx_post, lead))
    browser = app.test_client()
    set_password(browser, first)
    assert browser.get("/portal/").status_code == 200
    contact = contact_of("cleo@northwind.test")
    pending = shown_link(hx_post(f"{panel(lead)}/resend", {"contact": contact.id}))

    resp = hx_post(f"{panel(lead)}/revoke", {"contact": contact.id})

    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "Access revoked" in page and "Revoked" in page and "Restore access" in page
    assert browser.get("/portal/").status_code == 302  # signed out
    refused = app.test_client().get(pending)
    assert refused.status_code == 400 and "no longer valid" in refused.get_data(as_text=True)
    changes = db.session.scalars(
        sa.select(Event).where(Event.lead_id == lead.id, Event.kind == "fields_changed")
    ).all()
    assert changes[-1].payload["changes"] == [{"field": "active", "old": True, "new": False}]

    restored = hx_post(f"{panel(lead)}/restore", {"contact": contact.id}).get_data(as_text=True)
    assert "Access restored" in restored and "Resend invite" in restored
    assert contact_of(contact.email).active is True
    assert app.test_client().get(pending).status_code == 400  # restoring brings no old link back


def test_growth_ops_manage_only_their_own_leads_clients_delivery_every_client(
    sign_in, hx_post, hx_get, lead, make
):
    other = sign_in(make.user("growth_ops"))
    assert "Invite" not in hx_get(panel(lead)).get_data(as_text=True).split("Portal access", 1)[1]

    resp = invite(hx_post, lead)

    assert resp.status_code == 403
    assert "Only the owner of this opportunity (or an admin) can manage this client" in resp.get_data(
        as_text=True
    )
    assert db.session.scalars(sa.select(User).where(User.email == "cleo@northwind.test")).first() is None
    assert other.role == "growth_ops"

    sign_in(make.user("delivery"))
    assert invite(hx_post, lead).status_code == 200
    sign_in(make.user("approver"))
    contact = contact_of("cleo@northwind.test")
    assert hx_post(f"{panel(lead)}/revoke", {"contact": contact.id}).status_code == 403
    assert contact_of("cleo@northwind.test").active is True


def test_an_address_of_staff_or_of_another_client_is_refused_in_words(sign_in, hx_post, lead, owner, make):
    sign_in(owner)
    resp = invite(hx_post, lead, email=owner.email.upper())
    assert resp.status_code == 400
    assert "This address belongs to a staff account" in resp.get_data(as_text=True)

    stranger = make.user("client", email="someone@elsewhere.test")
    db.session.commit()
    resp = invite(hx_post, lead, email=stranger.email)
    assert resp.status_code == 400 and "a contact of another client" in resp.get_data(as_text=True)
    assert contact_of(stranger.email).client_id != lead.client_id

    invite(hx_post, lead)
    again = invite(hx_post, lead).get_data(as_text=True)
    assert "is already a contact of Northwind: use Resend invite" in again
    assert not LINK.search(again)


def test_another_clients_contact_is_not_found_from_this_lead(sign_in, hx_post, lead, owner, make):
    sign_in(owner)
    stranger = make.user("client")
    db.session.commit()
    for action in ("resend", "revoke", "restore"):
        assert hx_post(f"{panel(lead)}/{action}", {"contact": stranger.id}).status_code == 404
        assert hx_post(f"{panel(lead)}/{action}", {"contact": "x"}).status_code == 404


def test_with_smtp_the_invite_is_emailed_and_no_link_is_shown(app, sign_in, hx_post, lead, owner, smtp):  # noqa: F811
    app.config["SMTP_URL"] = smtp.url
    sign_in(owner)

    resp = invite(hx_post, lead)

    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Invite sent to cleo@northwind.test." in page
    assert ONCE not in page and "/invite/" not in page
    path = emailed_link(smtp, "cleo@northwind.test")
    assert set_password(app.test_client(), path).headers["Location"] == "/portal/"


def test_admin_users_resend_revoke_and_restore_a_client_contact(app, client, auth, make, lead):
    admin = auth.login_as(make.user("admin"))
    contact = make.user("client", client=lead.client, email="dan@northwind.test", name="Dan")
    staff = make.user("delivery")
    ids = [contact.id, staff.id]
    db.session.commit()
    assert admin.role == "admin"

    resp = run_action(auth, "users", "resend_invite", ids)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and ONCE in page
    assert "Only client contacts have portal access" in page  # the staff row, in words
    path = shown_link(resp)
    assert app.test_client().get(path).status_code == 200
    assert path.rsplit("/", 1)[1] not in every_stored_value()
    assert path.rsplit("/", 1)[1] not in client.get("/admin/users/").get_data(as_text=True)

    resp = run_action(auth, "users", "revoke_access", [contact.id], follow_redirects=True)
    assert "access revoked" in resp.get_data(as_text=True)
    assert contact_of(contact.email).active is False
    assert app.test_client().get(path).status_code == 400

    resp = run_action(auth, "users", "restore_access", [contact.id], follow_redirects=True)
    assert "access restored" in resp.get_data(as_text=True)
    assert contact_of(contact.email).active is True
