"""two read indexes: the board's column totals, the dashboard's overdue reports

ix_leads_board_totals (stage, owner, service, source, currency, value):

The board counts each stage's leads and sums their value per currency, up to COUNT_CAP (1,000) leads
a stage, under the board's filters (owner, service, source; merged leads left out). Read from the
table that is a thousand scattered rows a stage: ~55 ms of the board's ~80 ms at a million leads.
This index holds every column the totals read, so PostgreSQL answers them by an index-only scan
(~2.5 ms). Partial on PostgreSQL (merged leads are never on the board); plain on SQLite. Built
CONCURRENTLY on PostgreSQL (outside the migration's transaction).

ix_reports_unpublished (period_end) WHERE kind = 'client_report' AND status <> 'published': the
dashboard counts overdue client reports (zarts.domain.reads.metrics.overdue_count) from it instead of
reading every unpublished report with a look-up of its task (~11 ms at a million leads).

Revision ID: 9e6f4a3b2c37
Revises: 5e7a1c9d2b40
Create Date: 2026-12-05 05:20:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "9e6f4a3b2c37"
down_revision = "5e7a1c9d2b40"
branch_labels = None
depends_on = None

COLUMNS = ["stage", "owner_id", "service", "source", "currency", "value_cents"]
UNPUBLISHED = sa.text("kind = 'client_report' AND status <> 'published'")


def upgrade():
    if op.get_context().dialect.name != "postgresql":
        op.create_index("ix_leads_board_totals", "leads", COLUMNS, unique=False)
        op.create_index("ix_reports_unpublished", "reports", ["period_end"], unique=False)
        return
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_leads_board_totals",
            "leads",
            COLUMNS,
            unique=False,
            postgresql_where=sa.text("merged_into_id IS NULL"),
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        op.create_index(
            "ix_reports_unpublished",
            "reports",
            ["period_end"],
            unique=False,
            postgresql_where=UNPUBLISHED,
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade():
    if op.get_context().dialect.name != "postgresql":
        op.drop_index("ix_reports_unpublished", table_name="reports")
        op.drop_index("ix_leads_board_totals", table_name="leads")
        return
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_reports_unpublished", table_name="reports", postgresql_concurrently=True, if_exists=True
        )
        op.drop_index(
            "ix_leads_board_totals", table_name="leads", postgresql_concurrently=True, if_exists=True
        )
