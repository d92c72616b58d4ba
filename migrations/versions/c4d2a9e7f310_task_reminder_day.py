"""tasks.remind_on: the day a task's next reminder is due (replaces tasks.reminded_window)

The reminder sweep used to read every open task due so far (300k+ at a million leads) and skip the
ones whose window was already reminded. Now a reminded task carries the day its next reminder is
due (`remind_on`; unset means its due date) and the partial index ix_tasks_open_remind on
(coalesce(remind_on, due), id) gives the sweep only the tasks it has to remind. ix_tasks_open_due_id
loses the columns it carried for the old sweep.

No backfill: unset means "from the due date", and tasks reminded under the old scheme have their
reminder message already, which the first sweep after the upgrade finds (by key) and moves them on.
On PostgreSQL the indexes are built CONCURRENTLY (outside the migration's transaction).

Revision ID: c4d2a9e7f310
Revises: b7d2e1f0c3a4
Create Date: 2026-11-27 09:10:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c4d2a9e7f310"
down_revision = "b7d2e1f0c3a4"
branch_labels = None
depends_on = None

OPEN = sa.text("done_at IS NULL")
REMIND_DAY = sa.text("coalesce(remind_on, due)")  # zarts.models.pipeline.REMIND_DAY_SQL


def _postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade():
    op.add_column("tasks", sa.Column("remind_on", sa.Date(), nullable=True))
    if not _postgresql():
        op.drop_index("ix_tasks_open_due_id", table_name="tasks")
        with op.batch_alter_table("tasks") as batch_op:
            batch_op.drop_column("reminded_window")
        op.create_index("ix_tasks_open_due_id", "tasks", ["due", "id"], unique=False)
        op.create_index("ix_tasks_open_remind", "tasks", [REMIND_DAY, "id"], unique=False)
        return
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_tasks_open_due_id", table_name="tasks", postgresql_concurrently=True, if_exists=True
        )
    op.drop_column("tasks", "reminded_window")
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_tasks_open_due_id",
            "tasks",
            ["due", "id"],
            unique=False,
            postgresql_where=OPEN,
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        op.create_index(
            "ix_tasks_open_remind",
            "tasks",
            [REMIND_DAY, "id"],
            unique=False,
            postgresql_where=OPEN,
            postgresql_include=["lead_id"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade():
    op.add_column("tasks", sa.Column("reminded_window", sa.String(length=20), nullable=True))
    if not _postgresql():
        op.drop_index("ix_tasks_open_remind", table_name="tasks")
        op.drop_index("ix_tasks_open_due_id", table_name="tasks")
        op.create_index("ix_tasks_open_due_id", "tasks", ["due", "id"], unique=False)
        with op.batch_alter_table("tasks") as batch_op:
            batch_op.drop_column("remind_on")
        return
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_tasks_open_remind", table_name="tasks", postgresql_concurrently=True, if_exists=True
        )
        op.drop_index(
            "ix_tasks_open_due_id", table_name="tasks", postgresql_concurrently=True, if_exists=True
        )
        op.create_index(
            "ix_tasks_open_due_id",
            "tasks",
            ["due", "id"],
            unique=False,
            postgresql_where=OPEN,
            postgresql_include=["reminded_window", "lead_id"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )
    op.drop_column("tasks", "remind_on")
