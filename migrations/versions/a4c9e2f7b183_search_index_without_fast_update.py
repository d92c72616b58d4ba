"""the lead search index without GIN's fast update

ix_leads_search_trgm took new row versions into a pending list (GIN's fastupdate) that every search
reads in full until (auto)vacuum merges it into the index: up to 4 MB, and at a million leads a
quarter of a rare word's index reads after a few hundred stage moves. Now each row version goes
into the index at once (~0.4 ms more per lead write), and the pending list is merged now.

PostgreSQL only.

Revision ID: a4c9e2f7b183
Revises: f3b8d1c6a590
Create Date: 2026-11-27 15:20:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "a4c9e2f7b183"
down_revision = "f3b8d1c6a590"
branch_labels = None
depends_on = None

SEARCH_INDEX = "ix_leads_search_trgm"


def upgrade():
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(f"ALTER INDEX {SEARCH_INDEX} SET (fastupdate = off)")
    op.execute(f"SELECT gin_clean_pending_list('{SEARCH_INDEX}')")


def downgrade():
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(f"ALTER INDEX {SEARCH_INDEX} RESET (fastupdate)")
