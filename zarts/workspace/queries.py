"""Prepared reads of the workspace: one named query function per view, loading exactly what it shows.

Every function issues a fixed number of statements, whatever the number of cards, events or tasks
(relations are joined or select-in loaded, lists are capped and keyset-paginated).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from ..domain import gates, merge
from ..models import Approval, Audit, Contract, Event, Lead, Message, Project, Proposal, Task, User, today
from ..models.vocab import STAFF_ROLES, STAGES
from ..domain.money import format_money as money
from ..statements import PREPARE_NOW

COUNT_CAP = 1000  # a column never counts past this: the board's cost stays bounded at any volume
TIMELINE_LIMIT = 20
MESSAGES_LIMIT = 10


# ---------------------------------------------------------------- board


@dataclass(frozen=True)
class BoardFilters:
    owner: str = ""  # a user id, "me" or "none" (unowned)
    service: str = ""
    source: str = ""

    def as_args(self) -> dict:
        return {
            k: v for k, v in (("owner", self.owner), ("service", self.service), ("source", self.source)) if v
        }

    def clauses(self, me_id: int | None) -> list:
        """The filters as WHERE clauses, their values in the SQL's parameters."""
        shape, values = self.shape(me_id)
        return shape_clauses(shape, values)

    def shape(self, me_id: int | None) -> tuple[tuple, dict]:
        """What the filters' WHERE looks like (owner: "id", "none" or "", service?, source?) and the
        values it binds (`owner_id`, `service`, `source`): the board's statements are built once per
        shape (`shape_clauses` with bound parameters) and run with these values."""
        values: dict = {}
        owner = ""
        if self.owner == "me" and me_id is not None:
            owner, values["owner_id"] = "id", me_id
        elif self.owner == "none":
            owner = "none"
        elif self.owner.isascii() and self.owner.isdigit() and len(self.owner) <= 18:
            owner, values["owner_id"] = "id", int(self.owner)
        if self.service:
            values["service"] = self.service
        if self.source:
            values["source"] = self.source
        return (owner, bool(self.service), bool(self.source)), values


def shape_clauses(shape: tuple, values: dict | None = None) -> list:
    """The WHERE clauses of a filters' shape: with `values`, each value in its own parameter; without,
    named bound parameters (owner_id, service, source) to be given when the statement runs."""
    owner, service, source = shape

    def bound(name, column):
        return column == (values[name] if values is not None else sa.bindparam(name))

    out = [Lead.merged_into_id.is_(None)]  # a merged lead (zarts.domain.merge) leaves the board
    if owner == "id":
        out.append(bound("owner_id", Lead.owner_id))
    elif owner == "none":
        out.append(Lead.owner_id.is_(None))
    if service:
        out.append(bound("service", Lead.service))
    if source:
        out.append(bound("source", Lead.source))
    return out


@dataclass(frozen=True)
class Totals:
    """A column's cards and their value, one amount per currency (never summed across currencies).
    Counted up to COUNT_CAP leads only: past it, the count and the amounts are lower bounds ("+")."""

    count: int = 0
    values: tuple[tuple[str, int], ...] = ()  # (currency, cents), by currency

    @property
    def capped(self) -> bool:
        return self.count >= COUNT_CAP

    @property
    def label(self) -> str:
        more = "+" if self.capped else ""
        return " · ".join(
            [count_label(self.count), *(f"{money(cents, cur)}{more}" for cur, cents in self.values)]
        )


@dataclass
class Column:
    stage: str
    cards: list = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)
    next_cursor: str | None = None

    @property
    def count(self) -> int:
        return self.totals.count

    @property
    def count_label(self) -> str:
        return self.totals.label


@dataclass
class Card:
    lead: CardLead
    badges: tuple[str, ...] = ()
    can_move: bool = False  # the viewer may move it (set by the view: trail.require_lead_actor's rule)


def encode_cursor(lead) -> str:
    return f"{lead.updated_at.isoformat()}_{lead.id}"


def decode_cursor(raw: str | None) -> tuple[datetime, int] | None:
    if not raw:
        return None
    stamp, _, ident = raw.rpartition("_")
    try:
        return datetime.fromisoformat(stamp), int(ident)
    except ValueError:
        return None


def _fixed(value):
    """A value the app fixes (a stage, a page size), written into the SQL rather than bound: the
    board's statements then read the same each time, and once psycopg has prepared them PostgreSQL
    plans them once (a bound LIMIT or stage kept it planning every time: ~1 ms of a board)."""
    return sa.literal(value, literal_execute=True)


