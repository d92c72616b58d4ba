"""The dashboard's read: aggregate SQL (GROUP BY), a fixed number of statements at any volume.

Two kinds of figures:
- "Now" figures (open pipeline per stage, owner and currency; conversion by source; proposals
  awaiting a decision) read whole tables: milliseconds at a few thousand leads, seconds at a million.
  Above DASHBOARD_LIVE_MAX_LEADS (PostgreSQL's row estimate of `leads`) the page shows them from a
  snapshot (MetricSnapshot "dashboard") that the scheduler's "dashboard" sweep recomputes every
  DASHBOARD_REFRESH_SECONDS; a missing snapshot, or one older than DASHBOARD_MAX_AGE_SECONDS, is
  recomputed by the request itself. The rows are kept per owner, so the owner filter reads the
  snapshot too.
- Period figures (stage conversion, cycle time, wins, losses, won revenue): each is a range of the
  events index (kind, created_at) bounded by the chosen period (`Filters`), joined to its lead by
  primary key. Live below the same volume limit; above it kept per process and filters for
  DASHBOARD_REFRESH_SECONDS (labelled with their time), except for a user who wrote since they were
  computed: their own change shows at once (`_period_rows`, the session's `wrote_at`).

Money is never added across currencies: every value is a dict currency -> cents (zarts.domain.money),
with a converted total only where the admin's rates allow one, labelled as converted.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, aliased, joinedload

from ...extensions import db
from ...models import Event, Lead, MetricSnapshot, Proposal, Report, Task, User, today, utcnow
from ...models.vocab import LOST_REASON_LABELS, OPEN_STAGES, SOURCES, STAGE_LABELS
from .. import money
from ..cadence import report_overdue

LIST_LIMIT = 10
REACTIVATION_WINDOW_DAYS = 14
SNAPSHOT = "dashboard"
DEFAULTS = {
    "DASHBOARD_LIVE_MAX_LEADS": 50_000,  # up to this many leads the aggregates are computed per view
    "DASHBOARD_REFRESH_SECONDS": 300,  # the scheduler's refresh of the snapshot
    "DASHBOARD_MAX_AGE_SECONDS": 3600,  # an older snapshot (no scheduler running) is recomputed
}
# The forward path: conversion of each stage into the next, and the stages a cycle time is kept for.
PATH = ("new", "qualified", "discovery", "audit", "proposal", "contract", "won")
ORDER = {stage: i for i, stage in enumerate(PATH)}


def overdue_count(session: Session) -> int:
    """How many client reports are overdue (cadence.report_overdue), in one statement of two counts:
    those whose period ended (ix_reports_unpublished, no table read), and those of a period still
    running whose "approve and publish" task is late (the few current ones, each with its task by
    key) — rather than a task look-up for every unpublished report (~11 ms at a million leads)."""
    day = today()
    unpublished = (
        Report.kind == sa.literal("client_report", literal_execute=True),
        Report.status != sa.literal("published", literal_execute=True),
    )
    ended = sa.select(sa.func.count()).select_from(Report).where(*unpublished, Report.period_end < day)
    running = (
        sa.select(sa.func.count())
        .select_from(Report)
        .where(
            *unpublished,
            sa.or_(Report.period_end.is_(None), Report.period_end >= day),
            report_overdue(day),
        )
    )
    row = session.execute(sa.select(ended.scalar_subquery(), running.scalar_subquery())).one()
    return int(row[0] or 0) + int(row[1] or 0)


@dataclass
class Bar:
    label: str
    value: float
    text: str
    alt: bool = False


PERIODS = {
    "this_month": "This month",
    "last_month": "Last month",
    "this_quarter": "This quarter",
    "last_quarter": "Last quarter",
    "this_year": "This year",
    "last_12_months": "Last 12 months",
    "custom": "From – to",
}
MAX_CUSTOM_DAYS = 5 * 366  # a custom period is bounded: its figures read one range of the events index


def _month_start(day: date, back: int = 0) -> date:
    months = day.year * 12 + day.month - 1 - back
    return date(months // 12, months % 12 + 1, 1)


def period_bounds(period: str, on: date) -> tuple[date, date]:
    """[first day, day after the last) of a named period holding `on` (UTC days, as stored)."""
    quarter = _month_start(on, (on.month - 1) % 3)
    return {
        "this_month": (_month_start(on), _month_start(on, -1)),
        "last_month": (_month_start(on, 1), _month_start(on)),
        "this_quarter": (quarter, _month_start(quarter, -3)),
        "last_quarter": (_month_start(quarter, 3), quarter),
        "this_year": (date(on.year, 1, 1), date(on.year + 1, 1, 1)),
        "last_12_months": (_month_start(on, 11), _month_start(on, -1)),
    }[period]


@dataclass(frozen=True)
class Filters:
    """The dashboard's GET parameters, checked: a period [begin, end) and an owner (None: everyone)."""

    period: str
    first: date
    last: date  # inclusive, as the form shows it
    owner: str  # "" everyone, "me", or a user id as text
    owner_id: int | None
    error: str | None = None

    @property
    def begin(self) -> datetime:
        return datetime.combine(self.first, datetime.min.time())

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time())

    @property
    def label(self) -> str:
        span = f"{self.first:%d %b %Y} – {self.last:%d %b %Y}"
        return span if self.period == "custom" else f"{PERIODS[self.period]} ({span})"

    @property
    def query(self) -> dict:
        out = {"period": self.period}
        if self.period == "custom":
            out.update({"from": self.first.isoformat(), "to": self.last.isoformat()})
        if self.owner:
            out["owner"] = self.owner
        return out

    @classmethod
    def default(cls) -> Filters:
        return cls.parse({}, None)

    @classmethod
    def parse(cls, args, me_id: int | None, on: date | None = None) -> Filters:
        """From request args; anything unreadable falls back to a default with an `error` to show."""
        on = on or today()
        error = None
        period = args.get("period") or "this_month"
        if period not in PERIODS:
            period, error = "this_month", "Unknown period: showing this month."
        if period == "custom":
            try:
                first = date.fromisoformat((args.get("from") or "").strip())
                last = date.fromisoformat((args.get("to") or "").strip())
                if last < first:
                    raise ValueError("to before from")
                if (last - first).days > MAX_CUSTOM_DAYS:
                    raise OverflowError
            except OverflowError:
                period, error = "this_month", "A custom period spans at most five years: showing this month."
            except ValueError:
                period, error = "this_month", "Give the custom period a from date on or before its to date."
        if period != "custom":
            first, after = period_bounds(period, on)
            last = after - timedelta(days=1)
        owner = (args.get("owner") or "").strip()
        owner_id = None
        if owner == "me":
            owner_id = me_id
        elif owner.isascii() and owner.isdigit() and len(owner) <= 18:  # an id a database can hold
            owner_id = int(owner)
        elif owner:
            owner, error = "", "Unknown owner: showing everyone."
        return cls(period, first, last, owner, owner_id, error)


