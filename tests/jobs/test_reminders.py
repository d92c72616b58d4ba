"""Reminders (zarts.domain.reminders.sweep): once per due window, never for paused or unconsented leads."""

from __future__ import annotations

import itertools
import threading
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from zarts.domain import pipeline, reminders, unit
from zarts.domain.trail import ensure_task
from zarts.extensions import db
from zarts.jobs.runner import run_sweep
from zarts.models import Lead, Message, Task, today, utcnow

NOON = datetime.combine(today(), time(12, 0))


_n = itertools.count(1)


def task(make, owner, *, days_ago: int, lead=None) -> Task:
    n = next(_n)
    t = ensure_task(
        db.session,
        key=f"test:{n}:{days_ago}",
        kind="follow_up",
        title=f"Call back #{n}",
        owner_id=owner.id,
        due=today() - timedelta(days=days_ago),
        lead_id=lead.id if lead else None,
    )
    db.session.flush()
    return t


def reminder_keys() -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(sa.select(Message.key).where(Message.key.like("reminder:%"))))


def test_a_task_due_today_gets_one_due_reminder_and_an_overdue_one_gets_one_per_week(app, make):
    owner = make.user("growth_ops")
    due, late = task(make, owner, days_ago=0), task(make, owner, days_ago=3)
    db.session.commit()
    counts = reminders.sweep(db.session, NOON)
    db.session.commit()
    week = reminders.iso_week(today())
    assert reminder_keys() == sorted(
        [f"reminder:task:{due.id}:{due.due}", f"reminder:task:{late.id}:overdue:{week}"]
    )
    assert (counts["task_due"], counts["task_overdue"]) == (1, 1)
    msg = db.session.scalars(sa.select(Message).where(Message.key.like(f"reminder:task:{due.id}:%"))).one()
    assert (msg.to_email, msg.channel, msg.direction, msg.client_visible) == (
        owner.email,
        "email",
        "internal",
        False,
    )
    assert msg.subject == f"Due today: {due.title}"

    again = reminders.sweep(db.session, NOON)  # the same day again: nothing new
    db.session.commit()
    assert (again["task_due"], again["task_overdue"]) == (0, 0) and len(reminder_keys()) == 2
    reminders.sweep(db.session, NOON + timedelta(days=7))  # a week later the late task is still open
    db.session.commit()
    assert len(reminder_keys()) == 4


def test_a_reminded_task_is_next_looked_at_when_its_next_window_starts(app, make):
    owner = make.user("growth_ops")
    due, late = task(make, owner, days_ago=0), task(make, owner, days_ago=3)
    db.session.commit()
    reminders.sweep(db.session, NOON)
    db.session.commit()
    db.session.expire_all()
    monday = today() + timedelta(days=7 - today().weekday())
    # Due today: overdue from tomorrow, a new window. Overdue: once a week, so next Monday.
    assert (due.remind_on, late.remind_on) == (today() + timedelta(days=1), monday)
    tomorrow = reminders.sweep(db.session, NOON + timedelta(days=1))
    db.session.commit()
    if monday != today() + timedelta(days=1):  # (on a Sunday both windows start tomorrow)
        assert (tomorrow["task_due"], tomorrow["task_overdue"]) == (0, 1)
        assert (
            f"reminder:task:{due.id}:overdue:{reminders.iso_week(today() + timedelta(days=1))}"
            in reminder_keys()
        )


def test_a_task_moved_to_another_day_is_reminded_on_that_day(app, make):
    owner = make.user("growth_ops")
    t = task(make, owner, days_ago=0)
    db.session.commit()
    reminders.sweep(db.session, NOON)
    db.session.commit()
    later = today() + timedelta(days=2)
    t.due = later  # rescheduled after its reminder went out
    db.session.commit()
    assert t.remind_on is None
    assert reminders.sweep(db.session, NOON + timedelta(days=1))["task_due"] == 0  # not due yet
    db.session.commit()
    assert reminders.sweep(db.session, NOON + timedelta(days=2))["task_due"] == 1
    db.session.commit()
    assert f"reminder:task:{t.id}:{later}" in reminder_keys()


def test_done_tasks_and_tasks_of_paused_or_unconsented_leads_get_no_reminder(app, make):
    owner = make.user("growth_ops")
    paused = make.lead(owner=owner)
    with unit(db.session):
        pipeline.pause(db.session, paused, owner, paused.version, "timing", "Budget frozen until Q3")
    unconsented = make.lead(owner=owner, consent="unknown")
    fine = make.lead(owner=owner)
    done = task(make, owner, days_ago=1)
    done.done_at = utcnow()
    for lead in (paused, unconsented):
        task(make, owner, days_ago=0, lead=lead)
    kept = task(make, owner, days_ago=0, lead=fine)
    db.session.commit()
    reminders.sweep(db.session, NOON)
    db.session.commit()
    assert reminder_keys() == [f"reminder:task:{kept.id}:{kept.due}"]


