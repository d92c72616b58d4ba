"""attachments and proposal PDFs

Revision ID: b19e4a7d9c04
Revises: a19d3f6b8c03
Create Date: 2026-12-04 19:10:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'b19e4a7d9c04'
down_revision = 'a19d3f6b8c03'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