def setting(name: str) -> int:
    return int(current_app.config.get(name, DEFAULTS[name]))


# --- "Now" figures: whole-table aggregates (snapshotted at volume) ------------------------------


def aggregates(session: Session) -> dict:
    """The whole-table figures, as JSON-able rows (what a snapshot stores), per owner."""
    now = today()
    # 1. Open pipeline by stage, owner and currency: count, value, probability-weighted value, overdue.
    open_rows = session.execute(
        sa.select(
            Lead.stage,
            Lead.owner_id,
            Lead.currency,
            sa.func.count(Lead.id),
            sa.func.sum(Lead.value_cents),
            sa.func.sum(Lead.value_cents * sa.func.coalesce(Lead.probability, 0)),
            sa.func.sum(sa.case((Lead.next_action_due < now, 1), else_=0)),
        )
        .where(Lead.stage.in_(OPEN_STAGES))
        .group_by(Lead.stage, Lead.owner_id, Lead.currency)
    ).all()
    # 2. Conversion by source (all time), per owner.
    source_rows = session.execute(
        sa.select(
            Lead.source,
            Lead.owner_id,
            sa.func.count(Lead.id),
            sa.func.sum(sa.case((Lead.stage == "won", 1), else_=0)),
            sa.func.sum(sa.case((Lead.stage == "lost", 1), else_=0)),
        ).group_by(Lead.source, Lead.owner_id)
    ).all()
    # 3. Sent proposals awaiting a view or a decision.
    not_viewed, viewed = session.execute(
        sa.select(
            sa.func.sum(sa.case((Proposal.viewed_at.is_(None), 1), else_=0)),
            sa.func.sum(sa.case((Proposal.viewed_at.is_not(None), 1), else_=0)),
        ).where(Proposal.status == "sent")
    ).one()
    # 4. and 5. How many overdue follow-ups and reactivations due there are (the lists are live).
    overdue = session.execute(sa.select(sa.func.count()).select_from(_overdue_query(now).subquery())).scalar()
    reactivation_count = session.execute(
        sa.select(sa.func.count()).select_from(_reactivation_query(now).subquery())
    ).scalar()
    return {
        "version": 2,
        "open_rows": [
            [r[0], r[1], r[2], int(r[3]), int(r[4] or 0), float(r[5] or 0), int(r[6] or 0)] for r in open_rows
        ],
        "source_rows": [[r[0], r[1], int(r[2]), int(r[3] or 0), int(r[4] or 0)] for r in source_rows],
        "awaiting_view": int(not_viewed or 0),
        "awaiting_decision": int(viewed or 0),
        "overdue_count": int(overdue or 0),
        "reactivation_count": int(reactivation_count or 0),
    }


