"""job recovery in seconds

outbox.heartbeat_at: when the run in progress last showed it is alive (the relay re-drives a row whose
heartbeat is stale instead of waiting for its lease). messages.mail_message_id and
messages.email_attempted_at: an email's stable Message-ID and the start of its last SMTP attempt,
committed before the attempt (email exactly-once, zarts.jobs.mail.deliver).

Revision ID: f23c1e9a4b02
Revises: e18b5a7c2d01
Create Date: 2026-12-04 19:10:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "f23c1e9a4b02"
down_revision = "e18b5a7c2d01"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mail_message_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("email_attempted_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("email_attempted_at")
        batch_op.drop_column("mail_message_id")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