def _column_ids(stage: str, filters: list, after: tuple[datetime, int] | None, limit: int):
    """Ids of one column's page, newest activity first (served by ix_leads_stage_updated)."""
    q = sa.select(Lead.id).where(Lead.stage == _fixed(stage), *filters)
    if after is not None:
        stamp, ident = after
        q = q.where(sa.or_(Lead.updated_at < stamp, sa.and_(Lead.updated_at == stamp, Lead.id < ident)))
    inner = q.order_by(Lead.updated_at.desc(), Lead.id.desc()).limit(_fixed(limit + 1)).subquery()
    return sa.select(inner.c.id)


@dataclass(frozen=True, slots=True)
class CardLead:
    """What a card shows of a lead (and the keyset cursor needs), read as plain columns: building
    200 ORM objects of forty columns each costs more than rendering the board."""

    id: int
    title: str
    company: str
    stage: str
    service: str
    owner_id: int | None
    owner_name: str | None
    next_action: str | None
    next_action_due: date | None
    probability: int | None
    paused_at: datetime | None
    updated_at: datetime
    version: int
    value_cents: int | None = None
    currency: str | None = None

    @property
    def value_label(self) -> str | None:
        return money(self.value_cents, self.currency) if self.value_cents is not None else None

    @property
    def is_open(self) -> bool:
        return self.stage not in ("won", "lost")

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None


CARD_COLUMNS = (
    Lead.id,
    Lead.title,
    Lead.company,
    Lead.stage,
    Lead.service,
    Lead.owner_id,
    User.name.label("owner_name"),
    Lead.next_action,
    Lead.next_action_due,
    Lead.probability,
    Lead.paused_at,
    Lead.updated_at,
    Lead.version,
    Lead.value_cents,
    Lead.currency,
)


# The badges a card takes from other tables, as correlated EXISTS (two index probes per card).
AWAITING_APPROVAL = sa.exists().where(Approval.lead_id == Lead.id, Approval.state == _fixed("pending"))
NOT_VIEWED = sa.exists().where(
    Proposal.lead_id == Lead.id, Proposal.status == _fixed("sent"), Proposal.viewed_at.is_(None)
)


def _cards_statement(where):
    return (
        sa.select(*CARD_COLUMNS, AWAITING_APPROVAL.label("awaiting_approval"), NOT_VIEWED.label("not_viewed"))
        .outerjoin(User, User.id == Lead.owner_id)
        .where(where)
        .order_by(Lead.updated_at.desc(), Lead.id.desc())
    )


def _cards(session: Session, statement, params: dict | None = None) -> list[Card]:
    """The cards a `_cards_statement` selects (run with `params`), newest activity first, with their
    badges, in one statement."""
    rows = session.execute(statement, params or {}, execution_options=PREPARE_NOW).all()
    now = today()
    cards = []
    for row in rows:
        lead = CardLead(*row[:-2])
        badges = []
        if lead.is_open and lead.next_action_due is not None and lead.next_action_due < now:
            badges.append("overdue")
        if lead.is_paused:
            badges.append("paused")
        if row.awaiting_approval:
            badges.append("awaiting_approval")
        if row.not_viewed:
            badges.append("not_viewed")
        cards.append(Card(lead, tuple(badges)))
    return cards


def board(session: Session, filters: BoardFilters, me_id: int, limit: int) -> dict:
    """The pipeline board: each stage's first page of cards, capped counts and values per currency,
    and the owner filter list."""
    shape, values = filters.shape(me_id)
    cards = _cards(session, _board_statement(shape, limit), values)
    totals = column_totals(session, filters, me_id)
    columns = {stage: Column(stage, totals=totals[stage]) for stage in STAGES}
    for card in cards:
        columns[card.lead.stage].cards.append(card)
    for column in columns.values():
        _trim(column, limit)
    return {"columns": list(columns.values()), "owners": staff(session)}


def column_totals(
    session: Session, filters: BoardFilters, me_id: int, stages: tuple[str, ...] = STAGES
) -> dict[str, Totals]:
    """Cards and value per currency of each of `stages` (after a move, the two columns it changed),
    in one statement: each stage reads at most COUNT_CAP leads (bounded work at a million leads),
    grouped by stage and currency. Leads merged into another are not counted."""
    counts: dict[str, int] = {}
    values: dict[str, list] = {}
    shape, bound = filters.shape(me_id)
    grouped = _totals_statement(shape, tuple(stages))
    for stage, currency, count, cents in session.execute(grouped, bound, execution_options=PREPARE_NOW).all():
        counts[stage] = counts.get(stage, 0) + count
        if currency is not None and cents is not None:
            values.setdefault(stage, []).append((currency, int(cents)))
    return {stage: Totals(counts.get(stage, 0), tuple(sorted(values.get(stage, ())))) for stage in stages}


