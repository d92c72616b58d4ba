"""Sessions end when they should: a password change ends every other session of the user (this one
stays, with the new token); a deactivation ends all of them, and a reactivation revives none."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.builders import PASSWORD
from tests.conftest import csrf_token
from tests.security.conftest import form_fields, post_form
from zarts.auth.passwords import verify_password
from zarts.extensions import db
from zarts.models import User

NEW_PASSWORD = "a brand new passphrase"


def sign_in(app, user, password=PASSWORD):
    c = app.test_client()
    resp = c.post("/login", data={"email": user.email, "password": password, "csrf_token": csrf_token(c)})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return c


def signed_in(c, page="/workspace/") -> bool:
    resp = c.get(page)
    if resp.status_code == 302:
        assert urlsplit(resp.headers["Location"]).path == "/login"
        return False
    assert resp.status_code == 200
    return True


def change(c, current, new, confirm=None, htmx=False):
    return post_form(
        c,
        "/account/password",
        {"current": current, "password": new, "confirm": new if confirm is None else confirm},
        htmx=htmx,
    )


@pytest.fixture
def staff(make):
    user = make.user("growth_ops")
    db.session.commit()
    return user


def test_a_password_change_keeps_this_session_and_ends_every_other(app, staff):
    laptop, phone = sign_in(app, staff), sign_in(app, staff)
    old_cookie = laptop.get_cookie("session").value

    resp = change(laptop, PASSWORD, NEW_PASSWORD)
    assert resp.status_code == 302 and resp.headers["Location"] == "/workspace/"

    assert signed_in(laptop)  # this device carries the new session token
    follow = laptop.get("/workspace/").get_data(as_text=True)
    assert "Any other device you were signed in on is signed out." in follow or signed_in(laptop)
    assert not signed_in(phone)
    laptop.set_cookie("session", old_cookie)  # the cookie from before the change is dead too
    assert not signed_in(laptop)

    db.session.expire_all()
    user = db.session.get(User, staff.id)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert not verify_password(user.password_hash, PASSWORD)
    sign_in(app, staff, NEW_PASSWORD)


@pytest.mark.parametrize(
    "current, new, confirm, message",
    [
        ("not my password", NEW_PASSWORD, None, "Your current password is not right."),
        (PASSWORD, NEW_PASSWORD, "something else", "The two new passwords differ."),
        (PASSWORD, "short", None, "Use at least 10 characters."),
        (PASSWORD, PASSWORD, None, "Choose a new password that differs from the current one."),
        ("", "", None, "Enter your current password and the new one twice."),
    ],
)
def test_a_refused_change_says_why_and_changes_nothing(app, staff, current, new, confirm, message):
    laptop, phone = sign_in(app, staff), sign_in(app, staff)
    before = (staff.password_hash, staff.session_token)
    resp = change(laptop, current, new, confirm)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    db.session.expire_all()
    user = db.session.get(User, staff.id)
    assert (user.password_hash, user.session_token) == before
    assert signed_in(laptop) and signed_in(phone)


def test_the_change_page_needs_a_session_and_a_csrf_token(app, client, staff):
    resp = client.get("/account/password")
    assert resp.status_code == 302 and urlsplit(resp.headers["Location"]).path == "/login"
    laptop = sign_in(app, staff)
    resp = laptop.post(
        "/account/password", data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert resp.status_code == 400
    db.session.expire_all()
    assert verify_password(db.session.get(User, staff.id).password_hash, PASSWORD)


def test_a_client_contact_changes_their_password_in_the_portal(app, make):
    contact = make.user("client")
    db.session.commit()
    phone = sign_in(app, contact)
    page = phone.get("/account/password")
    assert page.status_code == 200 and {"current", "password", "confirm"} <= set(
        form_fields(page.get_data(as_text=True), "/account/password")
    )
    resp = change(phone, PASSWORD, NEW_PASSWORD)
    assert resp.status_code == 302 and resp.headers["Location"] == "/portal/"
    assert signed_in(phone, "/portal/")


# --- deactivation -----------------------------------------------------------------------------------


def admin_saves_user(admin_client, user_id: int, **changes):
    """The admin's user form, as loaded, with `changes` (a checkbox left out is unticked)."""
    url = f"/admin/users/edit/?id={user_id}"
    fields = form_fields(admin_client.get(url).get_data(as_text=True), url)
    fields.update({k: v for k, v in changes.items() if v is not None})
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
    return post_form(admin_client, url, fields)


def test_deactivating_a_user_in_the_admin_ends_all_their_sessions_for_good(app, make, staff):
    admin = make.user("admin")
    db.session.commit()
    laptop, phone = sign_in(app, staff), sign_in(app, staff)
    admin_client = sign_in(app, admin)

    resp = admin_saves_user(admin_client, staff.id, active=None)  # untick "active"
    assert resp.status_code == 302, resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, staff.id).active is False
    assert not signed_in(laptop) and not signed_in(phone)

    assert admin_saves_user(admin_client, staff.id, active="y").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, staff.id).active is True
    assert not signed_in(laptop) and not signed_in(phone)  # reactivation revives no old cookie
    assert signed_in(sign_in(app, staff))


def test_deactivation_outside_the_admin_also_ends_the_sessions(app, staff):
    """A script or the CLI flipping `active` rotates the token too (an ORM attribute event)."""
    laptop = sign_in(app, staff)
    user = db.session.get(User, staff.id)
    user.active = False
    db.session.commit()
    user.active = True
    db.session.commit()
    assert not signed_in(laptop)


def test_a_role_change_ends_the_sessions_made_under_the_old_role(app, make, staff):
    admin = make.user("admin")
    db.session.commit()
    laptop = sign_in(app, staff)
    admin_client = sign_in(app, admin)
    assert admin_saves_user(admin_client, staff.id, role="delivery").status_code == 302
    assert not signed_in(laptop)


def test_passwords_are_hashed_with_argon2id_at_owasp_strength():
    from zarts.auth.passwords import hash_password

    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(stored, "correct horse battery") and not verify_password(stored, "wrong")
