"""the board's page index: each stage's leads newest activity first, merged leads left out

ix_leads_board_page (stage, updated_at, id) WHERE merged_into_id IS NULL: the board reads each
column's page as `stage = … AND merged_into_id IS NULL ORDER BY updated_at DESC, id DESC LIMIT n`
(zarts.workspace.queries._column_ids). Through ix_leads_stage_updated every lead of the stage is
fetched from the table to check that it was not merged; this index holds only the leads the board
shows, so PostgreSQL reads the page by an index-only scan. Partial on both databases (SQLite has
partial indexes too). ix_leads_stage_updated stays: the API's stage and updated-since filters read
merged leads as well. Built CONCURRENTLY on PostgreSQL (outside the migration's transaction).

Revision ID: 7b3c2d1e0f15
Revises: 9e6f4a3b2c37
Create Date: 2026-12-05 09:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "7b3c2d1e0f15"
down_revision = "9e6f4a3b2c37"
branch_labels = None
depends_on = None

NAME = "ix_leads_board_page"
COLUMNS = ["stage", "updated_at", "id"]
NOT_MERGED = sa.text("merged_into_id IS NULL")


def upgrade():
    if op.get_context().dialect.name != "postgresql":
        op.create_index(NAME, "leads", COLUMNS, unique=False, sqlite_where=NOT_MERGED)
        return
    with op.get_context().autocommit_block():
        op.create_index(
            NAME,
            "leads",
            COLUMNS,
            unique=False,
            postgresql_where=NOT_MERGED,
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade():
    if op.get_context().dialect.name != "postgresql":
        op.drop_index(NAME, table_name="leads")
        return
    with op.get_context().autocommit_block():
        op.drop_index(NAME, table_name="leads", postgresql_concurrently=True, if_exists=True)
