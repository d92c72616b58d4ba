"""attachments and proposal PDFs

Files kept with a lead, an audit, a proposal or a contract (table `attachments`: exactly one owner,
the type sniffed from the content, size, SHA-256, where the bytes are stored, soft delete). A file's
client-safe copy is approved like any client text: approvals gain the subject `attachment_id` (kind
client_text). Event kinds "attachment_added" and "attachment_deleted".

Revision ID: b19e4a7d9c04
Revises: a19d3f6b8c03
Create Date: 2026-12-04 19:10:00

"""

from alembic import op
import sqlalchemy as sa

from zarts.models import append_only_ddl


# revision identifiers, used by Alembic.
revision = "b19e4a7d9c04"
down_revision = "a19d3f6b8c03"
branch_labels = None
depends_on = None

EVENT_KINDS_OLD = (
    "created",
    "stage_moved",
    "qualified",
    "discovery_logged",
    "audit_completed",
    "proposal_drafted",
    "proposal_revised",
    "proposal_sent",
    "proposal_viewed",
    "proposal_accepted",
    "proposal_declined",
    "objection_logged",
    "forecast_updated",
    "approval_requested",
    "approval_decided",
    "contract_updated",
    "won",
    "lost",
    "handoff_started",
    "handoff_done",
    "paused",
    "resumed",
    "reactivated",
    "next_action_set",
    "task_done",
    "checklist_ticked",
    "message_received",
    "client_safe_published",
    "reassigned",
    "fields_changed",
    "message_sent",
    "task_reopened",
    "merged",
)
EVENT_KINDS_NEW = EVENT_KINDS_OLD + ("attachment_added", "attachment_deleted")
_SUBJECTS_OLD = ("proposal_id", "audit_id", "report_note_id", "report_id", "project_id", "task_id")
_SUBJECTS_NEW = _SUBJECTS_OLD + ("attachment_id",)


def _one_subject(columns) -> str:
    return " + ".join(f"(CASE WHEN {c} IS NULL THEN 0 ELSE 1 END)" for c in columns) + " = 1"


def _in(column, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _event_kinds(kinds) -> None:
    """The CHECK of events.kind. On SQLite the batch copy of `events` drops its append-only triggers
    with the old table: they are made again."""
    sqlite = op.get_context().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS events_no_update")
        op.execute("DROP TRIGGER IF EXISTS events_no_delete")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_events_event_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_events_event_kind"), _in("kind", kinds))
    if sqlite:
        for statement in append_only_ddl("sqlite"):
            op.execute(statement)


def upgrade():
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("audit_id", sa.Integer(), nullable=True),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column(
            "client_safe_status",
            sa.Enum(
                "none",
                "pending",
                "approved",
                "rejected",
                name="attachment_client_safe_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("deleted_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "(CASE WHEN lead_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN audit_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN proposal_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN contract_id IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_attachments_one_owner"),
        ),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_attachments_size_not_negative")),
        sa.ForeignKeyConstraint(["audit_id"], ["audits.id"], name=op.f("fk_attachments_audit_id_audits")),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_attachments_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by_id"], ["users.id"], name=op.f("fk_attachments_deleted_by_id_users")
        ),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_attachments_lead_id_leads")),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name=op.f("fk_attachments_proposal_id_proposals")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_attachments_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachments_audit_id"), ["audit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attachments_contract_id"), ["contract_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attachments_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attachments_proposal_id"), ["proposal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attachments_sha256"), ["sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_attachments_uploaded_by_id"), ["uploaded_by_id"], unique=False)

    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_approvals_one_subject"), type_="check")
        batch_op.add_column(sa.Column("attachment_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_approvals_attachment_id"), ["attachment_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_approvals_attachment_id_attachments"), "attachments", ["attachment_id"], ["id"]
        )
        batch_op.create_check_constraint(op.f("ck_approvals_one_subject"), _one_subject(_SUBJECTS_NEW))
    _event_kinds(EVENT_KINDS_NEW)


def downgrade():
    # events.kind keeps the wider CHECK: events are append-only, so rows of the new kinds stay.
    op.execute("DELETE FROM approvals WHERE attachment_id IS NOT NULL")
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_approvals_one_subject"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_approvals_attachment_id_attachments"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_approvals_attachment_id"))
        batch_op.drop_column("attachment_id")
        batch_op.create_check_constraint(op.f("ck_approvals_one_subject"), _one_subject(_SUBJECTS_OLD))

    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_uploaded_by_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_sha256"))
        batch_op.drop_index(batch_op.f("ix_attachments_proposal_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_lead_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_contract_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_audit_id"))

    op.drop_table("attachments")
