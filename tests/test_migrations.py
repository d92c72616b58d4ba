"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL, both ways.

If a model changes and nobody regenerates the migration, test_migrated_schema_matches_the_models
fails: see migrations/README for how to regenerate it.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from tests.builders import Make
from tests.conftest import PG_ADMIN_URL, _make_app
from zarts.extensions import db
from zarts.models import Base, Event
from zarts.models.base import in_schema_of


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request, tmp_path):
    """A factory of brand-new, empty databases of one backend, dropped after the test."""
    names: list[str] = []
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def create() -> str:
        name = f"zarts_mig_{uuid.uuid4().hex[:8]}"
        if request.param == "sqlite":
            return f"sqlite:///{tmp_path / name}.db"
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        except sa.exc.OperationalError as exc:  # pragma: no cover - environment problem
            pytest.fail(f"PostgreSQL is required on 127.0.0.1:5432 ({exc.orig})")
        names.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    yield create
    with admin.connect() as conn:
        for name in names:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture
def empty_app(new_database):
    """The app on an empty database that only the migrations will build."""
    app = _make_app(new_database())
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_there_is_one_head():
    from alembic.script import ScriptDirectory

    app = _make_app("sqlite://")
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgrade_downgrade_upgrade(empty_app):
    model_tables = set(Base.metadata.tables)

    upgrade()
    assert _tables() == model_tables | {"alembic_version"}

    downgrade(revision="base")
    assert _tables() == {"alembic_version"}
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            left = conn.execute(sa.text("SELECT count(*) FROM pg_proc WHERE proname = 'events_append_only'"))
            assert left.scalar() == 0, "downgrade left the trigger function behind"

    upgrade()
    assert _tables() == model_tables | {"alembic_version"}


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_round_trip_with_data(empty_app):
    """Upgrade, fill with the demo pipeline (every stage, a handoff, events, approvals), downgrade to
    nothing and upgrade again: the schema round-trips with data on both backends (SQLite's foreign
    keys used to refuse dropping a table that rows still pointed at)."""
    from zarts.demo import seed

    upgrade()
    assert seed("round-trip-pw") is not None
    db.session.remove()
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar() > 20

    downgrade(revision="base")
    assert _tables() == {"alembic_version"}

    upgrade()
    assert _tables() == set(Base.metadata.tables) | {"alembic_version"}
    assert seed("round-trip-pw") is not None  # the rebuilt schema takes the whole pipeline again
    db.session.remove()


# The tables form foreign-key cycles (clients <-> users, proposals <-> projects): expected, handled.
# SQLite cannot reflect expression indexes (the search index, the reminder-day index): SQLAlchemy
# and Alembic say so and skip them there; PostgreSQL compares them.
@pytest.mark.filterwarnings("ignore:Cannot correctly sort tables")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_migrated_schema_matches_the_models(empty_app):
    upgrade()
    with db.engine.connect() as conn:
        # As migrations/env.py does: an index declared for PostgreSQL only is not expected on SQLite.
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": in_schema_of(conn.dialect.name)}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], "models and migrations differ: regenerate the initial migration (migrations/README)"


def _check_constraints(engine) -> dict[tuple[str, str], str]:
    inspector = sa.inspect(engine)
    return {
        (table, c["name"]): c["sqltext"]
        for table in inspector.get_table_names()
        if table != "alembic_version"
        for c in inspector.get_check_constraints(table)
    }


@pytest.mark.filterwarnings("ignore:Cannot correctly sort tables")
def test_migrated_check_constraints_match_the_models(empty_app, new_database):
    # compare_metadata ignores CHECK constraints, which carry every enum's allowed values here:
    # compare them with a schema made by create_all on the same backend.
    upgrade()
    reference = sa.create_engine(new_database())
    try:
        Base.metadata.create_all(reference)
        expected = _check_constraints(reference)
    finally:
        reference.dispose()
    found = _check_constraints(db.engine)
    assert len(expected) > 20  # every enum column has one, plus the business rules
    assert found == expected, "regenerate the initial migration (migrations/README)"


def test_migrated_events_are_append_only_in_the_database(empty_app):
    upgrade()
    lead = Make().lead()
    db.session.add(Event(lead_id=lead.id, kind="created", stage="new", payload={}))
    db.session.commit()

    for statement in ("UPDATE events SET next_action = 'rewritten'", "DELETE FROM events"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with db.engine.begin() as conn:
                conn.execute(sa.text(statement))
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*), max(next_action) FROM events")).one() == (1, None)


def _index_settings(engine) -> dict[str, tuple]:
    """Index name -> (statistics target of its first column, storage parameters) (PostgreSQL), for
    the indexes that have either."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT c.relname, a.attstattarget, c.reloptions FROM pg_class c "
                "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = 1 "
                "WHERE c.relkind = 'i' AND (a.attstattarget > 0 OR c.reloptions IS NOT NULL)"
            )
        )
        return {name: (target, tuple(options or ())) for name, target, options in rows}


@pytest.mark.parametrize("new_database", ["postgresql"], indirect=True)  # targets are PostgreSQL's
def test_migrated_index_settings_match_the_models(new_database):
    """The planner's sample of the search document, and the search index's storage (no pending
    list), are the same on a migrated database as on one made from the models (create_all, as the
    tests and bench/seed.py make them)."""
    migrated, created = _make_app(new_database()), _make_app(new_database())
    with migrated.app_context():
        upgrade()
        from_migrations = _index_settings(db.engine)
        db.engine.dispose()
    with created.app_context():
        Base.metadata.create_all(db.engine)
        from_models = _index_settings(db.engine)
        db.engine.dispose()
    no_pending_list = ("fastupdate=off",)  # the global search's trigram indexes (issue 18) too
    assert (
        from_migrations
        == from_models
        == {
            "ix_leads_search_trgm": (250, no_pending_list),
            **{
                name: (-1, no_pending_list)
                for name in (
                    "ix_clients_name_trgm",
                    "ix_projects_name_trgm",
                    "ix_tasks_title_trgm",
                    "ix_messages_subject_trgm",
                    "ix_search_words_word_trgm",
                )
            },
        }
    )
