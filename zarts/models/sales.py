"""Proposals with typed scope items, approvals, contracts and communication records."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamps, Versioned, enum, fk, trigram_index, utcnow
from .vocab import (
    APPROVAL_KINDS,
    APPROVAL_STATES,
    CLAIM_KINDS,
    CONTRACT_STATES,
    EMAIL_STATUS,
    ITEM_KINDS,
    MESSAGE_CHANNELS,
    MESSAGE_DIRECTIONS,
    PAYMENT_STATES,
    PROPOSAL_STATUS,
    SECRET_LINKS,
    SERVICES,
)


class Message(Timestamps, Base):
    __tablename__ = "messages"
    __table_args__ = (
        sa.Index("ix_messages_client_created", "client_id", "created_at"),
        sa.Index("ix_messages_lead_created", "lead_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int | None] = fk("leads.id", index=False)
    client_id: Mapped[int | None] = fk("clients.id", index=False)
    project_id: Mapped[int | None] = fk("projects.id")
    direction: Mapped[str] = mapped_column(enum("message_direction", MESSAGE_DIRECTIONS), nullable=False)
    channel: Mapped[str] = mapped_column(enum("message_channel", MESSAGE_CHANNELS), nullable=False)
    subject: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    client_visible: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    to_email: Mapped[str | None] = mapped_column(sa.String(254))
    email_status: Mapped[str] = mapped_column(
        enum("email_status", EMAIL_STATUS), nullable=False, default="none"
    )
    author_id: Mapped[int | None] = fk("users.id", index=False)
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    # Idempotency key for messages made by jobs (one reminder per due window).
    key: Mapped[str | None] = mapped_column(sa.String(160), unique=True)
    # The single-use link (invite, reset) the email carries: minted when it is sent, never stored
    # readable (only its hash, in auth_tokens); the body keeps a placeholder.
    link_purpose: Mapped[str | None] = mapped_column(enum("message_link_purpose", SECRET_LINKS))
    # Email exactly-once (zarts.jobs.mail.deliver): the Message-ID every attempt carries, so mail
    # clients fold a re-send, and when the last SMTP attempt began (committed before it starts).
    mail_message_id: Mapped[str | None] = mapped_column(sa.String(255))
    email_attempted_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    lead = relationship("Lead")
    client = relationship("Client")
    author = relationship("User")

    def __str__(self) -> str:
        return self.subject


# The global search (PostgreSQL, zarts.workspace.search): a message's subject by trigram, typos included.
trigram_index("ix_messages_subject_trgm", Message.__table__.c.subject)


class Proposal(Versioned, Base):
    """One version of a proposal. Once sent it is frozen: `snapshot` is what the client sees."""

    __tablename__ = "proposals"
    __table_args__ = (
        sa.UniqueConstraint("lead_id", "number", name="uq_proposals_lead_number"),
        sa.CheckConstraint("price_cents IS NULL OR price_cents >= 0", name="price_not_negative"),
        sa.CheckConstraint("status = 'draft' OR snapshot IS NOT NULL", name="sent_is_frozen"),
        sa.Index("ix_proposals_status_sent", "status", "sent_at"),
        # Sent versions still owed a reminder (zarts.domain.reminders): the sweep reads only these.
        sa.Index(
            "ix_proposals_not_viewed_owed",
            "sent_at",
            "id",
            postgresql_where=sa.text(
                "status = 'sent' AND viewed_at IS NULL AND not_viewed_reminder_at IS NULL"
            ),
        ),
        sa.Index(
            "ix_proposals_not_decided_owed",
            "sent_at",
            "id",
            postgresql_where=sa.text("status = 'sent' AND not_decided_reminder_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(sa.ForeignKey("leads.id"), nullable=False, index=True)
    number: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)  # version 1, 2, …
    previous_id: Mapped[int | None] = fk("proposals.id", index=False)
    client_id: Mapped[int | None] = fk("clients.id")
    project_id: Mapped[int | None] = fk("projects.id", index=False)
    audit_id: Mapped[int | None] = fk("audits.id", index=False)
    service: Mapped[str] = mapped_column(enum("proposal_service", SERVICES), nullable=False)
    status: Mapped[str] = mapped_column(
        enum("proposal_status", PROPOSAL_STATUS), nullable=False, default="draft"
    )
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    summary: Mapped[str | None] = mapped_column(sa.Text)  # client-facing text
    price_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False, default="EUR")
    timeline: Mapped[str | None] = mapped_column(sa.Text)
    expected_improvement: Mapped[str | None] = mapped_column(sa.Text)
    contract_language: Mapped[str | None] = mapped_column(sa.Text)
    pricing_assumptions: Mapped[str | None] = mapped_column(sa.Text)  # internal
    internal_notes: Mapped[str | None] = mapped_column(sa.Text)  # internal
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    viewed_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    follow_up_date: Mapped[date | None] = mapped_column(sa.Date)
    decision_deadline: Mapped[date | None] = mapped_column(sa.Date)
    objection: Mapped[str | None] = mapped_column(sa.Text)
    probability: Mapped[int | None] = mapped_column(sa.Integer)
    accepted_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    accepted_add_on_ids: Mapped[list | None] = mapped_column(sa.JSON)
    declined_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)
    snapshot: Mapped[dict | None] = mapped_column(sa.JSON)
    sent_message_id: Mapped[int | None] = fk("messages.id", index=False)
    # When the owner was reminded that this sent version is not viewed / not decided (each once).
    # Bookkeeping of zarts.domain.reminders only (the message key makes a reminder exactly-once).
    not_viewed_reminder_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    not_decided_reminder_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    lead = relationship("Lead")
    client = relationship("Client")
    audit = relationship("Audit")
    previous = relationship("Proposal", remote_side=[id])
    sent_message = relationship("Message")
    items = relationship(
        "ProposalItem",
        back_populates="proposal",
        order_by="ProposalItem.position",
        cascade="all, delete-orphan",
    )
    approvals = relationship("Approval", back_populates="proposal", order_by="Approval.id")
    citations = relationship(
        "ClaimCitation", back_populates="proposal", order_by="ClaimCitation.id", cascade="all, delete-orphan"
    )

    @property
    def is_frozen(self) -> bool:
        return self.status != "draft"

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"


class ProposalItem(Timestamps, Base):
    __tablename__ = "proposal_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(enum("item_kind", ITEM_KINDS), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    description: Mapped[str | None] = mapped_column(sa.Text)
    price_cents: Mapped[int | None] = mapped_column(sa.BigInteger)  # add-ons
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    # The item promises an outcome: a claim that must cite audit evidence (zarts.domain.claims).
    promises_outcome: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )

    proposal = relationship("Proposal", back_populates="items")

    def __str__(self) -> str:
        return self.title


class Approval(Versioned, Base):
    """A request that an approver back one part: pricing, a claim, contract language or a summary."""

    __tablename__ = "approvals"
    __table_args__ = (
        sa.CheckConstraint(
            "(CASE WHEN proposal_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN audit_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN report_note_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN report_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN project_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN task_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN attachment_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN evidence_item_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_subject",
        ),
        sa.CheckConstraint(
            "state = 'pending' OR state = 'superseded' OR decided_by_id IS NOT NULL",
            name="decided_has_decider",
        ),
        sa.CheckConstraint("state <> 'rejected' OR comment IS NOT NULL", name="rejection_has_comment"),
        sa.Index("ix_approvals_state_requested", "state", "requested_at"),
        sa.Index("ix_approvals_decided", "decided_at", "id"),  # the queue's "recently decided"
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(enum("approval_kind", APPROVAL_KINDS), nullable=False)
    state: Mapped[str] = mapped_column(
        enum("approval_state", APPROVAL_STATES), nullable=False, default="pending"
    )
    lead_id: Mapped[int | None] = fk("leads.id")
    proposal_id: Mapped[int | None] = fk("proposals.id")
    audit_id: Mapped[int | None] = fk("audits.id")
    report_note_id: Mapped[int | None] = fk("report_notes.id")
    report_id: Mapped[int | None] = fk("reports.id")
    project_id: Mapped[int | None] = fk("projects.id")  # its client fields (kind client_text)
    task_id: Mapped[int | None] = fk("tasks.id")  # a client checklist item's wording (kind client_text)
    evidence_item_id: Mapped[int | None] = fk("evidence_items.id")  # its client text (kind client_summary)
    attachment_id: Mapped[int | None] = fk("attachments.id")  # a file's client-safe copy (kind client_text)
    content: Mapped[str] = mapped_column(sa.Text, nullable=False)  # exactly what is approved
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, default=utcnow)
    decided_by_id: Mapped[int | None] = fk("users.id", index=False)
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    comment: Mapped[str | None] = mapped_column(sa.Text)

    lead = relationship("Lead")
    proposal = relationship("Proposal", back_populates="approvals")
    audit = relationship("Audit")
    report_note = relationship("ReportNote")
    report = relationship("Report")
    project = relationship("Project")
    task = relationship("Task")
    evidence_item = relationship("EvidenceItem")
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    def __str__(self) -> str:
        return f"{self.kind} approval #{self.id} ({self.state})"


class ClaimCitation(Timestamps, Base):
    """A claim of a proposal (its expected improvement, its timeline, or a scope item that promises an
    outcome) cites one piece of audit evidence. `target_value`: the number the claim promises for a
    cited baseline metric, when it states one."""

    __tablename__ = "claim_citations"
    __table_args__ = (
        sa.CheckConstraint("(claim_kind = 'item') = (item_id IS NOT NULL)", name="item_claim_names_item"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False, index=True
    )
    claim_kind: Mapped[str] = mapped_column(enum("claim_kind", CLAIM_KINDS), nullable=False)
    item_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("proposal_items.id", ondelete="CASCADE"), index=True
    )
    evidence_item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("evidence_items.id"), nullable=False, index=True
    )
    target_value: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))

    proposal = relationship("Proposal", back_populates="citations")
    item = relationship("ProposalItem")
    evidence_item = relationship("EvidenceItem", lazy="joined")  # read with every citation

    @property
    def claim(self) -> str:
        return f"item:{self.item_id}" if self.claim_kind == "item" else self.claim_kind

    def __str__(self) -> str:
        return f"{self.claim} cites evidence #{self.evidence_item_id}"


class Contract(Versioned, Base):
    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(sa.ForeignKey("leads.id"), nullable=False, unique=True)
    proposal_id: Mapped[int | None] = fk("proposals.id", index=False)
    state: Mapped[str] = mapped_column(
        enum("contract_state", CONTRACT_STATES), nullable=False, default="draft", index=True
    )
    # None until someone records it: winning needs the payment state written down.
    payment_state: Mapped[str | None] = mapped_column(enum("payment_state", PAYMENT_STATES))
    kickoff_date: Mapped[date | None] = mapped_column(sa.Date)
    onboarding_owner_id: Mapped[int | None] = fk("users.id", index=False)
    launch_blockers: Mapped[str | None] = mapped_column(sa.Text)  # internal detail
    client_launch_blockers: Mapped[str | None] = mapped_column(sa.Text)  # client-safe wording
    signed_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    lead = relationship("Lead")
    proposal = relationship("Proposal")
    onboarding_owner = relationship("User")

    def __str__(self) -> str:
        return f"Contract #{self.id} ({self.state})"
