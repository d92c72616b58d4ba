"""Alembic environment (Flask-Migrate). Batch mode and type comparison on, metadata from zarts.models.

The same scripts run on SQLite and PostgreSQL: batch mode lets SQLite "alter" a table by copying it,
and the naming convention on Base.metadata gives every constraint the name the scripts use.
"""

import logging
from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate import renderers
from alembic.operations import ops
from flask import current_app

import zarts.models  # noqa: F401  (registers every table on the metadata)
from zarts.models.base import in_schema_of

config = context.config

# Keep the loggers the app (and pytest) already configured.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")


def get_engine():
    return current_app.extensions["migrate"].db.engine


def get_engine_url():
    return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")


config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db


def get_metadata():
    # db = SQLAlchemy(model_class=Base): this is Base.metadata, with its naming convention.
    return target_db.metadata


def _configure_args() -> dict:
    args = dict(current_app.extensions["migrate"].configure_args)
    args.setdefault("render_as_batch", True)
    args.setdefault("compare_type", True)
    args.setdefault("compare_server_default", False)
    return args


class EventTriggersOp(ops.MigrateOperation):
    """Create (or drop) the database triggers that keep `events` append-only."""

    def __init__(self, create: bool = True):
        self.create = create

    def reverse(self):
        return EventTriggersOp(not self.create)


@renderers.dispatch_for(EventTriggersOp)
def _render_event_triggers(autogen_context, op_):
    # The printer indents after a line ending in ":" and dedents on an empty line.
    if op_.create:
        autogen_context.imports.add("from zarts.models import append_only_ddl")
        return [
            "# events are append-only in the database too (zarts.models.append_only_ddl)",
            "for statement in append_only_ddl(op.get_bind().dialect.name):",
            "op.execute(statement)",
            "",
        ]
    return [
        "# the append-only triggers of events (PostgreSQL also has their function)",
        "if op.get_bind().dialect.name == 'postgresql':",
        "op.execute('DROP TRIGGER IF EXISTS events_no_change ON events')",
        "op.execute('DROP FUNCTION IF EXISTS events_append_only()')",
        "else:",
        "op.execute('DROP TRIGGER IF EXISTS events_no_update')",
        "op.execute('DROP TRIGGER IF EXISTS events_no_delete')",
        "",
    ]


def _order_new_tables(upgrade_ops) -> None:
    """Put the new tables (each with its index ops) in foreign-key order, as create_all would."""
    creates = {o.table_name for o in upgrade_ops.ops if isinstance(o, ops.CreateTableOp)}
    chunks: dict[str, list] = {}
    for o in upgrade_ops.ops:
        name = getattr(o, "table_name", None)
        if name not in creates or not isinstance(o, (ops.CreateTableOp, ops.ModifyTableOps)):
            return  # a mixed revision: keep autogenerate's order
        chunks.setdefault(name, []).append(o)
    order = _fk_order({o.table_name: o for o in upgrade_ops.ops if isinstance(o, ops.CreateTableOp)})
    upgrade_ops.ops = [o for name in order for o in chunks[name]]


def _fk_order(creates: dict) -> list[str]:
    """Referenced tables first; where the keys form a cycle, break it at the fewest forward keys."""
    deps = {}
    for name, create in creates.items():
        deps[name] = {
            _referred(item)
            for item in create.columns
            if isinstance(item, sa.ForeignKeyConstraint) and not item.use_alter
        } & (set(creates) - {name})
    order: list[str] = []
    while deps:
        ready = sorted(n for n, d in deps.items() if not d - set(order))
        pick = ready[0] if ready else min(sorted(deps), key=lambda n: len(deps[n] - set(order)))
        order.append(pick)
        del deps[pick]
    return order


def _referred(fk: sa.ForeignKeyConstraint) -> str:
    return fk.elements[0].target_fullname.rsplit(".", 1)[0]


def _defer_cyclic_foreign_keys(upgrade_ops, downgrade_ops) -> None:
    """Create the tables first, then the foreign keys that point forward (or use_alter=True).

    The tables form cycles (clients <-> users, proposals <-> projects, ...). SQLite accepts a
    reference to a table that does not exist yet, PostgreSQL does not, and CREATE TABLE on
    PostgreSQL silently leaves out a use_alter=True key. So each such key becomes a
    create_foreign_key after all tables exist, and is dropped before any table on downgrade.
    """
    creates = [o for o in upgrade_ops.ops if isinstance(o, ops.CreateTableOp)]
    new_tables = {o.table_name for o in creates}
    created: set[str] = set()
    deferred: dict[str, list] = {}
    for create in creates:
        created.add(create.table_name)
        keep = []
        for item in create.columns:
            if isinstance(item, sa.ForeignKeyConstraint):
                target = _referred(item)
                if item.use_alter or (target in new_tables and target not in created):
                    deferred.setdefault(create.table_name, []).append(item)
                    continue
            keep.append(item)
        create.columns = keep
    for table_name, fks in deferred.items():
        adds = [ops.CreateForeignKeyOp.from_constraint(fk) for fk in fks]
        upgrade_ops.ops.append(ops.ModifyTableOps(table_name, adds))
        drops = [ops.DropConstraintOp(fk.name, table_name, type_="foreignkey") for fk in fks]
        downgrade_ops.ops.insert(0, ops.ModifyTableOps(table_name, drops))


def _add_event_triggers(upgrade_ops, downgrade_ops) -> None:
    if any(isinstance(o, ops.CreateTableOp) and o.table_name == "events" for o in upgrade_ops.ops):
        upgrade_ops.ops.append(EventTriggersOp(create=True))
        downgrade_ops.ops.insert(0, EventTriggersOp(create=False))


def shape_revision(script) -> None:
    """What autogenerate cannot know: table order with cycles, and the events triggers."""
    _order_new_tables(script.upgrade_ops)
    script.upgrade_ops.reverse_into(script.downgrade_ops)
    _defer_cyclic_foreign_keys(script.upgrade_ops, script.downgrade_ops)
    _add_event_triggers(script.upgrade_ops, script.downgrade_ops)


def run_migrations_offline():
    """Emit SQL to stdout (`zarts db upgrade --sql`) instead of running it."""
    url = config.get_main_option("sqlalchemy.url")
    args = _configure_args()
    args.setdefault("include_object", in_schema_of(sa.engine.make_url(url).get_backend_name()))
    context.configure(url=url, target_metadata=get_metadata(), literal_binds=True, **args)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    # An autogenerate that finds no change writes no empty revision file.
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")
                return
            shape_revision(script)

    conf_args = _configure_args()
    conf_args.setdefault("process_revision_directives", process_revision_directives)

    with get_engine().connect() as connection:
        # Indexes declared for one database only (postgresql_only) are not expected elsewhere.
        conf_args.setdefault("include_object", in_schema_of(connection.dialect.name))
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table by copy, drop and rename, and a downgrade drops tables that
            # rows of others still point at: with SQLite's foreign keys on, both fail once data
            # exists (Alembic's batch docs). Off for the run (a no-op inside a transaction, so before
            # it), and every key checked at the end instead: a migration leaving a dangling key fails.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # end the autobegun transaction: the migrations open their own
        context.configure(connection=connection, target_metadata=get_metadata(), **conf_args)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left rows pointing at missing rows: {broken[:5]}")
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
