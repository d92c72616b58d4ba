"""Integrations: personal API tokens, webhook endpoints with their delivery log, lead-capture sources.

Secrets are never stored readable: a token and a capture key are kept as their SHA-256; a webhook's
signing secret is derived from SECRET_KEY and the endpoint (zarts.domain.webhooks.secret_for).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamps, enum, fk
from .vocab import SERVICES, SOURCES

# The events a webhook endpoint may subscribe to, and the trail's event kind each one follows.
WEBHOOK_EVENTS = {
    "lead.created": "created",
    "lead.stage_moved": "stage_moved",
    "proposal.sent": "proposal_sent",
    "proposal.viewed": "proposal_viewed",
    "proposal.accepted": "proposal_accepted",
    "proposal.declined": "proposal_declined",
    "deal.won": "won",
    "deal.lost": "lost",
    "handoff.done": "handoff_done",
    "message.received": "message_received",
}


class ApiToken(Base):
    """A personal API token: the API acts as its user, with that user's role and rights."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    prefix: Mapped[str] = mapped_column(sa.String(12), nullable=False)  # shown in lists
    token_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    user = relationship("User")

    @property
    def is_live(self) -> bool:
        from .base import utcnow

        return self.revoked_at is None and (self.expires_at is None or self.expires_at > utcnow())


class WebhookEndpoint(Timestamps, Base):
    """Where to POST the events of `event_types`; each payload holds only what `acts_as` may read."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    description: Mapped[str | None] = mapped_column(sa.String(200))
    event_types: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    acts_as_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False, index=True)
    created_by_id: Mapped[int | None] = fk("users.id", index=False)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    # Bumped to rotate the signing secret (it is derived from SECRET_KEY, the id and this).
    secret_version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    consecutive_failures: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    disabled_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(300))

    acts_as = relationship("User", foreign_keys=[acts_as_id])

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(Base):
    """One attempt to deliver one event to one endpoint: what was answered, how long it took."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (sa.Index("ix_webhook_deliveries_endpoint_id", "endpoint_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False
    )
    event_id: Mapped[int] = fk("events.id")
    event_type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    delivery_key: Mapped[str] = mapped_column(sa.String(64), nullable=False, index=True)  # X-Zarts-Delivery
    attempt: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    status_code: Mapped[int | None] = mapped_column(sa.Integer)
    response_excerpt: Mapped[str | None] = mapped_column(sa.Text)  # the first 1 KB
    duration_ms: Mapped[int | None] = mapped_column(sa.Integer)
    error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)

    endpoint = relationship("WebhookEndpoint")

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class CaptureSource(Timestamps, Base):
    """A public lead form (or JSON poster) with its own key: leads it captures land with its owner."""

    __tablename__ = "capture_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    key_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    key_prefix: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    source: Mapped[str] = mapped_column(enum("capture_lead_source", SOURCES), nullable=False)
    service: Mapped[str] = mapped_column(enum("capture_service", SERVICES), nullable=False)
    default_owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False, index=True)
    consent_wording: Mapped[str] = mapped_column(sa.Text, nullable=False)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)

    default_owner = relationship("User", foreign_keys=[default_owner_id])

    def __str__(self) -> str:
        return self.name
