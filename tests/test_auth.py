"""Sign-in, sign-out, invites and password resets, through the real forms with real CSRF tokens."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote, urlsplit

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from tests.builders import PASSWORD
from tests.conftest import _fresh_schema, _make_app, csrf_token
from tests.links import fresh_link
from zarts.auth import WRONG_CREDENTIALS, tokens
from zarts.auth.tokens import PLACEHOLDER
from zarts.extensions import db
from zarts.models import Message, User, utcnow

NEW_PASSWORD = "a brand new passphrase"


class BrowserClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    The `app` fixture keeps an app context pushed for the whole test, and Flask reuses it for test
    requests: `g` then outlives a request, so Flask-Login's cached `g._login_user` and Flask-WTF's
    `g.csrf_token` leak from one request (and one client) to the next. Auth tests must not see that.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(autouse=True)
def _browser_clients(app):
    app.test_client_class = BrowserClient


def _login(client, email, password):
    """Sign in through the real form on any test client (one per browser or device)."""
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def _same_site_path(location: str) -> bool:
    """What a browser would resolve to this host: a path, nothing it could read as a host or scheme."""
    return (
        location.startswith("/")
        and location[1:2] not in ("/", "\\")
        and not re.search(r"[\\\s\x00-\x1f]", location)
        and not urlsplit(location).netloc
    )


def _session_cookie(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))


def _flashes(client) -> str:
    return client.get("/login").get_data(as_text=True)


@pytest.fixture
def staff(make):
    user = make.user("growth_ops")
    db.session.commit()
    return user


# --- signing in --------------------------------------------------------------------------------


def test_wrong_password_and_unknown_user_get_the_same_answer(auth, staff):
    wrong = auth.login(staff.email, "not the password")
    unknown = auth.login("nobody@zarts.test", "not the password")

    assert wrong.status_code == unknown.status_code == 401
    assert WRONG_CREDENTIALS in wrong.get_data(as_text=True)
    assert WRONG_CREDENTIALS in unknown.get_data(as_text=True)
    assert "nobody@zarts.test" not in unknown.get_data(as_text=True).replace('value="nobody@zarts.test"', "")


def test_empty_form_asks_for_both_fields(auth):
    resp = auth.login("", "")
    assert resp.status_code == 401 and "Enter your email and password." in resp.get_data(as_text=True)


def test_email_is_matched_case_insensitively(auth, staff):
    resp = auth.login("  " + staff.email.upper() + " ", PASSWORD)
    assert resp.status_code == 302


def test_staff_land_on_the_workspace(auth, staff):
    resp = auth.login(staff.email, PASSWORD)
    assert resp.status_code == 302 and resp.headers["Location"] == "/workspace/"


def test_client_contacts_land_on_the_portal(auth, make):
    contact = make.user("client")
    db.session.commit()
    resp = auth.login(contact.email, PASSWORD)
    assert resp.status_code == 302 and resp.headers["Location"] == "/portal/"


OFF_SITE = [
    "//evil.test",
    "///evil.test",
    "https://evil.test",
    "https:/evil.test",
    "http:evil.test",
    "javascript:alert(1)",
    "/\\evil.test",
    "\\\\evil.test",
    "/\n/evil.test",
    "/\r\n/evil.test",
    "/\t/evil.test",
    "/\x00/evil.test",
    " //evil.test",
    "evil.test",
]


@pytest.mark.parametrize("target", OFF_SITE, ids=repr)
@pytest.mark.parametrize("where", ["form", "query"])
def test_off_site_next_never_redirects_off_site(client, staff, target, where):
    data = {"email": staff.email, "password": PASSWORD, "csrf_token": csrf_token(client)}
    if where == "form":
        resp = client.post("/login", data=data | {"next": target})
    else:
        resp = client.post("/login?next=" + quote(target, safe=""), data=data)
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/workspace/"


@pytest.mark.parametrize(
    "raw_query",
    [
        "next=/%0a/evil.test",
        "next=/%0d%0a/evil.test",
        "next=%2F%2Fevil.test",
        "next=/%5Cevil.test",
        "next=/%09/evil.test",
    ],
)
def test_percent_encoded_next_never_redirects_off_site(client, staff, raw_query):
    data = {"email": staff.email, "password": PASSWORD, "csrf_token": csrf_token(client)}
    resp = client.post("/login?" + raw_query, data=data)
    assert resp.status_code == 302 and _same_site_path(resp.headers["Location"])
    assert resp.headers["Location"] == "/workspace/"


@pytest.mark.parametrize("target", OFF_SITE, ids=repr)
def test_login_page_does_not_carry_an_off_site_next(client, target):
    html = client.get("/login?next=" + quote(target, safe="")).get_data(as_text=True)
    assert 'name="next"' not in html


def test_a_same_site_next_is_honoured(client, staff):
    target = "/workspace/tasks?due=today"
    page = client.get("/login?next=" + quote(target, safe=""))
    assert f'name="next" value="{target}"' in page.get_data(as_text=True)
    resp = client.post(
        "/login",
        data={"email": staff.email, "password": PASSWORD, "next": target, "csrf_token": csrf_token(client)},
    )
    assert resp.status_code == 302 and resp.headers["Location"] == target


def test_a_protected_page_sends_anonymous_users_to_login_and_back(client, staff):
    resp = client.get("/workspace/tasks")
    assert resp.status_code == 302
    assert urlsplit(resp.headers["Location"]).path == "/login"
    resp = client.post(
        resp.headers["Location"],
        data={"email": staff.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert resp.headers["Location"] == "/workspace/tasks"


# --- sessions --------------------------------------------------------------------------------


def test_a_session_cookie_replayed_after_logout_is_refused(client, auth, staff):
    auth.login(staff.email, PASSWORD)
    assert client.get("/workspace/").status_code == 200
    stolen = client.get_cookie("session").value

    resp = auth.post("/logout")
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    assert "You are signed out." in _flashes(client)

    client.set_cookie("session", stolen)
    resp = client.get("/workspace/")
    assert resp.status_code == 302 and urlsplit(resp.headers["Location"]).path == "/login"


def test_logout_ends_the_sessions_on_other_devices(app, staff):
    laptop, phone = app.test_client(), app.test_client()
    _login(laptop, staff.email, PASSWORD)
    _login(phone, staff.email, PASSWORD)
    laptop.post("/logout", data={"csrf_token": csrf_token(laptop)})
    assert phone.get("/workspace/").status_code == 302


def test_a_deactivated_user_cannot_sign_in(auth, staff):
    staff.active = False
    db.session.commit()
    resp = auth.login(staff.email, PASSWORD)
    assert resp.status_code == 401 and WRONG_CREDENTIALS in resp.get_data(as_text=True)


def test_deactivation_ends_an_existing_session(client, auth, staff):
    auth.login(staff.email, PASSWORD)
    assert client.get("/workspace/").status_code == 200

    db.session.get(User, staff.id).active = False
    db.session.commit()

    resp = client.get("/workspace/")
    assert resp.status_code == 302 and urlsplit(resp.headers["Location"]).path == "/login"


def test_session_cookie_is_httponly_and_samesite_lax(client):
    cookie = _session_cookie(client.get("/login"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development runs on plain http://127.0.0.1


def test_session_cookie_is_secure_in_production(monkeypatch, tmp_path):
    monkeypatch.setenv("ZARTS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-private-production-key-for-this-test")
    app = _make_app(f"sqlite:///{tmp_path / 'prod.db'}", SECRET_KEY="a-private-production-key-for-this-test")
    _fresh_schema(app)
    cookie = _session_cookie(app.test_client().get("/login", base_url="https://localhost"))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


# --- CSRF ------------------------------------------------------------------------------------


def _login_data(user, **extra):
    return {"email": user.email, "password": PASSWORD} | extra


@pytest.mark.parametrize("how", ["no token", "wrong form token", "wrong header token"])
def test_login_without_a_valid_csrf_token_is_refused(client, staff, how):
    csrf_token(client)  # the session has a real token; the request does not carry it
    data, headers = _login_data(staff), {}
    if how == "wrong form token":
        data["csrf_token"] = "forged"
    elif how == "wrong header token":
        headers["X-CSRFToken"] = "forged"
    resp = client.post("/login", data=data, headers=headers)
    assert resp.status_code == 400
    assert client.get("/workspace/").status_code == 302  # not signed in


@pytest.mark.parametrize("how", ["no token", "wrong form token", "wrong header token"])
def test_logout_without_a_valid_csrf_token_is_refused(client, auth, staff, how):
    auth.login(staff.email, PASSWORD)
    data, headers = {}, {}
    if how == "wrong form token":
        data["csrf_token"] = "forged"
    elif how == "wrong header token":
        headers["X-CSRFToken"] = "forged"
    resp = client.post("/logout", data=data, headers=headers)
    assert resp.status_code == 400
    assert client.get("/workspace/").status_code == 200  # still signed in


def test_a_token_from_another_session_is_refused(app, client, staff):
    other = app.test_client()
    resp = client.post("/login", data=_login_data(staff, csrf_token=csrf_token(other)))
    assert resp.status_code == 400


def test_a_correct_header_token_is_accepted(client, staff):
    token = csrf_token(client)
    resp = client.post("/login", data=_login_data(staff), headers={"X-CSRFToken": token})
    assert resp.status_code == 302 and resp.headers["Location"] == "/workspace/"

    resp = client.post("/logout", headers={"X-CSRFToken": csrf_token(client)})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    assert client.get("/workspace/").status_code == 302


def test_logout_is_post_only(client, auth, staff):
    auth.login(staff.email, PASSWORD)
    assert client.get("/logout").status_code == 405
    assert client.get("/workspace/").status_code == 200


# --- invites ---------------------------------------------------------------------------------


@pytest.fixture
def invited(make):
    """A client contact created by handoff: no password yet, an invite link to set one."""
    user = make.user("client")
    user.password_hash = None
    db.session.commit()
    return user


def _set_password(client, url, password, confirm=None):
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(
        url,
        data={
            "password": password,
            "confirm": password if confirm is None else confirm,
            "csrf_token": csrf_token(client),
        },
    )


def _minted_ago(monkeypatch, user, purpose, age: timedelta) -> str:
    """A link minted `age` ago (the clock is moved back while it is minted)."""
    with monkeypatch.context() as m:
        m.setattr(tokens, "utcnow", lambda: utcnow() - age)
        return fresh_link(user, purpose)


def test_an_invite_sets_the_password_once(app, client, invited):
    url = fresh_link(invited, "invite")

    resp = _set_password(client, url, NEW_PASSWORD)
    assert resp.status_code == 302 and resp.headers["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200  # signed in by the invite

    again = app.test_client()
    assert again.get(url).status_code == 400
    resp = again.post(
        url,
        data={
            "password": "someone else's pass",
            "confirm": "someone else's pass",
            "csrf_token": csrf_token(again),
        },
    )
    assert resp.status_code == 400 and "already been used" in resp.get_data(as_text=True)

    assert _login(app.test_client(), invited.email, NEW_PASSWORD).status_code == 302
    assert _login(app.test_client(), invited.email, "someone else's pass").status_code == 401


def test_an_expired_invite_is_refused(client, invited, monkeypatch):
    resp = client.get(_minted_ago(monkeypatch, invited, "invite", timedelta(days=8)))
    assert resp.status_code == 400 and "expired" in resp.get_data(as_text=True)
    assert client.get(_minted_ago(monkeypatch, invited, "invite", timedelta(days=6))).status_code == 200


def test_a_forged_or_foreign_token_is_refused(client, invited):
    assert client.get("/invite/not-a-token").status_code == 400
    reset_path = fresh_link(invited, "reset")  # a reset token is not an invite
    resp = client.get(reset_path.replace("/reset/", "/invite/"))
    assert resp.status_code == 400 and "This link is not valid." in resp.get_data(as_text=True)


def test_a_short_password_is_refused_with_a_message(app, client, invited):
    url = fresh_link(invited, "invite")
    resp = _set_password(client, url, "short")
    assert resp.status_code == 400 and "Use at least 10 characters." in resp.get_data(as_text=True)

    resp = client.post(
        url, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x", "csrf_token": csrf_token(client)}
    )
    assert resp.status_code == 400 and "The two passwords differ." in resp.get_data(as_text=True)

    db.session.expire_all()
    assert db.session.get(User, invited.id).password_hash is None
    assert _set_password(client, url, NEW_PASSWORD).status_code == 302  # the link still works


# --- password reset --------------------------------------------------------------------------


def _request_reset(client, email):
    resp = client.post("/reset", data={"email": email, "csrf_token": csrf_token(client)})
    return resp, _flashes(client)


def _reset_messages(email):
    return db.session.execute(sa.select(Message).where(Message.to_email == email)).scalars().all()


def test_reset_request_gives_the_same_answer_for_known_and_unknown_emails(app, staff):
    known, known_page = _request_reset(app.test_client(), staff.email)
    unknown, unknown_page = _request_reset(app.test_client(), "nobody@zarts.test")

    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"] == "/login"
    notice = "If that address has an account, a reset link is on its way."
    assert notice in known_page and notice in unknown_page
    assert len(_reset_messages(staff.email)) == 1
    assert _reset_messages("nobody@zarts.test") == []


def test_a_reset_link_sets_a_new_password_once_and_ends_other_sessions(app, client, auth, staff, caplog):
    """Without SMTP_URL (development) the email with its link is printed to the log, never stored."""
    auth.login(staff.email, PASSWORD)
    _request_reset(app.test_client(), staff.email)
    (message,) = _reset_messages(staff.email)
    assert PLACEHOLDER in message.body and "/reset/" not in message.body and message.link_purpose == "reset"
    link = re.search(r"https?://\S+/reset/\S+", caplog.text).group(0)
    path = urlsplit(link).path

    other = app.test_client()
    resp = _set_password(other, path, NEW_PASSWORD)
    assert resp.status_code == 302 and resp.headers["Location"] == "/workspace/"

    assert client.get("/workspace/").status_code == 302  # the old session ended
    assert app.test_client().get(path).status_code == 400  # the link worked once
    assert _login(app.test_client(), staff.email, PASSWORD).status_code == 401
    assert _login(app.test_client(), staff.email, NEW_PASSWORD).status_code == 302


def test_a_deactivated_user_gets_no_reset_link(app, staff):
    staff.active = False
    db.session.commit()
    _request_reset(app.test_client(), staff.email)
    assert _reset_messages(staff.email) == []


def test_an_expired_reset_link_is_refused(client, staff, monkeypatch):
    resp = client.get(_minted_ago(monkeypatch, staff, "reset", timedelta(hours=3)))
    assert resp.status_code == 400 and "expired" in resp.get_data(as_text=True)
    assert client.get(_minted_ago(monkeypatch, staff, "reset", timedelta(hours=1))).status_code == 200


# --- links are spent by any password set, and by deactivation -----------------------------------


def _refused(app, path) -> bool:
    resp = app.test_client().get(path)
    return resp.status_code == 400 and "already been used" in resp.get_data(as_text=True)


def test_using_one_link_spends_the_users_other_links(app, invited):
    invite, reset = fresh_link(invited, "invite"), fresh_link(invited, "reset")
    assert _set_password(app.test_client(), reset, NEW_PASSWORD).status_code == 302
    assert _refused(app, invite) and _refused(app, reset)


@pytest.mark.parametrize("race", [False, True])
def test_a_link_opened_in_two_browsers_sets_the_password_once(app, invited, monkeypatch, race):
    """`race`: the second request read the link before the first spent it (only spending it refuses)."""
    import zarts.auth

    url = fresh_link(invited, "invite")
    first, second = app.test_client(), app.test_client()
    assert second.get(url).status_code == 200  # the form is open in both
    assert _set_password(first, url, NEW_PASSWORD).status_code == 302
    if race:
        monkeypatch.setattr(zarts.auth, "read_token", lambda token, purpose: (invited, None))
    resp = second.post(
        url,
        data={
            "password": "someone else's pass",
            "confirm": "someone else's pass",
            "csrf_token": csrf_token(second),
        },
    )
    assert resp.status_code == 400 and "already been used" in resp.get_data(as_text=True)
    assert _login(app.test_client(), invited.email, NEW_PASSWORD).status_code == 302
    assert _login(app.test_client(), invited.email, "someone else's pass").status_code == 401


def test_a_password_change_spends_the_links_still_out(app, client, staff):
    reset = fresh_link(staff, "reset")
    _login(client, staff.email, PASSWORD)
    resp = client.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(client),
        },
    )
    assert resp.status_code == 302
    assert _refused(app, reset)


def test_deactivation_spends_the_links_and_reactivation_revives_none(app, staff):
    reset = fresh_link(staff, "reset")
    staff.active = False
    db.session.commit()
    assert _refused(app, reset)
    staff.active = True
    db.session.commit()
    assert _refused(app, reset)
    assert app.test_client().get(fresh_link(staff, "reset")).status_code == 200  # a new one works