def test_a_paused_lead_s_task_is_looked_at_daily_and_reminded_as_soon_as_the_lead_resumes(app, make):
    owner = make.user("growth_ops")
    lead = make.lead(owner=owner)
    with unit(db.session):
        pipeline.pause(db.session, lead, owner, lead.version, "timing", "Budget frozen until Q3")
    waiting = task(make, owner, days_ago=2, lead=lead)
    db.session.commit()
    assert reminders.sweep(db.session, NOON)["task_overdue"] == 0
    db.session.commit()
    db.session.refresh(waiting)
    assert waiting.remind_on == today() + timedelta(days=1)  # not read again by today's sweeps
    with unit(db.session):
        pipeline.resume(
            db.session,
            db.session.get(Lead, lead.id),
            owner,
            db.session.get(Lead, lead.id).version,
            confirmed=True,
        )
    db.session.refresh(waiting)
    assert waiting.remind_on is None
    assert reminders.sweep(db.session, NOON)["task_overdue"] == 1  # the same day, not tomorrow
    db.session.commit()


def test_consent_granted_later_makes_the_task_due_for_its_reminder_again(app, make):
    owner = make.user("growth_ops")
    lead = make.lead(owner=owner, consent="unknown")
    waiting = task(make, owner, days_ago=0, lead=lead)
    db.session.commit()
    assert reminders.sweep(db.session, NOON)["task_due"] == 0
    db.session.commit()
    lead = db.session.get(Lead, lead.id)
    lead.consent = "granted"
    db.session.commit()
    db.session.refresh(waiting)
    assert waiting.remind_on is None
    assert reminders.sweep(db.session, NOON)["task_due"] == 1


def _contract_lead(make, owner, **fields) -> Lead:
    """A lead at the contract stage (set-up only; the journey tests cover the real path)."""
    return make.lead(owner=owner, stage="contract", **fields)


def test_decision_deadlines_near_remind_the_owner_once(app, make):
    owner = make.user("growth_ops")
    near = _contract_lead(make, owner, decision_deadline=today() + timedelta(days=2))
    far = _contract_lead(make, owner, decision_deadline=today() + timedelta(days=20))
    paused = _contract_lead(
        make,
        owner,
        decision_deadline=today() + timedelta(days=1),
        paused_at=utcnow(),
        pause_reason="decision_path",
    )
    db.session.commit()
    reminders.sweep(db.session, NOON)
    reminders.sweep(db.session, NOON)
    db.session.commit()
    assert reminder_keys() == [f"reminder:deadline:{near.id}:{near.decision_deadline}"]
    assert far and paused


def test_proposals_not_viewed_and_not_decided_remind_after_their_days(app, deals, journey, make):
    from zarts.domain.gates import live_proposal

    owner = make.user("growth_ops")
    lead = make.lead(owner=owner)
    journey.to(lead, "contract")
    db.session.commit()
    proposal = live_proposal(db.session, lead.id)
    assert reminders.sweep(db.session, NOON)["not_viewed"] == 0
    later = utcnow() + timedelta(days=app.config["REMINDER_NOT_VIEWED_DAYS"], hours=1)
    assert reminders.sweep(db.session, later)["not_viewed"] == 1
    much_later = utcnow() + timedelta(days=app.config["REMINDER_NOT_DECIDED_DAYS"], hours=1)
    counts = reminders.sweep(db.session, much_later)
    db.session.commit()
    assert (counts["not_viewed"], counts["not_decided"]) == (0, 1)
    assert f"reminder:not_viewed:{proposal.id}" in reminder_keys()
    assert f"reminder:not_decided:{proposal.id}" in reminder_keys()
    db.session.refresh(proposal)  # each reminder is written back, so later sweeps do not read it again
    assert proposal.not_viewed_reminder_at is not None and proposal.not_decided_reminder_at is not None


