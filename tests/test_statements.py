"""Requests that only read end with COMMIT, so PostgreSQL keeps the statements psycopg prepared for
the next request (zarts/statements.py); anything else ends as before, with a rollback that leaves
nothing behind. Every request here runs in its own app context, as under gunicorn."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.builders import Make
from tests.conftest import _fresh_schema, _make_app
from zarts.extensions import db
from zarts.models import Lead

pytestmark = pytest.mark.pg


@pytest.fixture
def served(pg_url):
    """The app on PostgreSQL with no app context held open between requests, a signed-in admin and
    a lead; plus two routes that end a request without committing what they did."""
    app = _make_app(pg_url)
    _fresh_schema(app)

    @app.route("/_test/write-without-commit/<int:lead_id>")
    def write_without_commit(lead_id):
        db.session.execute(sa.update(Lead).where(Lead.id == lead_id).values(title="sent, never committed"))
        return "ok"

    @app.route("/_test/change-without-flush/<int:lead_id>")
    def change_without_flush(lead_id):
        db.session.get(Lead, lead_id).title = "changed, never sent"
        return "ok"

    with app.app_context():
        make = Make()
        admin = make.user("admin")
        lead = make.lead(title="Kept title")
        db.session.commit()
        user_id, lead_id = admin.get_id(), lead.id
        db.session.remove()
    client = app.test_client()
    with client.session_transaction() as s:
        s["_user_id"], s["_fresh"] = user_id, True
    yield app, client, lead_id
    with app.app_context():
        db.engine.dispose()


def _prepared(app) -> list[str]:
    """The statements prepared on the app's pooled connection (one connection: requests run in turn)."""
    with app.app_context():
        rows = db.session.execute(sa.text("SELECT statement FROM pg_prepared_statements")).scalars().all()
        db.session.remove()
        return rows


def _title(app, lead_id) -> str:
    with app.app_context():
        title = db.session.get(Lead, lead_id).title
        db.session.remove()
        return title


def test_pages_that_only_read_keep_their_prepared_statements(served):
    app, client, _ = served
    for _ in range(6):  # psycopg prepares a statement the fifth time a connection runs it
        assert client.get("/admin/leads/").status_code == 200
    prepared = _prepared(app)
    assert any("FROM users" in s for s in prepared)  # the signed-in user, read on every request
    assert any("FROM leads" in s for s in prepared)


def test_searches_and_filters_are_planned_for_what_was_typed_never_prepared(served):
    app, client, _ = served
    for term in ("Kept", "title", "kept", "zzz", "Title", "ept", "x"):
        assert client.get(f"/admin/leads/?search={term}").status_code == 200
        assert client.get("/admin/leads/?flt0_0=new").status_code == 200
    prepared = _prepared(app)
    assert not [s for s in prepared if "ILIKE" in s.upper() or "leads.stage =" in s]
    assert any("FROM users" in s for s in prepared)  # the rest of those pages still is


def test_a_request_that_wrote_without_committing_leaves_nothing(served):
    app, client, lead_id = served
    assert client.get(f"/_test/write-without-commit/{lead_id}").status_code == 200
    assert _title(app, lead_id) == "Kept title"


def test_changes_a_request_never_sent_are_dropped(served):
    app, client, lead_id = served
    assert client.get(f"/_test/change-without-flush/{lead_id}").status_code == 200
    assert _title(app, lead_id) == "Kept title"


def test_the_boards_cards_and_counts_are_prepared_on_their_first_run(served):
    """Their values (stages, page sizes) are in the SQL, so psycopg would never prepare them by
    itself; they ask to be prepared at once, and PostgreSQL plans them once."""
    app, client, _ = served
    assert client.get("/workspace/").status_code == 200
    prepared = _prepared(app)
    assert any("count(*)" in s and "LIMIT 1000" in s for s in prepared)  # the columns' capped counts
    assert any("EXISTS" in s and "FROM approvals" in s for s in prepared)  # the cards with their badges


def test_the_lead_page_only_reads_so_it_keeps_its_prepared_statements(served):
    """The timeline finds the leads merged into this one with plain SELECTs: a recursive WITH counted
    as a write, ended every lead page with a rollback and dropped what the connection had prepared."""
    app, client, lead_id = served
    for _ in range(6):
        assert client.get(f"/workspace/leads/{lead_id}").status_code == 200
    prepared = _prepared(app)
    assert any("FROM events" in s and "objection" not in s for s in prepared)  # the timeline
    assert any("FROM proposals" in s for s in prepared)
