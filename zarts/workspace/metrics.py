"""The dashboard's read: aggregate SQL (GROUP BY), a fixed number of statements at any volume.

The aggregates read whole tables (every open lead, every proposal): milliseconds at a few thousand
leads, seconds at a million. So above DASHBOARD_LIVE_MAX_LEADS (PostgreSQL's row estimate of
`leads`) the page shows them from a snapshot (MetricSnapshot "dashboard") that the scheduler's
"dashboard" sweep recomputes every DASHBOARD_REFRESH_SECONDS; a missing snapshot, or one older than
DASHBOARD_MAX_AGE_SECONDS, is recomputed by the request itself. The lists (oldest proposals waiting,
overdue follow-ups, reactivations due) are always live: each is an index range read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, joinedload

from ..models import Lead, MetricSnapshot, Proposal, Task, User, today, utcnow
from ..models.vocab import OPEN_STAGES, SOURCES
from .report_queries import overdue_count

LIST_LIMIT = 10
REACTIVATION_WINDOW_DAYS = 14
SNAPSHOT = "dashboard"
DEFAULTS = {
    "DASHBOARD_LIVE_MAX_LEADS": 50_000,    # up to this many leads the aggregates are computed per view
    "DASHBOARD_REFRESH_SECONDS": 300,      # the scheduler's refresh of the snapshot
    "DASHBOARD_MAX_AGE_SECONDS": 3600,     # an older snapshot (no scheduler running) is recomputed
}


@dataclass
class Bar:
    label: str
    value: float
    text: str
    alt: bool = False


def _latest_proposals():
    """Each lead's latest proposal version (by number)."""
    latest = (sa.select(Proposal.lead_id, sa.func.max(Proposal.number).label("number"))
              .group_by(Proposal.lead_id).subquery())
    return (sa.select(Proposal.lead_id, Proposal.price_cents)
            .join(latest, sa.and_(latest.c.lead_id == Proposal.lead_id, latest.c.number == Proposal.number))
            .subquery())


def setting(name: str) -> int:
    return int(current_app.config.get(name, DEFAULTS[name]))


def aggregates(session: Session) -> dict:
    """The whole-table figures, as JSON-able rows (what a snapshot stores)."""
    now = today()
    latest = _latest_proposals()
    # 1. Open pipeline by stage and owner, with the probability-weighted forecast and overdue actions.
    open_rows = session.execute(
        sa.select(Lead.stage, Lead.owner_id, User.name, sa.func.count(Lead.id),
                  sa.func.coalesce(sa.func.sum(latest.c.price_cents * sa.func.coalesce(Lead.probability, 0)), 0),
                  sa.func.sum(sa.case((Lead.next_action_due < now, 1), else_=0)))
        .select_from(Lead).outerjoin(latest, latest.c.lead_id == Lead.id)
        .outerjoin(User, User.id == Lead.owner_id)
        .where(Lead.stage.in_(OPEN_STAGES)).group_by(Lead.stage, Lead.owner_id, User.name)
    ).all()
    # 2. Wins and losses with lost reasons.
    closed_rows = session.execute(
        sa.select(Lead.stage, Lead.lost_reason, sa.func.count(Lead.id))
        .where(Lead.stage.in_(("won", "lost"))).group_by(Lead.stage, Lead.lost_reason)
    ).all()
    # 3. Conversion by source.
    source_rows = session.execute(
        sa.select(Lead.source, sa.func.count(Lead.id),
                  sa.func.sum(sa.case((Lead.stage == "won", 1), else_=0)),
                  sa.func.sum(sa.case((Lead.stage == "lost", 1), else_=0)))
        .group_by(Lead.source)
    ).all()
    # 4. Sent proposals awaiting a view or a decision.
    not_viewed, viewed = session.execute(
        sa.select(sa.func.sum(sa.case((Proposal.viewed_at.is_(None), 1), else_=0)),
                  sa.func.sum(sa.case((Proposal.viewed_at.is_not(None), 1), else_=0)))
        .where(Proposal.status == "sent")
    ).one()
    # 5. and 6. How many overdue follow-ups and reactivations due there are (the lists are live).
    overdue_count = session.execute(sa.select(sa.func.count()).select_from(_overdue_query(now).subquery())).scalar()
    reactivation_count = session.execute(
        sa.select(sa.func.count()).select_from(_reactivation_query(now).subquery())).scalar()
    return {
        "open_rows": [[r[0], r[1], r[2], int(r[3]), float(r[4] or 0), int(r[5] or 0)] for r in open_rows],
        "closed_rows": [[r[0], r[1], int(r[2])] for r in closed_rows],
        "source_rows": [[r[0], int(r[1]), int(r[2] or 0), int(r[3] or 0)] for r in source_rows],
        "awaiting_view": int(not_viewed or 0), "awaiting_decision": int(viewed or 0),
        "overdue_count": int(overdue_count or 0), "reactivation_count": int(reactivation_count or 0),
    }


def _overdue_query(now):
    return sa.select(Task).where(Task.kind == "follow_up", Task.done_at.is_(None), Task.due < now)


def _reactivation_query(now):
    horizon = now + timedelta(days=REACTIVATION_WINDOW_DAYS)
    return sa.select(Lead).where(Lead.stage == "lost", Lead.reactivation_date.is_not(None),
                                 Lead.reactivation_date <= horizon)