# The board's two statements depend only on the shape of its filters (which ones are set, not their
# values: those are bound when they run) and the page size: each is built once per process and
# kept, not rebuilt on every request: building them (and SQLAlchemy deriving their cache keys) was a
# quarter of the board's time at 1M leads. A handful of shapes exist, so the cache stays small.


@functools.lru_cache(maxsize=64)
def _board_statement(shape: tuple, limit: int):
    clauses = shape_clauses(shape)
    ids = sa.union_all(*[_column_ids(stage, clauses, None, limit) for stage in STAGES])
    return _cards_statement(Lead.id.in_(ids))


@functools.lru_cache(maxsize=64)
def _totals_statement(shape: tuple, stages: tuple[str, ...]):
    clauses = shape_clauses(shape)
    pages = []
    for stage in stages:
        page = (
            sa.select(Lead.stage, Lead.currency, Lead.value_cents)
            .where(Lead.stage == _fixed(stage), Lead.merged_into_id.is_(None), *clauses)
            .limit(_fixed(COUNT_CAP))
            .subquery()
        )
        pages.append(sa.select(page.c.stage, page.c.currency, page.c.value_cents))
    rows = sa.union_all(*pages).subquery()
    return sa.select(
        rows.c.stage, rows.c.currency, sa.func.count(), sa.func.sum(rows.c.value_cents)
    ).group_by(rows.c.stage, rows.c.currency)


def column_counts(
    session: Session, filters: BoardFilters, me_id: int, stages: tuple[str, ...] = STAGES
) -> dict[str, int]:
    """Cards per stage, each counted up to COUNT_CAP (see column_totals)."""
    return {stage: t.count for stage, t in column_totals(session, filters, me_id, stages).items()}


def count_label(count: int) -> str:
    return f"{COUNT_CAP}+" if count >= COUNT_CAP else str(count)


def board_column(
    session: Session, stage: str, filters: BoardFilters, me_id: int, after: str | None, limit: int
) -> Column:
    """The next page of one column after the keyset cursor (the "more" control)."""
    column = Column(stage)
    ids = _column_ids(stage, filters.clauses(me_id), decode_cursor(after), limit)
    column.cards = _cards(session, _cards_statement(Lead.id.in_(ids)))
    _trim(column, limit)
    return column


def _trim(column: Column, limit: int) -> None:
    if len(column.cards) > limit:
        column.cards = column.cards[:limit]
        column.next_cursor = encode_cursor(column.cards[-1].lead)


def card(session: Session, lead_id: int) -> Card | None:
    """One card, as the board shows it (after a move, a refusal or a conflict)."""
    cards = _cards(session, _cards_statement(Lead.id == lead_id))
    return cards[0] if cards else None


def staff(session: Session) -> list:
    """Active staff as rows of (id, name, role), by name: what the owner pickers show (no User objects
    to build; the statement is prepared at once)."""
    return session.execute(
        sa.select(User.id, User.name, User.role)
        .where(User.role.in_([_fixed(r) for r in STAFF_ROLES]), User.active.is_(True))
        .order_by(User.name),
        execution_options=PREPARE_NOW,
    ).all()


# ---------------------------------------------------------------- lead page


@dataclass
class LeadPage:
    lead: Lead
    gates: dict
    missing_by_section: dict
    audits: list
    proposals: list
    contract: Contract | None
    project: Project | None
    events: list
    events_cursor: str | None
    messages: list
    tasks: list
    staff: list

    @property
    def latest_proposal(self) -> Proposal | None:
        return self.proposals[0] if self.proposals else None

    @property
    def live_proposal(self) -> Proposal | None:
        return next((p for p in self.proposals if p.status in ("sent", "accepted")), None)

    @property
    def completed_audit(self) -> Audit | None:
        return next((a for a in self.audits if a.status == "completed"), None)

    @property
    def open_audit(self) -> Audit | None:
        return next((a for a in self.audits if a.status == "draft"), None)


