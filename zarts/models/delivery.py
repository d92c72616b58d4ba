"""What a won deal becomes: a project, the connectors delivery must wire up, and the job outbox."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamps, Versioned, enum, fk, trigram_index, utcnow
from .vocab import (
    BETTER,
    CLAIM_KINDS,
    CLIENT_SAFE_STATUS,
    CONNECTOR_STATUS,
    CONTRACT_STATES,
    OUTBOX_STATUS,
    PAYMENT_STATES,
    PROJECT_STATUS,
    SERVICES,
)


class Project(Versioned, Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), nullable=False, index=True)
    lead_id: Mapped[int] = mapped_column(sa.ForeignKey("leads.id"), nullable=False, unique=True)
    proposal_id: Mapped[int | None] = fk("proposals.id", index=False)
    contract_id: Mapped[int | None] = fk("contracts.id", index=False)
    service: Mapped[str] = mapped_column(enum("project_service", SERVICES), nullable=False, index=True)
    status: Mapped[str] = mapped_column(
        enum("project_status", PROJECT_STATUS), nullable=False, default="onboarding", index=True
    )
    scope_snapshot: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    kickoff_date: Mapped[date | None] = mapped_column(sa.Date, index=True)
    onboarding_owner_id: Mapped[int | None] = fk("users.id")
    payment_state: Mapped[str] = mapped_column(
        enum("project_payment_state", PAYMENT_STATES), nullable=False, default="not_invoiced"
    )
    contract_state: Mapped[str] = mapped_column(
        enum("project_contract_state", CONTRACT_STATES), nullable=False, default="signed"
    )
    launch_blockers: Mapped[str | None] = mapped_column(sa.Text)  # internal
    client_launch_blockers: Mapped[str | None] = mapped_column(sa.Text)  # client-safe
    client_next_steps: Mapped[str | None] = mapped_column(sa.Text)  # client-safe
    # Whether the two client fields above, as they are now, were approved (kind client_text): the
    # portal shows them only when "approved".
    client_text_status: Mapped[str] = mapped_column(
        enum("project_client_text_status", CLIENT_SAFE_STATUS), nullable=False, default="none"
    )
    handoff_notes: Mapped[str | None] = mapped_column(sa.Text)  # internal

    client = relationship("Client")
    lead = relationship("Lead")
    proposal = relationship("Proposal", foreign_keys=[proposal_id])
    contract = relationship("Contract")
    onboarding_owner = relationship("User")

    def __str__(self) -> str:
        return self.name


# The global search (PostgreSQL, zarts.workspace.search): a project's name by trigram, typos included.
trigram_index("ix_projects_name_trgm", Project.__table__.c.name)


class Promise(Timestamps, Base):
    """What the accepted proposal promised, as delivery inherits it at the handoff: one row per claim
    and cited baseline metric (a claim that cites no baseline has one row without numbers). Copied
    from the sent snapshot and the frozen evidence, so it does not move when the audit is revised."""

    __tablename__ = "promises"
    __table_args__ = (sa.UniqueConstraint("key", name="uq_promises_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), nullable=False, index=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), nullable=False, index=True)
    claim_kind: Mapped[str] = mapped_column(enum("promise_claim_kind", CLAIM_KINDS), nullable=False)
    item_id: Mapped[int | None] = mapped_column(sa.Integer)  # the scope item of the sent version
    claim_text: Mapped[str] = mapped_column(sa.Text, nullable=False)  # as the client read it
    evidence_item_id: Mapped[int | None] = fk("evidence_items.id", index=False)
    metric: Mapped[str | None] = mapped_column(sa.String(120))
    baseline_value: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))
    unit: Mapped[str | None] = mapped_column(sa.String(40))
    period: Mapped[str | None] = mapped_column(sa.String(60))
    target_value: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))
    better: Mapped[str | None] = mapped_column(enum("promise_better", BETTER))
    promised_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, index=True)
    key: Mapped[str] = mapped_column(sa.String(160), nullable=False)

    project = relationship("Project")
    measurements = relationship(
        "PromiseMeasurement", back_populates="promise", order_by="PromiseMeasurement.id"
    )

    def __str__(self) -> str:
        return self.claim_text[:80]


class PromiseMeasurement(Versioned, Base):
    """A measured value of a promised metric for a period, entered by delivery (one per period)."""

    __tablename__ = "promise_measurements"
    __table_args__ = (
        sa.UniqueConstraint("promise_id", "period", name="uq_promise_measurements_promise_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    promise_id: Mapped[int] = mapped_column(sa.ForeignKey("promises.id"), nullable=False, index=True)
    period: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    value: Mapped[Decimal] = mapped_column(sa.Numeric(18, 4), nullable=False)
    entered_by_id: Mapped[int | None] = fk("users.id", index=False)
    note: Mapped[str | None] = mapped_column(sa.Text)  # internal

    promise = relationship("Promise", back_populates="measurements")
    entered_by = relationship("User")

    def __str__(self) -> str:
        return f"{self.period}: {self.value}"


class Connector(Versioned, Base):
    __tablename__ = "connectors"
    __table_args__ = (sa.UniqueConstraint("project_id", "name", name="uq_connectors_project_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    status: Mapped[str] = mapped_column(
        enum("connector_status", CONNECTOR_STATUS), nullable=False, default="to_connect", index=True
    )
    owner_id: Mapped[int | None] = fk("users.id")
    notes: Mapped[str | None] = mapped_column(sa.Text)  # internal (provider limits, credentials path)

    project = relationship("Project")
    owner = relationship("User")

    def __str__(self) -> str:
        return self.name


class Outbox(Base):
    """A job committed with the change that needs it; the relay hands it to RQ (or runs it inline)."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_status_available", "status", "available_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    payload: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    key: Mapped[str] = mapped_column(sa.String(160), nullable=False, unique=True)
    status: Mapped[str] = mapped_column(
        enum("outbox_status", OUTBOX_STATUS), nullable=False, default="pending"
    )
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    available_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    # When the run in progress last showed it is alive (its start, then RQ's heartbeats as the relay
    # reads them); null while no run is in progress. Stale: the relay asks RQ whether its worker died.
    heartbeat_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    done_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, default=utcnow)

    def __str__(self) -> str:
        return f"{self.job} [{self.key}]"