def estimated_leads(session: Session) -> int | None:
    """PostgreSQL's own estimate of the leads table's rows (kept by ANALYZE/autovacuum; free to read).
    None elsewhere, or before the table was ever analysed."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    estimate = session.execute(sa.text("SELECT reltuples FROM pg_class WHERE oid = 'leads'::regclass")).scalar()
    return int(estimate) if estimate is not None and estimate >= 0 else None


def refresh_snapshot(session: Session) -> MetricSnapshot:
    """Recompute the dashboard's aggregates and store them (the scheduler's "dashboard" sweep)."""
    started = time.perf_counter()
    figures = aggregates(session)
    seconds = round(time.perf_counter() - started, 3)
    row = session.execute(sa.select(MetricSnapshot).where(MetricSnapshot.name == SNAPSHOT)).scalar_one_or_none()
    if row is None:
        row = MetricSnapshot(name=SNAPSHOT)
        session.add(row)
    row.figures, row.computed_at, row.seconds = figures, utcnow(), seconds
    session.flush()
    return row


def _aggregates_for_page(session: Session) -> tuple[dict, datetime | None]:
    """Live below the volume limit; above it the snapshot (recomputed here if missing or too old)."""
    estimate = estimated_leads(session)
    if estimate is None or estimate <= setting("DASHBOARD_LIVE_MAX_LEADS"):
        return aggregates(session), None
    row = session.execute(sa.select(MetricSnapshot).where(MetricSnapshot.name == SNAPSHOT)).scalar_one_or_none()
    if row is not None and (utcnow() - row.computed_at).total_seconds() <= setting("DASHBOARD_MAX_AGE_SECONDS"):
        return row.figures, row.computed_at
    from ..jobs.runner import new_session

    fresh = new_session()  # its own transaction: the page's session only reads
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


def dashboard(session: Session) -> dict:
    now = today()
    figures, as_of = _aggregates_for_page(session)
    awaiting_list = session.execute(
        sa.select(Proposal).where(Proposal.status == "sent").options(joinedload(Proposal.lead))
        .order_by(Proposal.sent_at).limit(LIST_LIMIT)
    ).scalars().all()
    overdue = session.execute(
        _overdue_query(now).options(joinedload(Task.lead), joinedload(Task.owner)).order_by(Task.due, Task.id)
        .limit(LIST_LIMIT)
    ).scalars().all()
    reactivations = session.execute(
        _reactivation_query(now).options(joinedload(Lead.owner)).order_by(Lead.reactivation_date, Lead.id)
        .limit(LIST_LIMIT)
    ).scalars().all()
    overdue_reports = overdue_count(session)  # live: the cadence falling behind is news now, not in 5 min

    return {
        **_pipeline(figures["open_rows"]), **_closed(figures["closed_rows"]),
        "sources": _sources(figures["source_rows"]),
        "awaiting_view": figures["awaiting_view"], "awaiting_decision": figures["awaiting_decision"],
        "awaiting_list": awaiting_list, "overdue_count": figures["overdue_count"], "overdue": overdue,
        "reactivation_count": figures["reactivation_count"], "reactivations": reactivations,
        "overdue_reports": overdue_reports,
        "reactivation_window": REACTIVATION_WINDOW_DAYS, "figures_as_of": as_of,
        "figures_every_minutes": max(1, setting("DASHBOARD_REFRESH_SECONDS") // 60),
    }


def _money(cents: float) -> str:
    return f"EUR {cents / 100:,.0f}"


def _pipeline(rows) -> dict:
    by_stage = {stage: [0, 0] for stage in OPEN_STAGES}
    by_owner: dict[int | None, list] = {}  # owner id -> [name, count, weighted value]
    overdue_actions = 0
    for stage, owner_id, owner_name, count, weighted, overdue in rows:
        # price_cents * probability% -> weighted cents
        value = float(weighted or 0) / 100
        by_stage[stage][0] += count
        by_stage[stage][1] += value
        entry = by_owner.setdefault(owner_id, [owner_name or "Unowned", 0, 0])
        entry[1] += count
        entry[2] += value
        overdue_actions += int(overdue or 0)
    from ..models.vocab import STAGE_LABELS

    return {
        "open_total": sum(c for c, _ in by_stage.values()),
        "forecast_total": _money(sum(v for _, v in by_stage.values())),
        "overdue_actions": overdue_actions,
        "stage_bars": [Bar(STAGE_LABELS[s], c, str(c)) for s, (c, _) in by_stage.items()],
        "forecast_bars": [Bar(STAGE_LABELS[s], v, _money(v), alt=True) for s, (_, v) in by_stage.items()],
        "owner_bars": [Bar(name, c, f"{c} · {_money(v)}") for name, c, v in
                       sorted(by_owner.values(), key=lambda row: (-row[1], row[0]))],
    }


def _closed(rows) -> dict:
    won = sum(c for stage, _, c in rows if stage == "won")
    reasons = sorted(((reason or "unknown", c) for stage, reason, c in rows if stage == "lost"),
                     key=lambda rc: -rc[1])
    return {"won": won, "lost": sum(c for _, c in reasons),
            "lost_bars": [Bar(reason.replace("_", " ").capitalize(), c, str(c), alt=True) for reason, c in reasons]}


def _sources(rows) -> list[dict]:
    out = []
    seen = {source: (int(total), int(won or 0), int(lost or 0)) for source, total, won, lost in rows}
    for source in SOURCES:
        total, won, lost = seen.get(source, (0, 0, 0))
        closed = won + lost
        out.append({"source": source, "total": total, "won": won, "lost": lost,
                    "win_rate": round(100 * won / closed) if closed else None,
                    "bar": Bar(source.capitalize(), round(100 * won / closed) if closed else 0,
                               f"{round(100 * won / closed)}% of {closed} closed" if closed else "none closed")})
    return out
