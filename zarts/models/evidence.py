"""Audits (pre-sale evidence), reports (client reports, handoff packets, pipeline reports) and notes."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Versioned, enum, fk
from .vocab import (
    AUDIT_STATUS,
    CADENCES,
    CLIENT_SAFE_STATUS,
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
    status: Mapped[str] = mapped_column(enum("audit_status", AUDIT_STATUS), nullable=False,
                                        default="draft", index=True)
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

    lead = relationship("Lead")
    completed_by = relationship("User")

    @property
    def has_evidence(self) -> bool:
        return bool((self.findings or "").strip() and (self.baseline_figures or "").strip())

    def __str__(self) -> str:
        return f"Audit #{self.id}"


class Report(Versioned, Base):
    __tablename__ = "reports"
    __table_args__ = (sa.Index("ix_reports_client_period", "client_id", "period_start"),)

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
    status: Mapped[str] = mapped_column(enum("report_status", REPORT_STATUS), nullable=False,
                                        default="draft", index=True)
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
    visibility: Mapped[str] = mapped_column(enum("note_visibility", NOTE_VISIBILITY), nullable=False,
                                            default="internal")
    status: Mapped[str] = mapped_column(enum("note_status", CLIENT_SAFE_STATUS), nullable=False,
                                        default="none")
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
