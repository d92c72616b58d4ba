"""job recovery in seconds

Revision ID: f23c1e9a4b02
Revises: e18b5a7c2d01
Create Date: 2026-12-04 19:10:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'f23c1e9a4b02'
down_revision = 'e18b5a7c2d01'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
