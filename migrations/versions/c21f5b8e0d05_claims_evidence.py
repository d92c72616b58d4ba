"""claims cite audit evidence

Revision ID: c21f5b8e0d05
Revises: b19e4a7d9c04
Create Date: 2026-12-04 19:10:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'c21f5b8e0d05'
down_revision = 'b19e4a7d9c04'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