# The lead page's statements, built once: the lead's id is a bound parameter (`lead_id`). Building
# each statement and its loader options on every request cost about as much as running it.
_LEAD_ID = sa.bindparam("lead_id", type_=sa.Integer)
_PAGE_LEAD = (
    sa.select(Lead).options(joinedload(Lead.owner), joinedload(Lead.client)).where(Lead.id == _LEAD_ID)
)
_PAGE_PROPOSALS = (
    sa.select(Proposal)
    .where(Proposal.lead_id == _LEAD_ID)
    .order_by(Proposal.number.desc())
    .options(
        selectinload(Proposal.items),
        # What each claim rests on (citations with their evidence), joined: no query of its own.
        joinedload(Proposal.citations),
        selectinload(Proposal.approvals).joinedload(Approval.decided_by),
        selectinload(Proposal.approvals).joinedload(Approval.requested_by),
    )
)
_PAGE_AUDITS = (
    sa.select(Audit)
    .where(Audit.lead_id == _LEAD_ID)
    .options(joinedload(Audit.completed_by), joinedload(Audit.items))  # the evidence items, joined
    .order_by(Audit.id.desc())
)
_PAGE_CONTRACT = (
    sa.select(Contract).where(Contract.lead_id == _LEAD_ID).options(joinedload(Contract.onboarding_owner))
)
_PAGE_PROJECT = sa.select(Project).where(Project.lead_id == _LEAD_ID)
_PAGE_MESSAGES = (
    sa.select(Message)
    .where(Message.lead_id == _LEAD_ID)
    .options(joinedload(Message.author))
    .order_by(Message.created_at.desc(), Message.id.desc())
    .limit(MESSAGES_LIMIT)
)
_PAGE_TASKS = (
    sa.select(Task)
    .where(Task.lead_id == _LEAD_ID, Task.done_at.is_(None))
    .options(joinedload(Task.owner))
    .order_by(Task.due, Task.id)
    .limit(50)
)


def lead_page(session: Session, lead_id: int, events_limit: int = TIMELINE_LIMIT) -> LeadPage | None:
    """Everything the lead page shows, grouped by the guide's checkpoints."""
    ident = {"lead_id": lead_id}
    lead = session.execute(_PAGE_LEAD, ident).scalar_one_or_none()
    if lead is None:
        return None
    proposals = session.execute(_PAGE_PROPOSALS, ident).unique().scalars().all()
    audits = session.execute(_PAGE_AUDITS, ident).unique().scalars().all()
    contract = session.execute(_PAGE_CONTRACT, ident).scalar_one_or_none()
    # The gates read the records loaded above instead of asking for them again.
    status = gates.gate_status(
        session,
        lead,
        gates.Facts(session, lead, proposals=list(proposals), audits=list(audits), contract=contract),
    )
    project = session.execute(_PAGE_PROJECT, ident).scalar_one_or_none()
    events, cursor = lead_events(session, lead_id, None, events_limit)
    messages = session.execute(_PAGE_MESSAGES, ident).scalars().all()
    tasks = session.execute(_PAGE_TASKS, ident).scalars().all()
    return LeadPage(
        lead=lead,
        gates=status,
        missing_by_section=_by_section(status),
        audits=audits,
        proposals=proposals,
        contract=contract,
        project=project,
        events=events,
        events_cursor=cursor,
        messages=messages,
        tasks=tasks,
        staff=staff(session),
    )


def _by_section(status: dict) -> dict[str, list]:
    """Every unmet requirement once, filed under the lead-page section where it is fixed."""
    out: dict[str, list] = {}
    seen = set()
    for missing in status.values():
        for m in missing:
            if m.code not in seen:
                seen.add(m.code)
                out.setdefault(m.section, []).append(m)
    return out


def lead_events(session: Session, lead_id: int, before: str | None, limit: int) -> tuple[list, str | None]:
    """The timeline, newest first, `limit` at a time (keyset on created_at, id): the lead's events and
    those of the leads merged into it (events are append-only, so they stay where they were written).
    Rows of what the timeline shows (the actor as `actor_name`), not Event objects."""
    ids = merge.history_ids(session, lead_id)
    q = sa.select(
        Event.id,
        Event.lead_id,
        Event.kind,
        Event.stage,
        Event.next_action,
        Event.payload,
        Event.created_at,
        Event.actor_id,
        User.name.label("actor_name"),
    ).outerjoin(User, User.id == Event.actor_id)
    q = q.where(Event.lead_id == ids[0]) if len(ids) == 1 else q.where(Event.lead_id.in_(ids))
    if before:
        stamp, _, ident = before.rpartition("_")
        try:
            stamp_dt, ident_i = datetime.fromisoformat(stamp), int(ident)
        except ValueError:
            stamp_dt, ident_i = None, None
        if stamp_dt is not None:
            q = q.where(
                sa.or_(Event.created_at < stamp_dt, sa.and_(Event.created_at == stamp_dt, Event.id < ident_i))
            )
    events = session.execute(q.order_by(Event.created_at.desc(), Event.id.desc()).limit(limit + 1)).all()
    cursor = None
    if len(events) > limit:
        events = events[:limit]
        cursor = f"{events[-1].created_at.isoformat()}_{events[-1].id}"
    return events, cursor


def lead_exists(session: Session, lead_id: int) -> bool:
    return session.execute(sa.select(Lead.id).where(Lead.id == lead_id)).first() is not None
