"""The dashboard's read: aggregate SQL (GROUP BY), a fixed number of statements at any volume."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from ..models import Lead, Proposal, Task, User, today
from ..models.vocab import OPEN_STAGES, SOURCES

LIST_LIMIT = 10
REACTIVATION_WINDOW_DAYS = 14


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


def dashboard(session: Session) -> dict:
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
    awaiting_list = session.execute(
        sa.select(Proposal).where(Proposal.status == "sent").options(joinedload(Proposal.lead))
        .order_by(Proposal.sent_at).limit(LIST_LIMIT)
    ).scalars().all()
    # 5. Overdue follow-ups.
    overdue_q = sa.select(Task).where(Task.kind == "follow_up", Task.done_at.is_(None), Task.due < now)
    overdue_count = session.execute(sa.select(sa.func.count()).select_from(overdue_q.subquery())).scalar()
    overdue = session.execute(
        overdue_q.options(joinedload(Task.lead), joinedload(Task.owner)).order_by(Task.due, Task.id)
        .limit(LIST_LIMIT)
    ).scalars().all()
    # 6. Reactivations due (lost leads whose win-back date has come or comes within the window).
    horizon = now + timedelta(days=REACTIVATION_WINDOW_DAYS)
    reactivation_q = sa.select(Lead).where(Lead.stage == "lost", Lead.reactivation_date.is_not(None),
                                           Lead.reactivation_date <= horizon)
    reactivation_count = session.execute(
        sa.select(sa.func.count()).select_from(reactivation_q.subquery())).scalar()
    reactivations = session.execute(
        reactivation_q.options(joinedload(Lead.owner)).order_by(Lead.reactivation_date, Lead.id).limit(LIST_LIMIT)
    ).scalars().all()

    return {
        **_pipeline(open_rows), **_closed(closed_rows), "sources": _sources(source_rows),
        "awaiting_view": int(not_viewed or 0), "awaiting_decision": int(viewed or 0),
        "awaiting_list": awaiting_list, "overdue_count": overdue_count, "overdue": overdue,
        "reactivation_count": reactivation_count, "reactivations": reactivations,
        "reactivation_window": REACTIVATION_WINDOW_DAYS,
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
