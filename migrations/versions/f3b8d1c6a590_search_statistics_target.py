"""the lead search index's statistics target: 1000 -> 250

The planner estimates how many leads a searched fragment matches by trying it on the sampled values
of the search document (ix_leads_search_trgm's expression). At a target of 1000 that is a thousand
ILIKE tests on every search, about 1 ms of planning at a million leads; at 250, 0.3 ms, and the plans
stay the same: a common word walks the list's id order, a rare one goes through the trigram index
(bench/README.md). ANALYZE then samples 75,000 leads instead of 300,000.

PostgreSQL only; the statistics are taken again at once, so the new target counts from now.

Revision ID: f3b8d1c6a590
Revises: e2a7c91d4b53
Create Date: 2026-11-27 13:55:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "f3b8d1c6a590"
down_revision = "e2a7c91d4b53"
branch_labels = None
depends_on = None

SEARCH_INDEX = "ix_leads_search_trgm"


def _set(target: int) -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(f"ALTER INDEX {SEARCH_INDEX} ALTER COLUMN 1 SET STATISTICS {target}")
    op.execute("ANALYZE leads")


def upgrade():
    _set(250)


def downgrade():
    _set(1000)
