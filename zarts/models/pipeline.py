"""The opportunity (lead), its append-only event trail and the tasks that carry every promise."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Versioned, enum, fk, index_statistics_ddl, trigram_index, utcnow
from .vocab import (
    CONSENT,
    EVENT_KINDS,
    LOST_REASONS,
    PAUSE_REASONS,
    SERVICE_FIT,
    SERVICES,
    SOURCES,
    STAGES,
    TASK_KINDS,
    URGENCY,
)

# What the admin's lead search matches (search_document below), as SQL for the trigram index, grouped
# as PostgreSQL prints an indexed expression back (Alembic's drift check compares the two texts).
SEARCH_DOCUMENT_SQL = (
    "((((((title || ' ') || company) || ' ') || coalesce(contact_name, '')) || ' ') "
    "|| coalesce(contact_email, ''))"
)


class Lead(Versioned, Base):
    __tablename__ = "leads"
    __table_args__ = (
        sa.CheckConstraint(
            "probability IS NULL OR (probability >= 0 AND probability <= 100)", name="probability_range"
        ),
        sa.CheckConstraint(
            "stage <> 'lost' OR (lost_reason IS NOT NULL AND "
            "(reactivation_date IS NOT NULL OR reactivation_never))",
            name="lost_needs_reason_and_window",
        ),
        sa.CheckConstraint("stage <> 'won' OR won_at IS NOT NULL", name="won_has_date"),
        sa.CheckConstraint(
            "value_cents IS NULL OR (value_cents >= 0 AND currency IS NOT NULL)", name="value_has_currency"
        ),
        sa.Index("ix_leads_stage_updated", "stage", "updated_at", "id"),
        sa.Index("ix_leads_owner_stage", "owner_id", "stage"),
        # The admin list: a stage filter in id order (newest first), at any depth.
        sa.Index("ix_leads_stage_id", "stage", "id"),
        # The board's columns: each stage's page newest activity first, merged leads left out (they
        # never show on the board), so the page is read from the index without a table row per lead
        # to check. Partial on both databases; ix_leads_stage_updated stays for reads of every lead.
        sa.Index(
            "ix_leads_board_page",
            "stage",
            "updated_at",
            "id",
            postgresql_where=sa.text("merged_into_id IS NULL"),
            sqlite_where=sa.text("merged_into_id IS NULL"),
        ),
        # The board's column totals (count and value per currency, up to COUNT_CAP leads a stage), the
        # board's filters included: read from this index alone, not from a thousand table rows a stage.
        sa.Index(
            "ix_leads_board_totals",
            "stage",
            "owner_id",
            "service",
            "source",
            "currency",
            "value_cents",
            postgresql_where=sa.text("merged_into_id IS NULL"),
        ),
        # Lost leads by win-back date: the reminder sweep's reactivations (few due on any day).
        sa.Index(
            "ix_leads_winback_due",
            "reactivation_date",
            "id",
            postgresql_where=sa.text("stage = 'lost' AND reactivation_never IS false"),
        ),
        # The search (PostgreSQL): a rare word is found through the index, not by reading the table.
        trigram_index(
            "ix_leads_search_trgm",
            sa.literal_column(SEARCH_DOCUMENT_SQL).label("search_document"),
            statistics=250,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    company: Mapped[str] = mapped_column(sa.String(200), nullable=False, index=True)
    contact_name: Mapped[str | None] = mapped_column(sa.String(120))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    contact_phone: Mapped[str | None] = mapped_column(sa.String(40))
    contact_path: Mapped[str | None] = mapped_column(sa.String(200))

    source: Mapped[str] = mapped_column(enum("lead_source", SOURCES), nullable=False, index=True)
    source_context: Mapped[str | None] = mapped_column(sa.Text)
    service: Mapped[str] = mapped_column(enum("lead_service", SERVICES), nullable=False, index=True)
    service_fit: Mapped[str | None] = mapped_column(enum("service_fit", SERVICE_FIT))
    urgency: Mapped[str | None] = mapped_column(enum("urgency", URGENCY))
    decision_owner: Mapped[str | None] = mapped_column(sa.String(120))
    decision_criteria: Mapped[str | None] = mapped_column(sa.Text)
    budget_signal: Mapped[str | None] = mapped_column(sa.String(200))

    # Discovery (check 1)
    pain_points: Mapped[str | None] = mapped_column(sa.Text)
    current_lead_flow: Mapped[str | None] = mapped_column(sa.Text)
    provider_stack: Mapped[str | None] = mapped_column(sa.Text)  # one system per line or comma
    discovery_notes: Mapped[str | None] = mapped_column(sa.Text)  # internal
    discovery_logged_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    stage: Mapped[str] = mapped_column(enum("lead_stage", STAGES), nullable=False, default="new")
    probability: Mapped[int | None] = mapped_column(sa.Integer)
    next_action: Mapped[str | None] = mapped_column(sa.String(300))
    next_action_due: Mapped[date | None] = mapped_column(sa.Date, index=True)
    decision_deadline: Mapped[date | None] = mapped_column(sa.Date, index=True)

    consent: Mapped[str] = mapped_column(enum("consent", CONSENT), nullable=False, default="unknown")
    consent_recorded_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    paused_at: Mapped[datetime | None] = mapped_column(sa.DateTime, index=True)
    pause_reason: Mapped[str | None] = mapped_column(enum("pause_reason", PAUSE_REASONS))
    pause_note: Mapped[str | None] = mapped_column(sa.Text)

    lost_reason: Mapped[str | None] = mapped_column(enum("lost_reason", LOST_REASONS), index=True)
    lost_note: Mapped[str | None] = mapped_column(sa.Text)
    lost_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    reactivation_date: Mapped[date | None] = mapped_column(sa.Date, index=True)
    reactivation_never: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    won_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    # The deal's value: estimated at entry, then the current proposal's price (zarts.domain). Amounts
    # of different currencies are never added up (zarts.domain.money).
    value_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    currency: Mapped[str | None] = mapped_column(sa.String(3))

    # Duplicate detection (zarts.models.keys, set on every write) and merging (zarts.domain.merge):
    # a merged lead is closed as lost, reason "duplicate", and points at the lead that absorbed it.
    company_key: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    email_key: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    email_domain: Mapped[str | None] = mapped_column(sa.String(120), index=True)
    merged_into_id: Mapped[int | None] = fk("leads.id", index=False)

    owner_id: Mapped[int | None] = fk("users.id", ondelete="SET NULL")
    client_id: Mapped[int | None] = fk("clients.id", ondelete="SET NULL")

    owner = relationship("User", foreign_keys=[owner_id])
    client = relationship("Client", foreign_keys=[client_id])

    @classmethod
    def search_document(cls):
        """What a lead search matches: title, company and contact in one text (the admin's ILIKE
        search; a space never occurs in a search word, so a word matches exactly where it matches
        one of the fields). Constants are literal SQL: PostgreSQL parses this a || b || c into the
        tree of SEARCH_DOCUMENT_SQL, so the search uses ix_leads_search_trgm."""
        space, empty = sa.literal_column("' '"), sa.literal_column("''")
        return (
            cls.title
            + space
            + cls.company
            + space
            + sa.func.coalesce(cls.contact_name, empty)
            + space
            + sa.func.coalesce(cls.contact_email, empty)
        ).label("search_document")

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def is_open(self) -> bool:
        return self.stage not in ("won", "lost")

    def __str__(self) -> str:
        return f"{self.title} ({self.company})"


@sa.event.listens_for(Lead.__table__, "after_create")
def _index_statistics(target, connection, **kw):
    if connection.dialect.name == "postgresql":
        for index in target.indexes:
            for statement in index_statistics_ddl(index):
                connection.execute(sa.text(statement))


class Event(Base):
    """Append-only: UPDATE and DELETE are refused by the ORM and by database triggers."""

    __tablename__ = "events"
    __table_args__ = (
        sa.Index("ix_events_lead_created", "lead_id", "created_at", "id"),
        sa.Index("ix_events_kind_created", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(sa.ForeignKey("leads.id"), nullable=False)
    kind: Mapped[str] = mapped_column(enum("event_kind", EVENT_KINDS), nullable=False)
    actor_id: Mapped[int | None] = fk("users.id", index=False)
    owner_id: Mapped[int | None] = fk("users.id", index=False)
    stage: Mapped[str] = mapped_column(enum("event_stage", STAGES), nullable=False)
    next_action: Mapped[str | None] = mapped_column(sa.String(300))
    next_action_due: Mapped[date | None] = mapped_column(sa.Date)
    payload: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, default=utcnow)

    lead = relationship("Lead")
    actor = relationship("User", foreign_keys=[actor_id])
    owner = relationship("User", foreign_keys=[owner_id])


REMIND_DAY_SQL = "coalesce(remind_on, due)"  # ix_tasks_open_remind; Task.remind_day() in queries

TASKS_STORAGE = {"autovacuum_vacuum_scale_factor": 0.01, "autovacuum_vacuum_insert_scale_factor": 0.01}


class Task(Versioned, Base):
    __tablename__ = "tasks"
    __table_args__ = (  # One owner's open tasks soonest first (my tasks: each section one range of it),
        # and what they ticked lately: each task is in one of the two.
        sa.Index("ix_tasks_owner_open", "owner_id", "due", "id", postgresql_where=sa.text("done_at IS NULL")),
        sa.Index(
            "ix_tasks_owner_done",
            "owner_id",
            "done_at",
            "id",
            postgresql_where=sa.text("done_at IS NOT NULL"),
        ),
        # Open tasks soonest first, in (due, id) keyset pages.
        sa.Index("ix_tasks_open_due_id", "due", "id", postgresql_where=sa.text("done_at IS NULL")),
        # Open tasks by the day their next reminder is due: the reminder sweep reads only
        # the tasks it has to remind, however many are overdue (see `remind_on`).
        sa.Index(
            "ix_tasks_open_remind",
            sa.literal_column(REMIND_DAY_SQL),
            "id",
            postgresql_where=sa.text("done_at IS NULL"),
            postgresql_include=["lead_id"],
        ),
        # Open tasks of one kind, soonest first (the dashboard's overdue follow-ups).
        sa.Index("ix_tasks_open_kind_due", "kind", "due", "id", postgresql_where=sa.text("done_at IS NULL")),
        # The admin list sorted or filtered by kind or due date (ties in id order).
        sa.Index("ix_tasks_kind_id", "kind", "id"),
        sa.Index("ix_tasks_due_id", "due", "id"),
        # Vacuumed after 1% of the rows changed (PostgreSQL's default, 20%, is 600k rows at
        # 3M): the visibility map stays fresh, so the sweep's scan stays index-only.
        {"postgresql_with": TASKS_STORAGE},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(enum("task_kind", TASK_KINDS), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(300), nullable=False)  # client-safe when client_visible
    notes: Mapped[str | None] = mapped_column(sa.Text)  # internal
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    due: Mapped[date] = mapped_column(sa.Date, nullable=False)
    done_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    done_by_id: Mapped[int | None] = fk("users.id", index=False)
    lead_id: Mapped[int | None] = fk("leads.id")
    client_id: Mapped[int | None] = fk("clients.id")
    project_id: Mapped[int | None] = fk("projects.id")
    # A checklist item the client owns and ticks in the portal.
    client_visible: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    # Idempotency key for tasks made by the domain or by jobs ("handoff:12:onboarding:3").
    key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    # The day from which this open task is reminded (again); unset: its due date. After a reminder
    # the sweep moves it on: to the next day after the due-day reminder, to the Monday after while
    # overdue (one reminder a week); while its lead may not be contacted, a day at a time. A new due
    # date, or the lead resumed or given consent, unsets it (listeners in zarts.domain.reminders).
    # Bookkeeping of the sweep only (the message key is what makes a reminder exactly-once).
    remind_on: Mapped[date | None] = mapped_column(sa.Date)

    owner = relationship("User", foreign_keys=[owner_id])
    done_by = relationship("User", foreign_keys=[done_by_id])
    lead = relationship("Lead")
    client = relationship("Client")
    project = relationship("Project")

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @classmethod
    def remind_day(cls):
        """The day the next reminder of an open task is due, as the SQL of ix_tasks_open_remind."""
        return sa.func.coalesce(cls.remind_on, cls.due)

    def __str__(self) -> str:
        return self.title


# The global search (PostgreSQL, zarts.workspace.search): a task's title by trigram, typos included.
trigram_index("ix_tasks_title_trgm", Task.__table__.c.title)
