"""Signing in to the portal, from the client's side: the invite link sets the first password (once,
until it expires), a reset link sets a new one, and each kind of user lands on their own home."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from tests.builders import PASSWORD
from tests.conftest import csrf_token
from tests.links import fresh_link
from tests.portal.conftest import safe_texts
from zarts.auth.tokens import PLACEHOLDER
from zarts.extensions import db
from zarts.models import Message

NEW_PASSWORD = "blue lantern over the harbour"


@pytest.fixture
def invited(builder):
    """A prospect who was just sent a proposal: a portal contact with an invite message, no password."""
    client = builder.client("A")
    builder.sent_proposal(builder.lead(client), **safe_texts("A"))
    contact = builder.contact(client)
    db.session.commit()
    return contact


def link_path(text: str, kind: str) -> str:
    return urlsplit(re.search(rf"https?://\S+/{kind}/\S+", text).group(0)).path


def invite_path(contact) -> str:
    """The invite message says a link was emailed, and holds none; a link as the email job mints it."""
    invite = db.session.scalars(sa.select(Message).where(Message.key == f"invite:{contact.id}")).one()
    assert PLACEHOLDER in invite.body and "/invite/" not in invite.body and invite.link_purpose == "invite"
    return fresh_link(contact, "invite")


def set_password(browser, path, password=NEW_PASSWORD):
    return browser.post(
        path, data={"password": password, "confirm": password, "csrf_token": csrf_token(browser)}
    )


def sign_in(browser, email, password, at="/login"):
    return browser.post(at, data={"email": email, "password": password, "csrf_token": csrf_token(browser)})


def test_the_invite_link_sets_a_password_and_opens_the_portal(app, invited):
    browser = app.test_client()
    path = invite_path(invited)
    assert invited.password_hash is None
    assert browser.get(path).status_code == 200
    resp = set_password(browser, path)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/portal/")
    home = browser.get("/portal/")
    assert home.status_code == 200 and "SAFE-A-proposal-title" in home.get_data(as_text=True)
    # Single use: the same link no longer works, from any browser.
    again = app.test_client().get(path)
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)


def test_an_expired_invite_is_refused(app, invited):
    app.config["INVITE_MAX_AGE"] = -1
    resp = app.test_client().get(invite_path(invited))
    assert resp.status_code == 400 and "expired" in resp.get_data(as_text=True)


def test_clients_land_on_the_portal_and_staff_on_the_workspace(app, invited, make):
    set_password(app.test_client(), invite_path(invited))
    for at in ("/login", "/portal/login"):
        resp = sign_in(app.test_client(), invited.email, NEW_PASSWORD, at=at)
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/portal/"), at
    staff = make.user("growth_ops")
    db.session.commit()
    browser = app.test_client()
    resp = sign_in(browser, staff.email, PASSWORD, at="/portal/login")
    assert resp.status_code == 302 and "/workspace" in resp.headers["Location"]
    assert browser.get("/portal/").status_code == 403


def test_a_reset_link_sets_a_new_password(app, invited, caplog):
    set_password(app.test_client(), invite_path(invited))
    browser = app.test_client()
    browser.post("/reset", data={"email": invited.email, "csrf_token": csrf_token(browser)})
    reset = db.session.scalars(
        sa.select(Message).where(Message.to_email == invited.email, Message.link_purpose == "reset")
    ).one()
    assert PLACEHOLDER in reset.body and "/reset/" not in reset.body
    path = link_path(caplog.text, "reset")  # no SMTP here: development prints the email to the log
    resp = set_password(browser, path, "a second harbour lantern")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/portal/")
    assert app.test_client().get(path).status_code == 400  # used
    assert sign_in(app.test_client(), invited.email, NEW_PASSWORD).status_code == 401
    assert sign_in(app.test_client(), invited.email, "a second harbour lantern").status_code == 302