def _overdue_query(now):
    return sa.select(Task).where(Task.kind == "follow_up", Task.done_at.is_(None), Task.due < now)


def _reactivation_query(now):
    horizon = now + timedelta(days=REACTIVATION_WINDOW_DAYS)
    return sa.select(Lead).where(
        Lead.stage == "lost", Lead.reactivation_date.is_not(None), Lead.reactivation_date <= horizon
    )


def estimated_leads(session: Session) -> int | None:
    """PostgreSQL's own estimate of the leads table's rows (kept by ANALYZE/autovacuum; free to read).
    None elsewhere, or before the table was ever analysed."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    estimate = session.execute(
        sa.text("SELECT reltuples FROM pg_class WHERE oid = 'leads'::regclass")
    ).scalar()
    return int(estimate) if estimate is not None and estimate >= 0 else None


def refresh_snapshot(session: Session) -> MetricSnapshot:
    """Recompute the dashboard's aggregates and store them (the scheduler's "dashboard" sweep)."""
    started = time.perf_counter()
    figures = aggregates(session)
    seconds = round(time.perf_counter() - started, 3)
    row = session.execute(
        sa.select(MetricSnapshot).where(MetricSnapshot.name == SNAPSHOT)
    ).scalar_one_or_none()
    if row is None:
        row = MetricSnapshot(name=SNAPSHOT)
        session.add(row)
    row.figures, row.computed_at, row.seconds = figures, utcnow(), seconds
    session.flush()
    return row


_SNAPSHOT_STAMP = sa.select(MetricSnapshot.id, MetricSnapshot.computed_at).where(
    MetricSnapshot.name == SNAPSHOT
)
# The snapshot's figures as last read by this process, by (database, row, computed_at): a page reads
# the snapshot's stamp, and its figures (a JSON document decoded on every read) only when they changed.
_FIGURES: dict[tuple, dict] = {}


def _snapshot_figures(session: Session, stamp) -> dict | None:
    """The figures of the snapshot `stamp` names (None: stored by an older release in another shape).
    Shared by every request of the process: read, never changed."""
    key = (str(session.get_bind().url), stamp.id, stamp.computed_at)
    figures = _FIGURES.get(key)
    if figures is None:
        row = session.execute(
            sa.select(MetricSnapshot.figures, MetricSnapshot.computed_at).where(MetricSnapshot.id == stamp.id)
        ).first()
        if row is None or (row.figures or {}).get("version") != 2:
            return None
        figures = row.figures
        if row.computed_at == stamp.computed_at:  # not replaced between the two reads
            _FIGURES.clear()  # one snapshot kept: the newest read
            _FIGURES[key] = figures
    return figures


def _aggregates_for_page(session: Session) -> tuple[dict, datetime | None]:
    """Live below the volume limit; above it the snapshot (recomputed here if missing, too old, or
    stored by an older release in another shape)."""
    estimate = estimated_leads(session)
    if estimate is None or estimate <= setting("DASHBOARD_LIVE_MAX_LEADS"):
        return aggregates(session), None
    stamp = session.execute(_SNAPSHOT_STAMP).first()
    if stamp is not None and (utcnow() - stamp.computed_at).total_seconds() <= setting(
        "DASHBOARD_MAX_AGE_SECONDS"
    ):
        figures = _snapshot_figures(session, stamp)
        if figures is not None:
            return figures, stamp.computed_at
    fresh = Session(bind=db.engine)  # its own transaction: the page's session only reads
    try:
        row = refresh_snapshot(fresh)
        figures, computed_at = row.figures, row.computed_at
        try:
            fresh.commit()
        except sa.exc.IntegrityError:  # another request stored one first: show these figures anyway
            fresh.rollback()
        return figures, computed_at
    finally:
        fresh.close()


# --- Period figures: ranges of the events index ---------------------------------------------------


def _order_of(column):
    return sa.case({stage: i for stage, i in ORDER.items()}, value=column, else_=-1)


def _events_in(begin: datetime, end: datetime, owner_id: int | None, *kinds: str):
    clauses = [Event.kind.in_(kinds), Event.created_at >= begin, Event.created_at < end]
    if owner_id is not None:
        clauses.append(Event.owner_id == owner_id)
    return clauses


def conversion_rows(session: Session, f: Filters) -> list[tuple[str, int, int]]:
    """(stage, leads that entered it in the period, how many of those went on to a later stage).

    One pass over the events from the period's start on (a range of ix_events_kind_created): each
    lead's entering events in time order, each one with the furthest stage of the moves that follow
    it (a window over the lead's later rows, to today: a lead may move on after the period), instead
    of a look-up of the lead's later events for every event (0.4 s at a million leads)."""
    order = _order_of(Event.stage)
    entered = (
        sa.select(
            Event.lead_id,
            Event.stage,
            Event.owner_id,
            Event.created_at,
            order.label("step"),
            sa.func.max(sa.case((Event.kind == "stage_moved", order), else_=-1))
            .over(partition_by=Event.lead_id, order_by=(Event.created_at, Event.id), rows=(1, None))
            .label("furthest_after"),
        )
        .where(Event.kind.in_(("created", "stage_moved")), Event.created_at >= f.begin)
        .subquery()
    )
    clauses = [entered.c.created_at < f.end, entered.c.stage.in_(PATH[:-1])]
    if f.owner_id is not None:
        clauses.append(entered.c.owner_id == f.owner_id)
    rows = session.execute(
        sa.select(
            entered.c.stage,
            sa.func.count(sa.distinct(entered.c.lead_id)),
            sa.func.count(
                sa.distinct(sa.case((entered.c.furthest_after > entered.c.step, entered.c.lead_id)))
            ),
        )
        .where(*clauses)
        .group_by(entered.c.stage)
    ).all()
    return [(stage, int(n), int(on or 0)) for stage, n, on in rows]


def _days_between(session: Session, later, earlier):
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.extract("epoch", later - earlier) / 86400.0
    return sa.func.julianday(later) - sa.func.julianday(earlier)


def cycle_rows(session: Session, f: Filters) -> list[tuple[str, int, float]]:
    """(stage, stays in it that ended in the period, their average length in days): a stay runs from
    the event that brought the lead into the stage to the stage move that took it out.

    One look-up of the lead's previous entering event per move (ix_events_lead_created): the stays
    are a subquery PostgreSQL may not flatten (OFFSET 0), counted with count(days) and HAVING, where
    a "days IS NOT NULL" filter pushed into it ran every look-up twice. A window instead (lag over
    the lead's entering events) was measured no cheaper: half of a month's moves still need the
    look-up (their stay began before the period), on top of the window's pass over every entering
    event of the period (December 2026 at a million leads: ~30 ms this way, more joined to the
    conversion's pass)."""
    before = aliased(Event)
    entered_at = (
        sa.select(sa.func.max(before.created_at))
        .where(
            before.lead_id == Event.lead_id,
            before.kind.in_(("created", "stage_moved")),
            before.created_at <= Event.created_at,
            before.id < Event.id,
        )
        .scalar_subquery()
    )
    left = Event.payload["from_stage"].as_string()
    stays = (
        sa.select(left.label("stage"), _days_between(session, Event.created_at, entered_at).label("days"))
        .where(*_events_in(f.begin, f.end, f.owner_id, "stage_moved"))
        .offset(0)  # kept a subquery of its own (not flattened into the aggregates' three references)
        .subquery()
    )
    days = sa.func.count(stays.c.days)
    rows = session.execute(
        sa.select(stays.c.stage, days, sa.func.avg(stays.c.days)).group_by(stays.c.stage).having(days > 0)
    ).all()
    return [(stage, int(n), float(avg or 0)) for stage, n, avg in rows]


def closed_rows(session: Session, f: Filters) -> dict:
    """Wins (count and value per currency) and losses (per reason) whose event falls in the period."""
    won = session.execute(
        sa.select(Lead.currency, sa.func.count(Event.id), sa.func.sum(Lead.value_cents))
        .select_from(Event)
        .join(Lead, Lead.id == Event.lead_id)
        .where(*_events_in(f.begin, f.end, f.owner_id, "won"))
        .group_by(Lead.currency)
    ).all()
    reason = Event.payload["reason"].as_string()
    lost = session.execute(
        sa.select(reason, sa.func.count(Event.id))
        .where(*_events_in(f.begin, f.end, f.owner_id, "lost"))
        .group_by(reason)
    ).all()
    return {
        "won": [(cur, int(n), int(v or 0)) for cur, n, v in won],
        "lost": [(r or "other", int(n)) for r, n in lost],
    }


# Period figures at volume: kept per process for DASHBOARD_REFRESH_SECONDS, per database and filters
# (period bounds and owner: the same for every staff user asking). Never older than the asker's own
# last write (`fresh_after`, from their session): what they just did shows at once.
_PERIODS: dict[tuple, tuple[float, datetime, dict]] = {}
_PERIODS_LOCK = threading.Lock()
PERIOD_CACHE_MAX = 256


def _period_rows(session: Session, f: Filters, at_volume: bool, fresh_after: float | None):
    """(closed, conversion, cycle rows, when computed if kept for a while, else None)."""

    def live() -> dict:
        return {
            "closed": closed_rows(session, f),
            "conversion": conversion_rows(session, f),
            "cycle": cycle_rows(session, f),
        }

    if not at_volume:
        return live(), None
    key = (str(session.get_bind().url), f.begin, f.end, f.owner_id)
    now = time.time()
    kept = _PERIODS.get(key)
    if (
        kept is not None
        and now - kept[0] <= setting("DASHBOARD_REFRESH_SECONDS")
        and kept[0] > (fresh_after or 0)
    ):
        return kept[2], kept[1]
    computed_at = utcnow()  # before the reads: all committed by then is in them (what the label says)
    rows = live()
    with _PERIODS_LOCK:  # threads of one process share the dict: evict and store as one step
        newer = _PERIODS.get(key)
        if newer is None or newer[0] < now:  # a slower, older computation never replaces a newer one
            while key not in _PERIODS and len(_PERIODS) >= PERIOD_CACHE_MAX:
                _PERIODS.pop(min(_PERIODS, key=lambda k: _PERIODS[k][0]))
            _PERIODS[key] = (now, computed_at, rows)
    return rows, computed_at


# --- The page ------------------------------------------------------------------------------------


_OWNERS = sa.select(User.id, User.name).where(User.role.in_(("admin", "growth_ops")))  # id -> name


def dashboard(session: Session, filters: Filters | None = None, fresh_after: float | None = None) -> dict:
    """Everything the dashboard shows. `fresh_after`: when the asking user last wrote (epoch
    seconds); period figures kept from before then are computed again."""
    f = filters or Filters.default()
    now = today()
    figures, as_of = _aggregates_for_page(session)
    period, period_as_of = _period_rows(session, f, as_of is not None, fresh_after)
    rates = money.load_rates(session)
    owners = dict(session.execute(_OWNERS).all())
    awaiting_list = (
        session.execute(
            sa.select(Proposal)
            .where(Proposal.status == "sent")
            .options(joinedload(Proposal.lead))
            .order_by(Proposal.sent_at)
            .limit(LIST_LIMIT)
        )
        .scalars()
        .all()
    )
    overdue = (
        session.execute(
            _overdue_query(now)
            .options(joinedload(Task.lead), joinedload(Task.owner))
            .order_by(Task.due, Task.id)
            .limit(LIST_LIMIT)
        )
        .scalars()
        .all()
    )
    reactivations = (
        session.execute(
            _reactivation_query(now)
            .options(joinedload(Lead.owner))
            .order_by(Lead.reactivation_date, Lead.id)
            .limit(LIST_LIMIT)
        )
        .scalars()
        .all()
    )
    overdue_reports = overdue_count(session)  # live: the cadence falling behind is news now, not in 5 min

    return {
        "filters": f,
        "owners": owners,
        "PERIODS": PERIODS,
        **_pipeline_of(session, figures, as_of, f.owner_id, owners, rates),
        **_closed(period["closed"], rates),
        "conversion": _conversion(period["conversion"]),
        "cycle": _cycle(period["cycle"]),
        "period_as_of": period_as_of,
        "sources": _sources(figures["source_rows"], f.owner_id),
        "awaiting_view": figures["awaiting_view"],
        "awaiting_decision": figures["awaiting_decision"],
        "awaiting_list": awaiting_list,
        "overdue_count": figures["overdue_count"],
        "overdue": overdue,
        "reactivation_count": figures["reactivation_count"],
        "reactivations": reactivations,
        "overdue_reports": overdue_reports,
        "reactivation_window": REACTIVATION_WINDOW_DAYS,
        "figures_as_of": as_of,
        "figures_every_minutes": max(1, setting("DASHBOARD_REFRESH_SECONDS") // 60),
    }


_PIPELINES: dict[tuple, dict] = {}
PIPELINES_KEPT = 64


def _pipeline_of(session: Session, figures: dict, as_of, owner_id: int | None, owners: dict, rates) -> dict:
    """`_pipeline` of a snapshot's rows, kept per process while the snapshot, the owner filter, the
    owners' names and the rates it was made of stay the same (the key holds all of them); live
    figures (below the volume limit: `as_of` None) are summed on every request."""
    if as_of is None:
        return _pipeline(figures["open_rows"], owner_id, owners, rates)
    key = (
        str(session.get_bind().url),
        as_of,
        owner_id,
        tuple(sorted(owners.items())),
        rates.base,
        tuple(sorted(rates.rate.items())),
        tuple(sorted(rates.set_at.items())),
    )
    kept = _PIPELINES.get(key)
    if kept is None:
        kept = _pipeline(figures["open_rows"], owner_id, owners, rates)
        if len(_PIPELINES) >= PIPELINES_KEPT:
            _PIPELINES.clear()
        _PIPELINES[key] = kept
    return kept


def _pipeline(rows, owner_id: int | None, owners: dict, rates: money.Rates) -> dict:
    stages = {stage: {"count": 0, "value": {}, "weighted": {}} for stage in OPEN_STAGES}
    by_owner: dict[int | None, dict] = {}
    overdue_actions = 0
    for stage, oid, currency, count, value, weighted, overdue in rows:
        if owner_id is not None and oid != owner_id:
            continue
        entry = stages[stage]
        entry["count"] += count
        if currency and value:
            entry["value"][currency] = entry["value"].get(currency, 0) + int(value)
            # value_cents × probability % -> weighted cents
            entry["weighted"][currency] = entry["weighted"].get(currency, 0) + round(float(weighted) / 100)
        person = by_owner.setdefault(
            oid,
            {
                "name": owners.get(oid) or ("Unowned" if oid is None else "Former owner"),
                "count": 0,
                "value": {},
            },
        )
        person["count"] += count
        if currency and value:
            person["value"][currency] = person["value"].get(currency, 0) + int(value)
        overdue_actions += int(overdue or 0)
    value = money.merge_totals(*(s["value"] for s in stages.values()))
    weighted = money.merge_totals(*(s["weighted"] for s in stages.values()))
    table = [
        {
            "stage": s,
            "label": STAGE_LABELS[s],
            "count": e["count"],
            "value": money.format_totals(e["value"]),
            "weighted": money.format_totals(e["weighted"]),
        }
        for s, e in stages.items()
    ]
    forecast = money.summarise(weighted, rates)
    return {
        "open_total": sum(e["count"] for e in stages.values()),
        "pipeline_value": money.summarise(value, rates),
        "forecast": forecast,
        "forecast_total": forecast.text,
        "overdue_actions": overdue_actions,
        "pipeline_table": table,
        "stage_bars": [Bar(STAGE_LABELS[s], e["count"], str(e["count"])) for s, e in stages.items()],
        "forecast_bars": _currency_bars({STAGE_LABELS[s]: e["weighted"] for s, e in stages.items()}),
        "owner_bars": [
            Bar(p["name"], p["count"], f"{p['count']} · {money.format_totals(p['value'], 'no value')}")
            for p in sorted(by_owner.values(), key=lambda p: (-p["count"], p["name"]))
        ],
    }


def _currency_bars(per_label: dict[str, dict[str, int]]) -> dict[str, list[Bar]]:
    """One chart per currency (bars of different currencies never share a scale)."""
    currencies = sorted({cur for totals in per_label.values() for cur in totals})
    return {
        cur: [
            Bar(label, totals.get(cur, 0), money.format_money(totals.get(cur, 0), cur), alt=True)
            for label, totals in per_label.items()
        ]
        for cur in currencies
    }


def _closed(rows: dict, rates: money.Rates) -> dict:
    won = sum(n for _, n, _ in rows["won"])
    revenue = money.totals((cur, v) for cur, _, v in rows["won"] if cur)
    reasons = sorted(rows["lost"], key=lambda rc: (-rc[1], rc[0]))
    lost = sum(n for _, n in reasons)
    counted_lost = sum(n for r, n in reasons if r != "duplicate")
    closed = won + counted_lost
    return {
        "won": won,
        "lost": lost,
        "lost_counted": counted_lost,
        "win_rate": round(100 * won / closed) if closed else None,
        "won_revenue": money.summarise(revenue, rates),
        "won_without_value": sum(n for cur, n, v in rows["won"] if not cur or not v),
        "lost_bars": [
            Bar(LOST_REASON_LABELS.get(r, r.replace("_", " ").capitalize()), n, str(n), alt=True)
            for r, n in reasons
        ],
    }


def _conversion(rows) -> list[dict]:
    seen = {stage: (n, on) for stage, n, on in rows}
    out = []
    for stage, following in zip(PATH[:-1], PATH[1:]):
        n, on = seen.get(stage, (0, 0))
        rate = round(100 * on / n) if n else None
        out.append(
            {
                "stage": stage,
                "label": STAGE_LABELS[stage],
                "next_label": STAGE_LABELS[following],
                "entered": n,
                "moved_on": on,
                "rate": rate,
                "bar": Bar(
                    f"{STAGE_LABELS[stage]} → {STAGE_LABELS[following]}",
                    rate or 0,
                    f"{rate}% of {n}" if n else "none entered",
                ),
            }
        )
    return out


def _cycle(rows) -> list[dict]:
    seen = {stage: (n, days) for stage, n, days in rows}
    out = []
    for stage in PATH[:-1]:
        n, days = seen.get(stage, (0, 0.0))
        out.append(
            {
                "stage": stage,
                "label": STAGE_LABELS[stage],
                "stays": n,
                "days": round(days, 1) if n else None,
                "bar": Bar(
                    STAGE_LABELS[stage], round(days, 1) if n else 0, f"{days:.1f} days ({n})" if n else "—"
                ),
            }
        )
    return out


def _sources(rows, owner_id: int | None) -> list[dict]:
    seen: dict[str, list[int]] = {}
    for source, oid, total, won, lost in rows:
        if owner_id is not None and oid != owner_id:
            continue
        entry = seen.setdefault(source, [0, 0, 0])
        entry[0] += int(total)
        entry[1] += int(won or 0)
        entry[2] += int(lost or 0)
    out = []
    for source in SOURCES:
        total, won, lost = seen.get(source, (0, 0, 0))
        closed = won + lost
        out.append(
            {
                "source": source,
                "total": total,
                "won": won,
                "lost": lost,
                "win_rate": round(100 * won / closed) if closed else None,
                "bar": Bar(
                    source.capitalize(),
                    round(100 * won / closed) if closed else 0,
                    f"{round(100 * won / closed)}% of {closed} closed" if closed else "none closed",
                ),
            }
        )
    return out
