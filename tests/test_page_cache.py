"""A page asked again while nothing in the database changed is answered without rendering, and
never shows stale state or another session's page (zarts/page_cache.py). Every request here runs
in its own app context, as under gunicorn."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.builders import Make
from tests.conftest import _fresh_schema, _make_app
from zarts import page_cache
from zarts.extensions import db
from zarts.models import Lead, User
from zarts.models.base import utcnow

# A page is reused only while nothing commits anywhere in the PostgreSQL cluster between two requests:
# the tests run alone (the parallel run's commits would turn an expected reuse into a render).
pytestmark = [pytest.mark.pg, pytest.mark.serial]

HIT = "X-Page-Cache"
HX_CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')


@pytest.fixture
def served(pg_url):
    """The app on PostgreSQL, nothing held open between requests; two growth-ops users, each with a
    lead, and a signed-in client for each."""
    app = _make_app(pg_url)
    _fresh_schema(app)
    with app.app_context():
        make = Make()
        ana = make.user("growth_ops", name="Ana Owner", email="ana.owner@zarts.test")
        ben = make.user("growth_ops", name="Ben Other", email="ben.other@zarts.test")
        lead = make.lead(owner=ana, title="Acme rebuild")
        make.lead(owner=ben, title="Bolt migration")
        db.session.commit()
        ids = {"ana": ana.get_id(), "ben": ben.get_id(), "ana_id": ana.id, "lead": lead.id}
        db.session.remove()
    clients = {}
    for who in ("ana", "ben"):
        clients[who] = app.test_client()
        with clients[who].session_transaction() as s:
            s["_user_id"], s["_fresh"] = ids[who], True
        # A session's first page gives it its CSRF token: that answer changed the session, so it is
        # not kept (what a browser's first page after sign-in is).
        assert HIT not in clients[who].get("/workspace/settings").headers
    yield app, clients, ids
    with app.app_context():
        db.engine.dispose()


def _statements(app):
    seen = []
    with app.app_context():
        engine = db.engine

    def on(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", on)
    return seen, lambda: sa.event.remove(engine, "before_cursor_execute", on)


def _commit(app, fn):
    """A change committed elsewhere (another user's request, a job)."""
    with app.app_context():
        fn()
        db.session.commit()
        db.session.remove()


def _hx_csrf(body: str) -> str:
    return HX_CSRF.search(body).group(1)


def test_a_page_asked_again_is_answered_without_rendering(served):
    app, clients, _ = served
    first = clients["ana"].get("/workspace/tasks")
    assert first.status_code == 200 and HIT not in first.headers
    seen, stop = _statements(app)
    try:
        again = clients["ana"].get("/workspace/tasks")
    finally:
        stop()
    assert again.status_code == 200 and again.headers[HIT] == "hit"
    assert again.get_data() == first.get_data()
    assert len(seen) == 1 and "pg_current_snapshot" in seen[0]  # no user, no rows: the snapshot alone
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    assert again.headers["Cache-Control"] == "no-store"  # the browser still asks us every time


def test_own_write_shows_on_the_next_page(served):
    app, clients, ids = served
    ana = clients["ana"]
    page = ana.get(f"/workspace/leads/{ids['lead']}").get_data(as_text=True)
    assert ana.get(f"/workspace/leads/{ids['lead']}").headers.get(HIT) == "hit"
    with app.app_context():
        version = db.session.get(Lead, ids["lead"]).version
        db.session.remove()
    due = (utcnow().date() + timedelta(days=3)).isoformat()
    resp = ana.post(
        f"/workspace/leads/{ids['lead']}/next-action",
        data={"version": version, "next_action": "Send the audit invite", "next_action_due": due},
        headers={"HX-Request": "true", "X-CSRFToken": _hx_csrf(page)},
    )
    assert resp.status_code == 200
    after = ana.get(f"/workspace/leads/{ids['lead']}")
    assert HIT not in after.headers and "Send the audit invite" in after.get_data(as_text=True)


def test_another_users_write_shows_on_the_next_page(served):
    app, clients, ids = served
    ana = clients["ana"]
    assert "Acme rebuild" in ana.get("/workspace/").get_data(as_text=True)
    assert ana.get("/workspace/").headers.get(HIT) == "hit"

    def rename():
        db.session.get(Lead, ids["lead"]).title = "Acme relaunch"

    _commit(app, rename)
    after = ana.get("/workspace/")
    body = after.get_data(as_text=True)
    assert HIT not in after.headers and "Acme relaunch" in body and "Acme rebuild" not in body


def test_a_page_is_never_another_sessions(served):
    app, clients, ids = served
    ana_page = clients["ana"].get("/workspace/settings").get_data(as_text=True)
    ben = clients["ben"].get("/workspace/settings")
    assert HIT not in ben.headers
    ben_page = ben.get_data(as_text=True)
    assert "ben.other@zarts.test" in ben_page and "ana.owner@zarts.test" not in ben_page
    assert "ana.owner@zarts.test" in ana_page
    # A second browser of Ana's (another session) renders its own page too.
    other = app.test_client()
    with other.session_transaction() as s:
        s["_user_id"], s["_fresh"] = ids["ana"], True
    other.get("/workspace/tasks")
    assert HIT not in other.get("/workspace/settings").headers
    assert clients["ana"].get("/workspace/settings").headers.get(HIT) == "hit"


def test_a_deactivated_user_is_not_answered_from_what_was_kept(served):
    app, clients, ids = served
    ana = clients["ana"]
    assert ana.get("/workspace/tasks").status_code == 200
    assert ana.get("/workspace/tasks").headers.get(HIT) == "hit"
    _commit(app, lambda: setattr(db.session.get(User, ids["ana_id"]), "active", False))
    resp = ana.get("/workspace/tasks")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_a_kept_page_is_rendered_again_when_its_clock_runs_out(served, monkeypatch):
    app, clients, _ = served
    ana = clients["ana"]
    ana.get("/workspace/tasks")
    assert ana.get("/workspace/tasks").headers.get(HIT) == "hit"
    later = page_cache.time.time() + app.config["PAGE_CACHE_SECONDS"] + 1
    monkeypatch.setattr(page_cache.time, "time", lambda: later)
    assert HIT not in ana.get("/workspace/tasks").headers


def test_htmx_fragment_and_full_page_are_kept_apart(served):
    app, clients, _ = served
    ana = clients["ana"]
    full = ana.get("/workspace/tasks").get_data(as_text=True)
    fragment = ana.get("/workspace/tasks", headers={"HX-Request": "true"})
    assert HIT not in fragment.headers
    again = ana.get("/workspace/tasks", headers={"HX-Request": "true"})
    assert again.headers.get(HIT) == "hit" and again.get_data(as_text=True) == fragment.get_data(as_text=True)
    assert "<!doctype html>" in full.lower()


def test_a_form_on_a_kept_page_still_posts(served):
    app, clients, ids = served
    ana = clients["ana"]
    ana.get(f"/workspace/leads/{ids['lead']}")
    kept = ana.get(f"/workspace/leads/{ids['lead']}")
    assert kept.headers.get(HIT) == "hit"
    with app.app_context():
        version = db.session.get(Lead, ids["lead"]).version
        db.session.remove()
    resp = ana.post(
        f"/workspace/leads/{ids['lead']}/next-action",
        data={
            "version": version,
            "next_action": "Call back",
            "next_action_due": (utcnow().date() + timedelta(days=2)).isoformat(),
        },
        headers={"HX-Request": "true", "X-CSRFToken": _hx_csrf(kept.get_data(as_text=True))},
    )
    assert resp.status_code == 200 and "Call back" in resp.get_data(as_text=True)


def test_a_kept_admin_page_gets_a_fresh_nonce(served):
    app, clients, ids = served
    with app.app_context():
        make = Make()
        admin = make.user("admin")
        db.session.commit()
        admin_id = admin.get_id()
        db.session.remove()
    c = app.test_client()
    with c.session_transaction() as s:
        s["_user_id"], s["_fresh"] = admin_id, True
    c.get("/admin/leads/")  # the session's first page: its CSRF token
    first = c.get("/admin/leads/")
    again = c.get("/admin/leads/")
    assert first.status_code == 200 and again.headers.get(HIT) == "hit"

    def nonces(resp):
        in_header = re.search(r"'nonce-([^']+)'", resp.headers["Content-Security-Policy"]).group(1)
        in_body = set(re.findall(r'nonce="([^"]+)"', resp.get_data(as_text=True)))
        return in_header, in_body

    first_header, first_body = nonces(first)
    again_header, again_body = nonces(again)
    assert first_body == {first_header} and again_body == {again_header}
    assert again_header != first_header
    assert again.get_data(as_text=True).replace(again_header, first_header) == first.get_data(as_text=True)


def test_flashed_messages_are_shown_once(served):
    app, clients, ids = served
    ana = clients["ana"]
    ana.get("/workspace/tasks")
    assert ana.get("/workspace/tasks").headers.get(HIT) == "hit"
    with ana.session_transaction() as s:
        s["_flashes"] = [("message", "Saved the thing.")]
    shown = ana.get("/workspace/tasks")
    assert HIT not in shown.headers and "Saved the thing." in shown.get_data(as_text=True)
    gone = ana.get("/workspace/tasks")
    assert "Saved the thing." not in gone.get_data(as_text=True)


def test_errors_and_other_answers_are_not_kept(served):
    app, clients, _ = served
    ana = clients["ana"]
    assert ana.get("/workspace/leads/999999").status_code == 404
    assert HIT not in ana.get("/workspace/leads/999999").headers
    signed_out = app.test_client()
    assert signed_out.get("/workspace/tasks").status_code == 302
    assert HIT not in signed_out.get("/workspace/tasks").headers


def test_turned_off_and_on_sqlite_every_page_is_rendered(pg_url, tmp_path):
    for config in (
        {"SQLALCHEMY_DATABASE_URI": pg_url, "PAGE_CACHE_SECONDS": 0},
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"},
    ):
        app = _make_app(config.pop("SQLALCHEMY_DATABASE_URI"), **config)
        assert "zarts.page_cache" not in app.extensions
    assert "zarts.page_cache" in _make_app(pg_url).extensions
