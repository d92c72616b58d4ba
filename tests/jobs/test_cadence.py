"""Report cadence (zarts.domain.cadence): one draft report per client and period, with its owner's task."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from zarts.domain import DomainError
from zarts.domain.cadence import period_for, prepare_reports, send_report_notice
from zarts.extensions import db
from zarts.jobs.runner import run_sweep
from zarts.models import Project, Report, Task, today


def test_periods_are_iso_weeks_and_calendar_months():
    assert period_for("weekly", date(2026, 3, 5)) == (date(2026, 3, 2), date(2026, 3, 8))
    assert period_for("monthly", date(2026, 2, 14)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert period_for("monthly", date(2024, 2, 29)) == (date(2024, 2, 1), date(2024, 2, 29))


def test_each_reporting_client_gets_one_draft_report_per_period_with_a_task_for_its_owner(app, make):
    owner = make.user("delivery")
    weekly = make.client(status="active", report_cadence="weekly", owner_id=owner.id)
    monthly = make.client(status="onboarding", report_cadence="monthly", owner_id=owner.id)
    make.client(status="prospect", owner_id=owner.id)
    make.client(status="churned", owner_id=owner.id)
    db.session.commit()
    assert prepare_reports(db.session, today()) == 2
    assert prepare_reports(db.session, today()) == 0
    db.session.commit()
    reports = db.session.scalars(sa.select(Report).order_by(Report.client_id)).all()
    assert [(r.client_id, r.cadence, r.status, r.kind) for r in reports] == [
        (weekly.id, "weekly", "draft", "client_report"),
        (monthly.id, "monthly", "draft", "client_report"),
    ]
    for r in reports:
        assert r.key == f"report:{r.client_id}:{r.period_start}" and r.owner_id == owner.id
        task = db.session.scalars(sa.select(Task).where(Task.key == f"{r.key}:prepare")).one()
        assert task.kind == "report" and task.owner_id == owner.id and not task.client_visible
    assert prepare_reports(db.session, today() + timedelta(days=7)) >= 1  # the next week's report


def test_reporting_starts_with_the_period_of_the_first_kickoff(app, make, deals):
    deal = deals.won()  # kickoff in a week: the handoff made the report of that period
    lead_client = db.session.scalar(sa.select(Project.client_id).where(Project.lead_id == deal.lead_id))
    kickoff = db.session.scalar(sa.select(Project.kickoff_date).where(Project.lead_id == deal.lead_id))
    run_sweep("cadence")
    starts = db.session.scalars(
        sa.select(Report.period_start).where(Report.client_id == lead_client, Report.kind == "client_report")
    ).all()
    first_start, _ = period_for("monthly", kickoff)
    assert first_start in starts
    assert all(s >= first_start for s in starts)


def test_only_a_published_client_report_is_announced(app, make):
    client = make.client(status="active")
    report = Report(kind="client_report", title="March", client_id=client.id, status="draft")
    db.session.add(report)
    db.session.flush()
    with pytest.raises(DomainError):
        send_report_notice(db.session, report)
