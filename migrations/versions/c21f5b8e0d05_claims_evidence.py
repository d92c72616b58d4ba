"""claims cite audit evidence

- evidence_items: an audit's evidence as data (findings, baseline metrics, provider data), each with
  an internal raw note and a client-safe wording approved through an approval (subject
  evidence_item_id: ck_approvals_one_subject counts eight subjects, attachment_id of b19e4a7d9c04
  included); audits.previous_id: a corrected audit is a new version.
- proposal_items.promises_outcome; claim_citations: each claim of a proposal cites evidence.
- promises (the ledger delivery inherits at the handoff) and promise_measurements.

Revision ID: c21f5b8e0d05
Revises: b19e4a7d9c04
Create Date: 2026-12-04 19:10:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c21f5b8e0d05"
down_revision = "b19e4a7d9c04"
branch_labels = None
depends_on = None

_SUBJECTS_OLD = (
    "proposal_id",
    "audit_id",
    "report_note_id",
    "report_id",
    "project_id",
    "task_id",
    "attachment_id",
)
_SUBJECTS_NEW = _SUBJECTS_OLD + ("evidence_item_id",)


def _one_subject(columns) -> str:
    return " + ".join(f"(CASE WHEN {c} IS NULL THEN 0 ELSE 1 END)" for c in columns) + " = 1"


def upgrade():
    op.create_table(
        "evidence_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "finding",
                "baseline",
                "provider_data",
                name="evidence_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("metric", sa.String(length=120), nullable=True),
        sa.Column("value", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("unit", sa.String(length=40), nullable=True),
        sa.Column("period", sa.String(length=60), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column(
            "better",
            sa.Enum("higher", "lower", name="evidence_better", native_enum=False, create_constraint=True),
            nullable=True,
        ),
        sa.Column("provider", sa.String(length=120), nullable=True),
        sa.Column("excerpt", sa.Text(), nullable=True),
        sa.Column("export_note", sa.String(length=300), nullable=True),
        sa.Column("raw_note", sa.Text(), nullable=True),
        sa.Column("client_text", sa.Text(), nullable=True),
        sa.Column(
            "client_safe_status",
            sa.Enum(
                "none",
                "pending",
                "approved",
                "rejected",
                name="evidence_client_safe_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("copied_from_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["audit_id"], ["audits.id"], name=op.f("fk_evidence_items_audit_id_audits")),
        sa.ForeignKeyConstraint(
            ["copied_from_id"],
            ["evidence_items.id"],
            name=op.f("fk_evidence_items_copied_from_id_evidence_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_items")),
    )
    with op.batch_alter_table("evidence_items", schema=None) as batch_op:
        batch_op.create_index("ix_evidence_items_audit_position", ["audit_id", "position"], unique=False)

    op.create_table(
        "claim_citations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column(
            "claim_kind",
            sa.Enum(
                "expected_improvement",
                "timeline",
                "item",
                name="claim_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("evidence_item_id", sa.Integer(), nullable=False),
        sa.Column("target_value", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "(claim_kind = 'item') = (item_id IS NOT NULL)",
            name=op.f("ck_claim_citations_item_claim_names_item"),
        ),
        sa.ForeignKeyConstraint(
            ["evidence_item_id"],
            ["evidence_items.id"],
            name=op.f("fk_claim_citations_evidence_item_id_evidence_items"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["proposal_items.id"],
            name=op.f("fk_claim_citations_item_id_proposal_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_claim_citations_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_citations")),
    )
    with op.batch_alter_table("claim_citations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_claim_citations_evidence_item_id"), ["evidence_item_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_claim_citations_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_citations_proposal_id"), ["proposal_id"], unique=False)

    op.create_table(
        "promises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column(
            "claim_kind",
            sa.Enum(
                "expected_improvement",
                "timeline",
                "item",
                name="promise_claim_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("claim_text", sa.Text(), nullable=False),
        sa.Column("evidence_item_id", sa.Integer(), nullable=True),
        sa.Column("metric", sa.String(length=120), nullable=True),
        sa.Column("baseline_value", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("unit", sa.String(length=40), nullable=True),
        sa.Column("period", sa.String(length=60), nullable=True),
        sa.Column("target_value", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column(
            "better",
            sa.Enum("higher", "lower", name="promise_better", native_enum=False, create_constraint=True),
            nullable=True,
        ),
        sa.Column("promised_at", sa.DateTime(), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evidence_item_id"],
            ["evidence_items.id"],
            name=op.f("fk_promises_evidence_item_id_evidence_items"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_promises_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name=op.f("fk_promises_proposal_id_proposals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promises")),
        sa.UniqueConstraint("key", name="uq_promises_key"),
    )
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_promises_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_promises_promised_at"), ["promised_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_promises_proposal_id"), ["proposal_id"], unique=False)

    op.create_table(
        "promise_measurements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("promise_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entered_by_id"], ["users.id"], name=op.f("fk_promise_measurements_entered_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["promise_id"], ["promises.id"], name=op.f("fk_promise_measurements_promise_id_promises")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promise_measurements")),
        sa.UniqueConstraint("promise_id", "period", name="uq_promise_measurements_promise_period"),
    )
    with op.batch_alter_table("promise_measurements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_promise_measurements_promise_id"), ["promise_id"], unique=False)

    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_approvals_one_subject"), type_="check")
        batch_op.add_column(sa.Column("evidence_item_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_approvals_evidence_item_id"), ["evidence_item_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_approvals_evidence_item_id_evidence_items"),
            "evidence_items",
            ["evidence_item_id"],
            ["id"],
        )
        batch_op.create_check_constraint(op.f("ck_approvals_one_subject"), _one_subject(_SUBJECTS_NEW))

    with op.batch_alter_table("audits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_audits_previous_id_audits"), "audits", ["previous_id"], ["id"]
        )

    with op.batch_alter_table("proposal_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("promises_outcome", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("proposal_items", schema=None) as batch_op:
        batch_op.drop_column("promises_outcome")

    with op.batch_alter_table("audits", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_audits_previous_id_audits"), type_="foreignkey")
        batch_op.drop_column("previous_id")

    op.execute("DELETE FROM approvals WHERE evidence_item_id IS NOT NULL")
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_approvals_one_subject"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_approvals_evidence_item_id_evidence_items"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_approvals_evidence_item_id"))
        batch_op.drop_column("evidence_item_id")
        batch_op.create_check_constraint(op.f("ck_approvals_one_subject"), _one_subject(_SUBJECTS_OLD))

    with op.batch_alter_table("promise_measurements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promise_measurements_promise_id"))
    op.drop_table("promise_measurements")
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promises_proposal_id"))
        batch_op.drop_index(batch_op.f("ix_promises_promised_at"))
        batch_op.drop_index(batch_op.f("ix_promises_project_id"))
    op.drop_table("promises")
    with op.batch_alter_table("claim_citations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_citations_proposal_id"))
        batch_op.drop_index(batch_op.f("ix_claim_citations_item_id"))
        batch_op.drop_index(batch_op.f("ix_claim_citations_evidence_item_id"))
    op.drop_table("claim_citations")
    with op.batch_alter_table("evidence_items", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_items_audit_position")
    op.drop_table("evidence_items")
