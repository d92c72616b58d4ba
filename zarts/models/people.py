"""Who: staff users, client contacts and the client organisations they belong to."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamps, Versioned, enum, fk, trigram_index
from .vocab import CADENCES, CLIENT_STATUS, NOTIFICATION_KINDS, ROLES, SECRET_LINKS, STAFF_ROLES


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class Client(Versioned, Base):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False, index=True)
    status: Mapped[str] = mapped_column(
        enum("client_status", CLIENT_STATUS), default="prospect", nullable=False, index=True
    )
    # users.client_id points back here: the FK is added after both tables exist.
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL", use_alter=True), index=True
    )
    report_cadence: Mapped[str] = mapped_column(
        enum("report_cadence", CADENCES), default="monthly", nullable=False
    )
    notes: Mapped[str | None] = mapped_column(sa.Text)  # internal
    # The client's web domain ("acme.de"): duplicate detection and the import's matching.
    domain: Mapped[str | None] = mapped_column(sa.String(120), index=True)
    # Duplicate detection (zarts.models.keys) and merging (zarts.domain.merge).
    name_key: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id"))

    owner = relationship("User", foreign_keys=[owner_id])

    def __str__(self) -> str:
        return self.name


# The global search (PostgreSQL, zarts.workspace.search): a client's name by trigram, typos included.
trigram_index("ix_clients_name_trgm", Client.__table__.c.name)


class User(Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("(role = 'client') = (client_id IS NOT NULL)", name="client_contact_bound"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    role: Mapped[str] = mapped_column(enum("user_role", ROLES), nullable=False, index=True)
    client_id: Mapped[int | None] = fk("clients.id", ondelete="CASCADE")
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    # Rotated on logout, password change and deactivation: every cookie carrying the old one dies.
    session_token: Mapped[str] = mapped_column(sa.String(64), nullable=False, default=new_session_token)
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    # An IANA zone ("Europe/Berlin") the admin and workspace show times in; unset: DEFAULT_TIME_ZONE.
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))

    client = relationship("Client", foreign_keys=[client_id])

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_client(self) -> bool:
        return self.role == "client"

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class AuthToken(Base):
    """A single-use link (portal invite, password reset). Only the SHA-256 of the token is kept: the
    readable link exists only in the email as sent."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    purpose: Mapped[str] = mapped_column(enum("auth_token_purpose", SECRET_LINKS), nullable=False)
    token_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    message_id: Mapped[int | None] = fk("messages.id", index=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    user = relationship("User")


class Notification(Base):
    """Something a staff member should know about, for the workspace's bell: made by a job from the
    outbox after the change that caused it (never in the request), read when opened."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_unread", "user_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(enum("notification_kind", NOTIFICATION_KINDS), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    url: Mapped[str] = mapped_column(sa.String(500), nullable=False)  # a path inside the app
    lead_id: Mapped[int | None] = fk("leads.id", index=False)
    # Idempotency: one notification per cause and recipient, however often the job runs.
    key: Mapped[str] = mapped_column(sa.String(160), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    user = relationship("User")


class SavedView(Timestamps, Base):
    """A named set of filters of one page (the board, My tasks, an admin list), a user's own or shared
    with the team. `query` is the page's query string as the page itself would write it."""

    __tablename__ = "saved_views"
    __table_args__ = (
        sa.UniqueConstraint("owner_id", "page", "name", name="uq_saved_views_owner_page_name"),
        sa.Index("ix_saved_views_page_shared", "page", "shared"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    page: Mapped[str] = mapped_column(sa.String(60), nullable=False)  # "board", "tasks", "admin:lead", ...
    name: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    query: Mapped[str] = mapped_column(sa.String(2000), nullable=False, default="")
    shared: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)

    owner = relationship("User")

    def __str__(self) -> str:
        return self.name
