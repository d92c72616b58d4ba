"""The weekly pipeline report for staff: this week against the previous one.

Flows (new leads, qualified, proposals sent, wins, losses and their reasons, handoffs completed) are
counted from the append-only events table, so a past week never changes. Point-in-time figures
(approvals pending, overdue follow-ups) are taken at the end of the week — or now, for a week still
running — from approvals and tasks, using their decision and completion timestamps.

Weeks run Monday 00:00 to Monday 00:00, UTC (the timestamps the app stores).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Approval, Event, Report, Task, utcnow
from .errors import Invalid

# Figure name -> event kind it counts (one event, one unit).
EVENT_FIGURES = {
    "new_leads": "created",
    "qualified": "qualified",
    "proposals_sent": "proposal_sent",
    "wins": "won",
    "losses": "lost",
    "handoffs_completed": "handoff_done",
}
FIGURE_LABELS = {
    "new_leads": "New leads",
    "qualified": "Qualified",
    "proposals_sent": "Proposals sent",
    "approvals_pending": "Approvals pending (end of week)",
    "wins": "Wins",
    "losses": "Losses",
    "handoffs_completed": "Handoffs completed",
    "overdue_follow_ups": "Overdue follow-ups (end of week)",
}


def week_start_of(day: date | datetime | str) -> date:
    """The Monday of the week holding `day` (a date, a datetime or an ISO date string)."""
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day[:10])
        except ValueError:
            raise Invalid("A week starts on a date like 2024-06-03.", "week_start") from None
    if isinstance(day, datetime):
        day = day.date()
    return day - timedelta(days=day.weekday())


def report_key(week_start: date) -> str:
    return f"weekly:{week_start.isoformat()}"


def _window(start: date) -> tuple[datetime, datetime]:
    begin = datetime.combine(start, time.min)
    return begin, begin + timedelta(days=7)


def _event_counts(session: Session, begin: datetime, end: datetime) -> dict[str, int]:
    rows = session.execute(
        sa.select(Event.kind, sa.func.count(Event.id))
        .where(Event.kind.in_(EVENT_FIGURES.values()), Event.created_at >= begin, Event.created_at < end)
        .group_by(Event.kind)
    ).all()
    by_kind = dict(rows)
    return {name: int(by_kind.get(kind, 0)) for name, kind in EVENT_FIGURES.items()}


def _loss_reasons(session: Session, begin: datetime, end: datetime) -> dict[str, int]:
    reason = Event.payload["reason"].as_string()
    rows = session.execute(
        sa.select(reason, sa.func.count(Event.id))
        .where(Event.kind == "lost", Event.created_at >= begin, Event.created_at < end)
        .group_by(reason)
    ).all()
    return {(r or "unknown"): int(n) for r, n in sorted(rows, key=lambda x: (x[0] or "unknown"))}


def _approvals_pending(session: Session, at: datetime) -> int:
    """Requested before `at` and neither decided nor superseded by then."""
    return int(
        session.scalar(
            sa.select(sa.func.count(Approval.id)).where(
                Approval.requested_at < at,
                sa.or_(Approval.decided_at.is_(None), Approval.decided_at >= at),
                sa.or_(Approval.state != "superseded", Approval.updated_at >= at),
            )
        )
    )


def _overdue_follow_ups(session: Session, at: datetime) -> int:
    """Follow-up tasks that existed at `at`, were due before that day and were not done by then."""
    return int(
        session.scalar(
            sa.select(sa.func.count(Task.id)).where(
                Task.kind == "follow_up",
                Task.created_at < at,
                Task.due < at.date(),
                sa.or_(Task.done_at.is_(None), Task.done_at >= at),
            )
        )
    )


def week_figures(session: Session, start: date, now: datetime | None = None) -> dict:
    """The figures of the week starting `start` (a Monday) as JSON values."""
    begin, end = _window(start)
    at = min(end, now or utcnow())
    figures = _event_counts(session, begin, end)
    figures["loss_reasons"] = _loss_reasons(session, begin, end)
    figures["approvals_pending"] = _approvals_pending(session, at)
    figures["overdue_follow_ups"] = _overdue_follow_ups(session, at)
    figures.update(
        week_start=start.isoformat(),
        week_end=(start + timedelta(days=6)).isoformat(),
        as_of=at.replace(microsecond=0).isoformat(),
        complete=at >= end,
    )
    return figures


def weekly_figures(session: Session, week_start: date | str, now: datetime | None = None) -> dict:
    """This week and the previous one, without storing anything (the live preview uses it)."""
    start = week_start_of(week_start)
    return {
        "week_start": start.isoformat(),
        "this_week": week_figures(session, start, now),
        "previous_week": week_figures(session, start - timedelta(days=7), now),
    }


def build_weekly_report(session: Session, week_start: date | str, *, now: datetime | None = None) -> Report:
    """Ensure the pipeline report of the week holding `week_start`: Report(kind='pipeline_weekly',
    key='weekly:<monday>'), its figures this week vs the previous week.

    Idempotent: a second call finds the report by its key and refreshes its figures (equal for a
    finished week). `week_start` may be any day of the week, as a date or an ISO string (job-friendly);
    it is normalised to that week's Monday. Flushes, never commits. A concurrent first build of the same
    week fails on the unique key (IntegrityError, a Conflict inside `domain.unit`); running it again
    finds the row.
    """
    start = week_start_of(week_start)
    figures = weekly_figures(session, start, now)
    key = report_key(start)
    report = session.execute(sa.select(Report).where(Report.key == key)).scalar_one_or_none()
    if report is None:
        report = Report(
            kind="pipeline_weekly",
            key=key,
            cadence="weekly",
            status="draft",
            title=f"Pipeline week of {start:%d %b %Y}",
            period_start=start,
            period_end=start + timedelta(days=6),
            figures=figures,
        )
        session.add(report)
    elif _comparable(report.figures) != _comparable(figures):
        report.figures = figures
    session.flush()
    return report


def _comparable(figures: dict | None) -> dict:
    """Figures without their as-of stamps (which move on every call for a running week)."""
    out = {}
    for name, value in (figures or {}).items():
        out[name] = {k: v for k, v in value.items() if k != "as_of"} if isinstance(value, dict) else value
    return out
