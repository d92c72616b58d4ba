"""Audits (pre-sale evidence), reports (client reports, handoff packets, pipeline reports) and notes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Versioned, enum, fk
from .vocab import (
    AUDIT_STATUS,
    BETTER,
    CADENCES,
    CLIENT_SAFE_STATUS,
    EVIDENCE_KINDS,
    NOTE_VISIBILITY,
    REPORT_KINDS,
    REPORT_STATUS,
)


class Audit(Versioned, Base):
    __tablename__ = "audits"
    __table_args__ = (
        sa.CheckConstraint(
            "status <> 'completed' OR (findings IS NOT NULL AND baseline_figures IS NOT NULL "
            "AND completed_at IS NOT NULL)",
            name="completed_has_evidence",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(sa.ForeignKey("leads.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(
        enum("audit_status", AUDIT_STATUS), nullable=False, default="draft", index=True
    )
    findings: Mapped[str | None] = mapped_column(sa.Text)  # evidence, internal until summarised
    baseline_figures: Mapped[str | None] = mapped_column(sa.Text)  # e.g. "CPL 84 EUR; 120 leads/mo"
    raw_notes: Mapped[str | None] = mapped_column(sa.Text)  # internal, never client-facing
    provider_caveats: Mapped[str | None] = mapped_column(sa.Text)  # internal
    client_summary: Mapped[str | None] = mapped_column(sa.Text)  # client-safe once approved
    client_summary_status: Mapped[str] = mapped_column(
        enum("audit_summary_status", CLIENT_SAFE_STATUS), nullable=False, default="none"
    )
    completed_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    completed_by_id: Mapped[int | None] = fk("users.id", index=False)
    # The audit this one corrects (zarts.domain.evidence.new_audit_version): a completed audit's
    # evidence is frozen, so a correction is a new version.
    previous_id: Mapped[int | None] = fk("audits.id", index=False)

    lead = relationship("Lead")
    completed_by = relationship("User")
    previous = relationship("Audit", remote_side=[id])
    items = relationship(
        "EvidenceItem",
        back_populates="audit",
        order_by="EvidenceItem.position",
        foreign_keys="EvidenceItem.audit_id",
    )

    @property
    def has_evidence(self) -> bool:
        return bool((self.findings or "").strip() and (self.baseline_figures or "").strip())

    def __str__(self) -> str:
        return f"Audit #{self.id}"


class EvidenceItem(Versioned, Base):
    """One piece of an audit's evidence: a finding, a baseline metric (metric, value, unit, period,
    source) or provider data (a figure or excerpt from the client's provider stack, and a note of the
    export it came from). `raw_note` and the source fields stay internal; `client_text` is the
    client-safe wording, shown to a client only once approved (`client_safe_status`). Frozen once its
    audit is completed."""

    __tablename__ = "evidence_items"
    __table_args__ = (sa.Index("ix_evidence_items_audit_position", "audit_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(sa.ForeignKey("audits.id"), nullable=False)
    kind: Mapped[str] = mapped_column(enum("evidence_kind", EVIDENCE_KINDS), nullable=False)
    metric: Mapped[str | None] = mapped_column(sa.String(120))  # baseline: "cost per lead"
    value: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))  # baseline: 84
    unit: Mapped[str | None] = mapped_column(sa.String(40))  # baseline: "EUR", "%"
    period: Mapped[str | None] = mapped_column(sa.String(60))  # baseline: "Sep 2026"
    source: Mapped[str | None] = mapped_column(sa.String(200))  # internal: "Google Ads export"
    better: Mapped[str | None] = mapped_column(
        enum("evidence_better", BETTER)
    )  # baseline: its good direction
    provider: Mapped[str | None] = mapped_column(sa.String(120))  # provider data: "HubSpot"
    excerpt: Mapped[str | None] = mapped_column(sa.Text)  # provider data: the figure or excerpt
    export_note: Mapped[str | None] = mapped_column(sa.String(300))  # internal: the attached export
    raw_note: Mapped[str | None] = mapped_column(sa.Text)  # internal, never client-facing
    client_text: Mapped[str | None] = mapped_column(sa.Text)  # client-safe once approved
    client_safe_status: Mapped[str] = mapped_column(
        enum("evidence_client_safe_status", CLIENT_SAFE_STATUS), nullable=False, default="none"
    )
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    # The item of the previous audit version this one copies (a new version re-opens the claims on it).
    copied_from_id: Mapped[int | None] = fk("evidence_items.id", index=False)

    audit = relationship("Audit", back_populates="items", foreign_keys=[audit_id])

    @property
    def is_client_safe(self) -> bool:
        return self.client_safe_status == "approved" and bool((self.client_text or "").strip())

    def __str__(self) -> str:
        return f"Evidence #{self.id}"


class Report(Versioned, Base):
    __tablename__ = "reports"
    __table_args__ = (
        sa.Index("ix_reports_client_period", "client_id", "period_start"),
        # Client reports not published yet, by period end: the dashboard's overdue count (cadence).
        sa.Index(
            "ix_reports_unpublished",
            "period_end",
            postgresql_where=sa.text("kind = 'client_report' AND status <> 'published'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(enum("report_kind", REPORT_KINDS), nullable=False, index=True)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    client_id: Mapped[int | None] = fk("clients.id", index=False)
    project_id: Mapped[int | None] = fk("projects.id")
    lead_id: Mapped[int | None] = fk("leads.id")
    owner_id: Mapped[int | None] = fk("users.id", index=False)
    cadence: Mapped[str | None] = mapped_column(enum("report_cadence_kind", CADENCES))
    period_start: Mapped[date | None] = mapped_column(sa.Date)
    period_end: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(
        enum("report_status", REPORT_STATUS), nullable=False, default="draft", index=True
    )
    figures: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    client_summary: Mapped[str | None] = mapped_column(sa.Text)  # client-safe once approved
    internal_body: Mapped[str | None] = mapped_column(sa.Text)  # internal
    published_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)

    client = relationship("Client")
    project = relationship("Project")
    lead = relationship("Lead")
    owner = relationship("User")
    notes = relationship("ReportNote", back_populates="report", order_by="ReportNote.id")

    def __str__(self) -> str:
        return self.title


class ReportNote(Versioned, Base):
    __tablename__ = "report_notes"
    __table_args__ = (
        sa.CheckConstraint("(report_id IS NOT NULL) OR (audit_id IS NOT NULL)", name="has_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int | None] = fk("reports.id")
    audit_id: Mapped[int | None] = fk("audits.id")
    visibility: Mapped[str] = mapped_column(
        enum("note_visibility", NOTE_VISIBILITY), nullable=False, default="internal"
    )
    status: Mapped[str] = mapped_column(
        enum("note_status", CLIENT_SAFE_STATUS), nullable=False, default="none"
    )
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    author_id: Mapped[int | None] = fk("users.id", index=False)

    report = relationship("Report", back_populates="notes")
    audit = relationship("Audit")
    author = relationship("User")

    @property
    def is_client_safe(self) -> bool:
        return self.visibility == "client_safe" and self.status == "approved"

    def __str__(self) -> str:
        return f"Note #{self.id}"