def test_a_reminder_sent_before_the_proposal_recorded_it_is_recorded_not_sent_again(app, journey, make):
    """After the upgrade that added the marks: the message exists, the mark does not yet."""
    from zarts.domain.gates import live_proposal

    owner = make.user("growth_ops")
    lead = make.lead(owner=owner)
    journey.to(lead, "contract")
    db.session.commit()
    proposal = live_proposal(db.session, lead.id)
    later = utcnow() + timedelta(days=app.config["REMINDER_NOT_VIEWED_DAYS"], hours=1)
    assert reminders.sweep(db.session, later)["not_viewed"] == 1
    db.session.execute(
        sa.update(type(proposal)).where(type(proposal).id == proposal.id).values(not_viewed_reminder_at=None)
    )
    db.session.commit()
    again = reminders.sweep(db.session, later)
    db.session.commit()
    assert (again["not_viewed"], again["already_sent"]) == (0, 1)
    db.session.refresh(proposal)
    assert proposal.not_viewed_reminder_at is not None
    assert reminder_keys().count(f"reminder:not_viewed:{proposal.id}") == 1


def test_a_reached_reactivation_date_reactivates_the_lead_and_gives_its_owner_a_task(app, make):
    owner = make.user("growth_ops")
    lead = make.lead(owner=owner)
    with unit(db.session):
        pipeline.mark_lost(
            db.session,
            lead,
            owner,
            lead.version,
            lost_reason="timing",
            reactivation_date=today() + timedelta(days=30),
        )
    waiting = make.lead(owner=owner)
    with unit(db.session):
        pipeline.mark_lost(
            db.session,
            waiting,
            owner,
            waiting.version,
            lost_reason="price",
            reactivation_date=today() + timedelta(days=90),
        )
    day = NOON + timedelta(days=30)
    assert reminders.sweep(db.session, day)["reactivated"] == 1
    assert reminders.sweep(db.session, day)["reactivated"] == 0
    db.session.commit()
    db.session.expire_all()
    assert (lead.stage, waiting.stage) == ("qualified", "lost")
    winback = db.session.scalars(
        sa.select(Task).where(Task.lead_id == lead.id, Task.kind == "reactivation", Task.due == day.date())
    ).one()  # the one mark_lost dated
    assert winback.owner_id == owner.id and winback.done_at is None
    assert lead.next_action_due == day.date() and "re-qualify" in lead.next_action


def test_a_reactivated_lead_without_a_dated_task_gets_a_win_back_task(app, make):
    owner = make.user("growth_ops")
    lead = make.lead(
        owner=owner,
        stage="lost",
        lost_reason="price",
        lost_at=utcnow(),
        reactivation_date=today(),
        consent="withdrawn",
    )  # e.g. imported
    db.session.commit()
    assert reminders.sweep(db.session, NOON)["reactivated"] == 1
    db.session.commit()
    winback = db.session.scalars(
        sa.select(Task).where(Task.lead_id == lead.id, Task.kind == "reactivation")
    ).one()
    assert winback.key == f"lead:{lead.id}:winback:{today()}" and "re-qualify" in winback.title
    assert "Consent" in winback.notes
    assert reminder_keys() == []  # no consent: no follow-up reminder for its task


def test_the_sweep_streams_tasks_in_batches_with_a_bounded_session(app, make):
    owner = make.user("growth_ops")
    for i in range(60):
        task(make, owner, days_ago=i % 5)
    db.session.commit()
    sizes = []

    def checkpoint():
        db.session.commit()
        sizes.append(len(db.session.identity_map))

    counts = reminders.sweep(db.session, NOON, batch_size=10, checkpoint=checkpoint)
    assert counts["task_due"] + counts["task_overdue"] == 60
    assert len(sizes) >= 6 and max(sizes) <= 25  # per batch, not per table


@pytest.mark.pg
def test_two_sweeps_at_once_after_a_long_outage_send_each_reminder_exactly_once(pg_app, make):
    pg_app.config["REMINDER_BATCH"] = 7
    owners = [make.user("growth_ops") for _ in range(3)]
    tasks = [task(make, owners[i % 3], days_ago=i % 45) for i in range(90)]  # due over 45 past days
    lead = _contract_lead(make, owners[0], decision_deadline=today() + timedelta(days=1))
    db.session.commit()
    barrier, errors = threading.Barrier(2), []

    def sweep():
        with pg_app.app_context():
            barrier.wait()
            try:
                run_sweep("reminders")
            except Exception as exc:  # noqa: BLE001 - shown by the assertion below
                errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    keys = reminder_keys()
    per_task = {t.id: [k for k in keys if k.startswith(f"reminder:task:{t.id}:")] for t in tasks}
    assert all(len(v) == 1 for v in per_task.values()), per_task
    assert f"reminder:deadline:{lead.id}:{lead.decision_deadline}" in keys
    assert len(keys) == len(tasks) + 1

    run_sweep("reminders")  # and once more, later the same day
    assert len(reminder_keys()) == len(tasks) + 1
