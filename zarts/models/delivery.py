"""What a won deal becomes: a project, the connectors delivery must wire up, and the job outbox."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Versioned, enum, fk, utcnow
from .vocab import (
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
    status: Mapped[str] = mapped_column(enum("project_status", PROJECT_STATUS), nullable=False,
                                        default="onboarding", index=True)
    scope_snapshot: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    kickoff_date: Mapped[date | None] = mapped_column(sa.Date, index=True)
    onboarding_owner_id: Mapped[int | None] = fk("users.id")
    payment_state: Mapped[str] = mapped_column(enum("project_payment_state", PAYMENT_STATES),
                                               nullable=False, default="not_invoiced")
    contract_state: Mapped[str] = mapped_column(enum("project_contract_state", CONTRACT_STATES),
                                                nullable=False, default="signed")
    launch_blockers: Mapped[str | None] = mapped_column(sa.Text)  # internal
    client_launch_blockers: Mapped[str | None] = mapped_column(sa.Text)  # client-safe
    client_next_steps: Mapped[str | None] = mapped_column(sa.Text)  # client-safe
    # Whether the two client fields above, as they are now, were approved (kind client_text): the
    # portal shows them only when "approved".
    client_text_status: Mapped[str] = mapped_column(enum("project_client_text_status", CLIENT_SAFE_STATUS),
                                                    nullable=False, default="none")
    handoff_notes: Mapped[str | None] = mapped_column(sa.Text)  # internal

    client = relationship("Client")
    lead = relationship("Lead")
    proposal = relationship("Proposal", foreign_keys=[proposal_id])
    contract = relationship("Contract")
    onboarding_owner = relationship("User")

    def __str__(self) -> str:
        return self.name


class Connector(Versioned, Base):
    __tablename__ = "connectors"
    __table_args__ = (sa.UniqueConstraint("project_id", "name", name="uq_connectors_project_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    status: Mapped[str] = mapped_column(enum("connector_status", CONNECTOR_STATUS), nullable=False,
                                        default="to_connect", index=True)
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
    status: Mapped[str] = mapped_column(enum("outbox_status", OUTBOX_STATUS), nullable=False,
                                        default="pending")
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    available_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    done_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, default=utcnow)

    def __str__(self) -> str:
        return f"{self.job} [{self.key}]"
