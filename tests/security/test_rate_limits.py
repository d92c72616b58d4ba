"""Sign-in abuse: POSTs to /login, /portal/login and /reset are limited per address (10/minute) and
per account email (5/minute), with one clear 429 page — the same for unknown and known emails, so
the limit tells an attacker nothing about which accounts exist."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from tests.builders import PASSWORD, Make
from tests.conftest import RUN_ID, _fresh_schema, _make_app, csrf_token
from zarts.auth.limits import SIGN_IN_LIMITED
from zarts.extensions import db


@pytest.fixture
def limited(request, tmp_path):
    """Factory: an app with the sign-in limits on (memory storage unless told otherwise)."""
    made = []

    def build(**config):
        app = _make_app(
            f"sqlite:///{tmp_path / f'limits{len(made)}.db'}",
            RATELIMIT_ENABLED=True,
            RATELIMIT_KEY_PREFIX=f"zarts-test-{RUN_ID}-{uuid.uuid4().hex[:8]}",
            **config,
        )
        _fresh_schema(app)
        ctx = app.app_context()
        ctx.push()
        made.append((app, ctx))
        return app

    yield build
    for app, ctx in reversed(made):
        db.session.remove()
        if app.config.get("REDIS_URL"):  # drop this test's keys (only those) from the shared Redis
            import redis

            r = redis.Redis.from_url(app.config["REDIS_URL"])
            keys = list(r.scan_iter(match=f"*{app.config['RATELIMIT_KEY_PREFIX']}*"))
            assert keys, "the limits were not counted in Redis"
            r.delete(*keys)
        ctx.pop()


def attempt(client, path, email, password="wrong password", address="10.0.0.1"):
    token = csrf_token(client)
    data = {"email": email, "password": password, "csrf_token": token}
    return client.post(path, data=data, environ_overrides={"REMOTE_ADDR": address})


def visible_text(resp) -> str:
    html = resp.get_data(as_text=True)
    html = re.sub(r'value="[^"]*"|"X-CSRFToken": "[^"]*"', "", html)  # per-session tokens
    return html


@pytest.mark.parametrize("storage", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
def test_an_account_is_limited_the_same_whether_it_exists_or_not(limited, redis_url_or_none, storage):
    app = limited(REDIS_URL=redis_url_or_none(storage))
    staff = Make().user("growth_ops")
    db.session.commit()
    answers = {}
    for email in (staff.email, "nobody-here@zarts.test"):
        c = app.test_client()
        # From a new address each time: the account limit holds however the attempts are spread.
        codes = [
            attempt(c, "/login", email, address=f"10.1.{i}.{len(answers)}").status_code for i in range(5)
        ]
        assert codes == [401] * 5, codes
        sixth = attempt(c, "/login", email, address="10.9.9.9")
        assert sixth.status_code == 429
        assert SIGN_IN_LIMITED in sixth.get_data(as_text=True)
        assert int(sixth.headers["Retry-After"]) <= 60
        answers[email] = visible_text(sixth)
    known, unknown = answers.values()
    assert known == unknown  # the same page, word for word: no account enumeration


@pytest.fixture
def redis_url_or_none(request):
    def pick(storage):
        return request.getfixturevalue("redis_url") if storage == "redis" else None

    return pick


def test_the_right_password_is_refused_too_while_limited_then_works_after_the_window(limited):
    app = limited(RATELIMIT_SIGN_IN_PER_ACCOUNT="3/2second")
    staff = Make().user("growth_ops")
    db.session.commit()
    c = app.test_client()
    for _ in range(3):
        assert attempt(c, "/login", staff.email).status_code == 401
    resp = attempt(c, "/login", staff.email, PASSWORD)
    assert resp.status_code == 429  # no oracle: a limited attempt checks nothing
    assert c.get("/workspace/").status_code == 302
    time.sleep(2.2)
    assert attempt(c, "/login", staff.email, PASSWORD).status_code == 302
    assert c.get("/workspace/").status_code == 200


def test_an_address_is_limited_across_emails_and_sign_in_forms(limited):
    app = limited()
    c = app.test_client()
    paths = ["/login", "/portal/login", "/reset"]
    for i in range(10):
        resp = attempt(c, paths[i % 3], f"guess{i}@zarts.test", address="10.2.0.1")
        assert resp.status_code in (302, 401), resp.status_code  # /reset redirects with its notice
    for path in paths:
        resp = attempt(c, path, "fresh@zarts.test", address="10.2.0.1")
        assert resp.status_code == 429 and SIGN_IN_LIMITED in resp.get_data(as_text=True), path
    # Another address is not affected.
    assert attempt(c, "/login", "fresh@zarts.test", address="10.2.0.2").status_code == 401


def test_an_account_is_limited_across_sign_in_and_reset(limited):
    app = limited()
    staff = Make().user("growth_ops")
    db.session.commit()
    c = app.test_client()
    for i in range(5):
        path = "/reset" if i % 2 else "/portal/login"
        assert attempt(c, path, staff.email.upper(), address=f"10.3.0.{i}").status_code in (302, 401)
    assert attempt(c, "/login", f"  {staff.email} ", address="10.3.1.1").status_code == 429


def test_pages_and_other_forms_are_not_limited(limited):
    app = limited()
    staff = Make().user("growth_ops")
    db.session.commit()
    c = app.test_client()
    for _ in range(25):
        assert c.get("/login", environ_overrides={"REMOTE_ADDR": "10.4.0.1"}).status_code == 200
    assert attempt(c, "/login", staff.email, PASSWORD, address="10.4.0.1").status_code == 302
    for _ in range(12):
        assert c.get("/workspace/", environ_overrides={"REMOTE_ADDR": "10.4.0.1"}).status_code == 200


def test_password_change_attempts_are_limited_per_user(limited):
    app = limited()
    staff = Make().user("growth_ops")
    db.session.commit()
    c = app.test_client()
    assert attempt(c, "/login", staff.email, PASSWORD).status_code == 302
    for i in range(5):
        resp = c.post(
            "/account/password",
            data={
                "current": f"guess {i} of it",
                "password": "x" * 12,
                "confirm": "x" * 12,
                "csrf_token": csrf_token(c),
            },
        )
        assert resp.status_code == 400
    resp = c.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "password": "new pass phrase",
            "confirm": "new pass phrase",
            "csrf_token": csrf_token(c),
        },
    )
    assert resp.status_code == 429 and SIGN_IN_LIMITED in resp.get_data(as_text=True)


def test_htmx_sign_in_gets_the_message_as_a_fragment(limited):
    app = limited(RATELIMIT_SIGN_IN_PER_ACCOUNT="1/minute")
    c = app.test_client()
    attempt(c, "/login", "a@zarts.test")
    resp = c.post(
        "/login",
        data={"email": "a@zarts.test", "password": "x", "csrf_token": csrf_token(c)},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 429
    body = resp.get_data(as_text=True)
    assert SIGN_IN_LIMITED in body and "<html" not in body


def test_limits_are_off_unless_enabled(app, client, make):
    """The test suite's default (RATELIMIT_ENABLED False) really turns them off."""
    staff = make.user("growth_ops")
    db.session.commit()
    for _ in range(12):
        assert attempt(client, "/login", staff.email).status_code == 401
