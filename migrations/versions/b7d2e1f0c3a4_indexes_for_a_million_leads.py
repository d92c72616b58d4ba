"""indexes for a million leads, metric snapshots, tasks.reminded_window

A GIN trigram index (pg_trgm) on the leads' search document (title, company, contact name and
email in one text: zarts.models.pipeline.search_document) for the admin's ILIKE search, with a
statistics target of 1000 so the planner can tell a common word from a rare one (PostgreSQL only);
and btree indexes for the list orders and filters that had none: leads by stage and tasks by
kind in id order (replacing the single-column indexes), tasks by due date, open tasks of a kind
by due date, open tasks in (due, id) order (replacing the open tasks' due index: the reminder
sweep's keyset), approvals by decision time. The models declare the same indexes. And the table metric_snapshots
(the dashboard's aggregates at large volumes: zarts.workspace.metrics), and tasks.reminded_window
(the reminder sweep's bookkeeping: zarts.domain.reminders), carried by ix_tasks_open_due_id.

On PostgreSQL the indexes are built CONCURRENTLY (outside the migration's transaction), so a live
database keeps taking writes while they build (about a minute at a million leads).

Revision ID: b7d2e1f0c3a4
Revises: a875acb1f97f
Create Date: 2026-11-27 05:37:53.333341

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b7d2e1f0c3a4"
down_revision = "a875acb1f97f"
branch_labels = None
depends_on = None

SEARCH_INDEX = "ix_leads_search_trgm"
SEARCH_DOCUMENT = (
    "((((((title || ' ') || company) || ' ') || coalesce(contact_name, '')) || ' ') "
    "|| coalesce(contact_email, ''))"
)  # zarts.models.pipeline.SEARCH_DOCUMENT_SQL
# (name, table, columns, keyword arguments); REPLACED: single-column indexes these make redundant.
REPLACED = [
    ("ix_leads_stage", "leads", ["stage"], {}),
    ("ix_tasks_kind", "tasks", ["kind"], {}),
    ("ix_tasks_open_due", "tasks", ["due"], {"postgresql_where": sa.text("done_at IS NULL")}),
]
BTREE = [
    ("ix_approvals_decided", "approvals", ["decided_at", "id"], {}),
    ("ix_leads_stage_id", "leads", ["stage", "id"], {}),
    ("ix_tasks_due_id", "tasks", ["due", "id"], {}),
    ("ix_tasks_kind_id", "tasks", ["kind", "id"], {}),
    (
        "ix_tasks_open_kind_due",
        "tasks",
        ["kind", "due", "id"],
        {"postgresql_where": sa.text("done_at IS NULL")},
    ),
    (
        "ix_tasks_open_due_id",
        "tasks",
        ["due", "id"],
        {
            "postgresql_where": sa.text("done_at IS NULL"),
            "postgresql_include": ["reminded_window", "lead_id"],
        },
    ),
]


def _postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade():
    op.create_table(
        "metric_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "name",
            sa.Enum("dashboard", name="snapshot_name", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_snapshots")),
        sa.UniqueConstraint("name", name=op.f("uq_metric_snapshots_name")),
    )
    op.add_column("tasks", sa.Column("reminded_window", sa.String(length=20), nullable=True))
    if not _postgresql():
        for name, table, columns, kw in BTREE:
            op.create_index(name, table, columns, unique=False, **kw)
        for name, table, _, _ in REPLACED:
            op.drop_index(name, table_name=table)
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.get_context().autocommit_block():
        for name, table, columns, kw in BTREE:
            op.create_index(
                name, table, columns, unique=False, postgresql_concurrently=True, if_not_exists=True, **kw
            )
        op.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {SEARCH_INDEX} ON leads "
            f"USING gin ({SEARCH_DOCUMENT} gin_trgm_ops)"
        )
        for name, table, _, _ in REPLACED:
            op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
    op.execute(f"ALTER INDEX {SEARCH_INDEX} ALTER COLUMN 1 SET STATISTICS 1000")
    # tasks: vacuumed after 1% of its rows changed, so ix_tasks_open_due_id scans stay index-only
    op.execute(
        "ALTER TABLE tasks SET (autovacuum_vacuum_scale_factor = 0.01, "
        "autovacuum_vacuum_insert_scale_factor = 0.01)"
    )
    op.execute("ANALYZE leads")


def downgrade():
    op.drop_table("metric_snapshots")
    if not _postgresql():
        for name, table, columns, kw in REPLACED:
            op.create_index(name, table, columns, unique=False, **kw)
        for name, table, _, _ in reversed(BTREE):
            op.drop_index(name, table_name=table)
        with op.batch_alter_table("tasks") as batch_op:
            batch_op.drop_column("reminded_window")
        return
    with op.get_context().autocommit_block():
        for name, table, columns, kw in REPLACED:
            op.create_index(
                name, table, columns, unique=False, postgresql_concurrently=True, if_not_exists=True, **kw
            )
        op.drop_index(SEARCH_INDEX, table_name="leads", postgresql_concurrently=True, if_exists=True)
        for name, table, _, _ in reversed(BTREE):
            op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
    op.drop_column("tasks", "reminded_window")
    op.execute(
        "ALTER TABLE tasks RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_insert_scale_factor)"
    )
    # pg_trgm stays: dropping an extension other objects may use is the administrator's call.
