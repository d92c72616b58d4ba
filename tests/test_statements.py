"""Requests that only read keep the statements psycopg prepared for the next request, and run no
transaction at all; a write and what follows it are one transaction, a request that did not commit
leaves nothing behind; a connection the server closed is replaced before a request uses it
(zarts/statements.py). Every request here runs in its own app context, as under gunicorn."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.builders import Make
from tests.conftest import _fresh_schema, _make_app, csrf_token
from zarts.extensions import db
from zarts.models import Lead

pytestmark = pytest.mark.pg


@pytest.fixture
def served(pg_url):
    """The app on PostgreSQL with no app context held open between requests, a signed-in admin and
    a lead; plus two routes that end a request without committing what they did."""
    app = _make_app(pg_url, PAGE_CACHE_SECONDS=0)  # every request renders (zarts.page_cache off)
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


# --- reads without a transaction, liveness without a ping ------------------------------------------


@pytest.fixture
def statuses(served):
    """Each statement the app runs, with whether its connection was inside a transaction after it."""
    app, _, _ = served
    seen: list[tuple[str, str]] = []

    def after(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement.split(None, 1)[0].upper(), cursor.connection.info.transaction_status.name))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "after_cursor_execute", after)
    yield seen
    sa.event.remove(engine, "after_cursor_execute", after)


def test_a_page_that_only_reads_runs_no_transaction(served, statuses):
    """No BEGIN, no COMMIT: each SELECT runs on its own (as each would take its own snapshot inside a
    READ COMMITTED transaction anyway), two round trips less per page."""
    app, client, lead_id = served
    for path in ("/admin/leads/", f"/workspace/leads/{lead_id}", "/workspace/"):
        statuses.clear()
        assert client.get(path).status_code == 200
        assert statuses and {status for _, status in statuses} == {"IDLE"}, (path, statuses)


def test_a_write_and_what_follows_it_are_one_transaction(served, statuses):
    """The first statement that is not a plain read opens the transaction before it runs: the
    domain function's writes commit together (its UPDATE of the lead and its event)."""
    app, client, lead_id = served
    token = csrf_token(client)
    with app.app_context():
        version = db.session.get(Lead, lead_id).version
        db.session.remove()
    statuses.clear()
    response = client.post(
        f"/workspace/leads/{lead_id}/next-action",
        data={"next_action": "Call back", "next_action_due": "2999-01-02", "version": version},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code in (200, 302), response.data[:300]
    kinds = [kind for kind, _ in statuses]
    writes = [i for i, kind in enumerate(kinds) if kind in ("UPDATE", "INSERT", "DELETE")]
    assert len(writes) >= 2, statuses  # the lead and its event
    # From the first write to the last, one transaction; the page shown after the commit reads alone.
    assert {status for _, status in statuses[writes[0] : writes[-1] + 1]} == {"INTRANS"}, statuses
    assert {status for _, status in statuses[: writes[0]]} == {"IDLE"}, statuses
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        assert lead.next_action == "Call back"
        db.session.remove()


def test_row_locks_and_local_settings_live_until_commit(served):
    """SELECT ... FOR UPDATE and a transaction-local setting (the searches' statement timeout) run
    inside a transaction: the lock holds against another connection, the setting reaches the next
    statement."""
    app, _, lead_id = served
    other = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.pool.NullPool)
    with app.app_context():
        db.session.execute(sa.select(Lead.id).where(Lead.id == lead_id).with_for_update())
        with other.connect() as conn, pytest.raises(sa.exc.OperationalError, match="could not obtain lock"):
            conn.execute(sa.text("SELECT id FROM leads WHERE id = :id FOR UPDATE NOWAIT"), {"id": lead_id})
        db.session.rollback()
        db.session.execute(sa.text("SELECT set_config('statement_timeout', '4321', true)"))
        assert db.session.execute(sa.text("SHOW statement_timeout")).scalar() == "4321ms"
        db.session.rollback()
        assert db.session.execute(sa.text("SHOW statement_timeout")).scalar() != "4321ms"
        db.session.remove()
    other.dispose()


def test_a_pooled_connection_the_server_closed_is_replaced_before_it_is_used(served):
    """No ping before each request: the server says so when it closes a connection, and the pool
    replaces it at checkout. The next page answers as if nothing happened."""
    app, client, lead_id = served
    assert client.get(f"/workspace/leads/{lead_id}").status_code == 200
    with app.app_context():
        pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        db.session.remove()
    admin = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()
    for _ in range(3):
        response = client.get(f"/workspace/leads/{lead_id}")
        assert response.status_code == 200
        assert b"Kept title" in response.data
    with app.app_context():
        assert db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar() != pid
        db.session.remove()
