"""The weekly pipeline report: its figures equal counts taken independently with plain SQL over the
events table (and over approvals and tasks for the end-of-week figures), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from zarts.domain import approvals, pipeline, proposals
from zarts.domain.trail import record_event
from zarts.domain.weekly import EVENT_FIGURES, build_weekly_report, week_start_of
from zarts.extensions import db
from zarts.models import Event, Report, Task, today, utcnow

MICRO = timedelta(microseconds=1)


def seed_weeks(make, journey):
    """Activity this week through the domain, and back-dated events around the week boundaries."""
    s = db.session
    start = week_start_of(today())
    this_begin = datetime.combine(start, time.min)
    prev_begin = this_begin - timedelta(days=7)
    owner = make.user("growth_ops")
    approver = make.user("approver")
    journey.approver = approver
    won = make.lead(owner=owner)
    record_event(s, won, "created", owner)
    journey.to(won, "won")
    lost = make.lead(owner=owner)
    record_event(s, lost, "created", owner)
    journey.to(lost, "qualified")
    pipeline.mark_lost(s, lost, owner, lost.version, lost_reason="timing", reactivation_never=True)
    waiting = make.lead(owner=owner)
    journey.to(waiting, "proposal")
    pending = proposals.request_approvals(s, journey.draft(waiting), owner)

    def event(lead, kind, at, **payload):
        s.add(Event(lead_id=lead.id, kind=kind, stage=lead.stage, payload=payload, created_at=at))

    event(won, "created", prev_begin)  # the first instant of last week
    event(won, "qualified", this_begin - MICRO)  # the last instant of last week
    event(won, "proposal_sent", this_begin)  # the first instant of this week
    event(won, "won", prev_begin - MICRO)  # two weeks ago: in neither week
    event(won, "handoff_done", prev_begin + timedelta(days=5))
    for days, reason in ((1, "competitor"), (2, "price"), (3, "price")):
        event(lost, "lost", prev_begin + timedelta(days=days), reason=reason)
    event(lost, "lost", prev_begin + timedelta(days=4))  # no reason recorded
    # Approvals: two requested last week — one still pending, one decided this week.
    pending[0].requested_at = prev_begin + timedelta(days=1)
    pending[1].requested_at = prev_begin + timedelta(days=2)
    s.flush()
    approvals.decide(s, pending[1], approver, pending[1].version, approve=True)
    # Follow-ups: overdue since last week; overdue last week but done at the boundary; not yet due.
    for due, done_at in (
        (start - timedelta(days=5), None),
        (start - timedelta(days=4), this_begin),
        (today() + timedelta(days=30), None),
    ):
        s.add(
            Task(
                kind="follow_up",
                title="Follow up",
                owner_id=owner.id,
                due=due,
                done_at=done_at,
                created_at=prev_begin,
                lead_id=waiting.id,
            )
        )
    s.commit()
    return start


def independent_counts(start, now) -> dict:
    """The same figures, taken with plain SQL over the tables."""
    conn = db.session.connection()
    sqlite = conn.dialect.name == "sqlite"
    reason = "json_extract(payload, '$.reason')" if sqlite else "payload->>'reason'"

    def p(value):  # SQLite compares stored text: bind in the stored format
        if not sqlite:
            return value
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value.isoformat()

    out = {}
    for name, week in (("this_week", start), ("previous_week", start - timedelta(days=7))):
        begin = datetime.combine(week, time.min)
        end = begin + timedelta(days=7)
        at = min(end, now)
        window = {"a": p(begin), "b": p(end)}
        flows = dict(
            conn.execute(
                sa.text(
                    "SELECT kind, COUNT(*) FROM events WHERE created_at >= :a AND created_at < :b GROUP BY kind"
                ),
                window,
            ).all()
        )
        figures = {fig: flows.get(kind, 0) for fig, kind in EVENT_FIGURES.items()}
        figures["loss_reasons"] = {
            (r or "unknown"): n
            for r, n in conn.execute(
                sa.text(
                    f"SELECT {reason} AS r, COUNT(*) FROM events WHERE kind = 'lost' AND created_at >= :a "
                    "AND created_at < :b GROUP BY r"
                ),
                window,
            ).all()
        }
        figures["approvals_pending"] = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM approvals WHERE requested_at < :at AND (decided_at IS NULL OR decided_at >= :at) "
                "AND (state <> 'superseded' OR updated_at >= :at)"
            ),
            {"at": p(at)},
        ).scalar()
        figures["overdue_follow_ups"] = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM tasks WHERE kind = 'follow_up' AND created_at < :at AND due < :day "
                "AND (done_at IS NULL OR done_at >= :at)"
            ),
            {"at": p(at), "day": p(at.date())},
        ).scalar()
        out[name] = figures
    return out


def check_report(start):
    now = utcnow()
    report = build_weekly_report(db.session, start, now=now)
    db.session.commit()
    expected = independent_counts(start, now)
    for week in ("this_week", "previous_week"):
        got = report.figures[week]
        for name, value in expected[week].items():
            assert got[name] == value, (week, name)
    prev = report.figures["previous_week"]
    assert prev["losses"] == 4 and prev["loss_reasons"] == {"competitor": 1, "price": 2, "unknown": 1}
    assert (prev["new_leads"], prev["qualified"], prev["wins"], prev["handoffs_completed"]) == (1, 1, 0, 1)
    assert prev["approvals_pending"] == 2 and prev["overdue_follow_ups"] == 2
    this = report.figures["this_week"]
    assert this["new_leads"] == 2 and this["wins"] == 1 and this["losses"] == 1
    assert this["loss_reasons"] == {"timing": 1} and this["proposals_sent"] == 2
    assert this["approvals_pending"] == 5 and this["overdue_follow_ups"] == 1  # 6 parts asked, 1 decided
    return report


def test_weekly_figures_match_plain_sql_over_events_on_sqlite(app, make, journey):
    check_report(seed_weeks(make, journey))


def test_weekly_figures_match_plain_sql_over_events_on_postgresql(pg_app, make, journey):
    check_report(seed_weeks(make, journey))


def test_building_twice_ensures_one_report_per_week(app, make, journey):
    start = seed_weeks(make, journey)
    first = build_weekly_report(db.session, start)
    db.session.commit()
    again = build_weekly_report(db.session, (start + timedelta(days=3)).isoformat())  # any day of the week
    db.session.commit()
    assert again.id == first.id and again.key == f"weekly:{start.isoformat()}"
    assert again.kind == "pipeline_weekly" and again.period_start == start
    assert db.session.scalar(sa.select(sa.func.count(Report.id)).where(Report.kind == "pipeline_weekly")) == 1
    last_week = build_weekly_report(db.session, start - timedelta(days=7))
    db.session.commit()
    assert (
        last_week.figures["this_week"]["losses"] == 4 and last_week.figures["this_week"]["complete"] is True
    )


def test_weekly_pages_list_and_show_reports(app, make, journey, as_user):
    start = seed_weeks(make, journey)
    report = build_weekly_report(db.session, start)
    db.session.commit()
    staff = as_user(make.user("delivery"))
    listing = staff.get("/outputs/weekly").get_data(as_text=True)
    assert f"/outputs/weekly/{report.id}" in listing and "This week so far" in listing
    html = staff.get(f"/outputs/weekly/{report.id}").get_data(as_text=True)
    assert 'data-figure="losses"' in html and 'data-figure="loss_reason:price"' in html
    packet = Report(kind="handoff_packet", title="x", key="not-weekly")
    db.session.add(packet)
    db.session.commit()
    assert staff.get(f"/outputs/weekly/{packet.id}").status_code == 404


def test_a_bad_week_start_is_refused_clearly(app):
    from zarts.domain.errors import Invalid

    with pytest.raises(Invalid):
        build_weekly_report(db.session, "last tuesday")
