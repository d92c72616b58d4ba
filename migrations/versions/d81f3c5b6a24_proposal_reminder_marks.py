"""proposals.not_viewed_reminder_at / not_decided_reminder_at, indexes of what the sweep owes

The reminder sweep read every sent proposal past its days (40k+ at a million leads) on every run to
find the few whose reminder was not sent yet. Now a proposal records when each of its two reminders
went out, and two partial indexes hold only the sent versions still owed one. And lost leads get
an index by win-back date (ix_leads_winback_due): the sweep's reactivations walked the whole
leads table in id order to find none.

No backfill: the first sweep after the upgrade finds the reminders already sent (by message key)
and records them. On PostgreSQL the indexes are built CONCURRENTLY.

Revision ID: d81f3c5b6a24
Revises: c4d2a9e7f310
Create Date: 2026-11-27 09:40:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "d81f3c5b6a24"
down_revision = "c4d2a9e7f310"
branch_labels = None
depends_on = None

INDEXES = [
    (
        "ix_proposals_not_viewed_owed",
        "status = 'sent' AND viewed_at IS NULL AND not_viewed_reminder_at IS NULL",
    ),
    ("ix_proposals_not_decided_owed", "status = 'sent' AND not_decided_reminder_at IS NULL"),
]
WINBACK = ("ix_leads_winback_due", "stage = 'lost' AND reactivation_never IS false")


def _postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade():
    op.add_column("proposals", sa.Column("not_viewed_reminder_at", sa.DateTime(), nullable=True))
    op.add_column("proposals", sa.Column("not_decided_reminder_at", sa.DateTime(), nullable=True))
    if not _postgresql():
        for name, _ in INDEXES:
            op.create_index(name, "proposals", ["sent_at", "id"], unique=False)
        op.create_index(WINBACK[0], "leads", ["reactivation_date", "id"], unique=False)
        return
    with op.get_context().autocommit_block():
        for name, where in INDEXES:
            op.create_index(
                name,
                "proposals",
                ["sent_at", "id"],
                unique=False,
                postgresql_where=sa.text(where),
                postgresql_concurrently=True,
                if_not_exists=True,
            )
        op.create_index(
            WINBACK[0],
            "leads",
            ["reactivation_date", "id"],
            unique=False,
            postgresql_where=sa.text(WINBACK[1]),
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade():
    if not _postgresql():
        op.drop_index(WINBACK[0], table_name="leads")
        for name, _ in INDEXES:
            op.drop_index(name, table_name="proposals")
        with op.batch_alter_table("proposals") as batch_op:
            batch_op.drop_column("not_decided_reminder_at")
            batch_op.drop_column("not_viewed_reminder_at")
        return
    with op.get_context().autocommit_block():
        op.drop_index(WINBACK[0], table_name="leads", postgresql_concurrently=True, if_exists=True)
        for name, _ in INDEXES:
            op.drop_index(name, table_name="proposals", postgresql_concurrently=True, if_exists=True)
    op.drop_column("proposals", "not_decided_reminder_at")
    op.drop_column("proposals", "not_viewed_reminder_at")
