"""Notifications (zarts.jobs.notify): each cause makes exactly one, for the right person, by a job
from the outbox after the commit (never in the request), and a job run twice still makes one."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from zarts.domain import approvals, messaging, pipeline, proposals, reminders, tasks, unit
from zarts.domain.gates import live_proposal
from zarts.extensions import db
from zarts.jobs.relay import relay
from zarts.models import Notification, Outbox, Task, today, utcnow


@pytest.fixture(autouse=True)
def held(app):
    """Jobs wait in the outbox until `run_jobs()`, so a test sees what the change alone wrote."""
    app.config["JOBS_RELAY_AFTER_COMMIT"] = False
    return app


def run_jobs() -> None:
    """Relay (and run inline: no Redis) every pending row, and the rows those jobs queued."""
    while relay()["claimed"]:
        pass
    db.session.expire_all()


def rerun_notify_jobs() -> None:
    """Every notify job once more, as a retry or a second relay would."""
    db.session.execute(
        sa.update(Outbox)
        .where(Outbox.job == "notify")
        .values(status="pending", available_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    assert relay()["ran"] >= 1
    db.session.expire_all()
    assert pending_notify_jobs() == 0


def settled() -> set[int]:
    """Run what the set-up queued; the ids of the notifications it made (not the cause under test)."""
    db.session.commit()
    run_jobs()
    return set(db.session.scalars(sa.select(Notification.id)))


def pending_notify_jobs() -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Outbox)
        .where(Outbox.job == "notify", Outbox.status == "pending")
    )


def made_since(before: set[int]) -> list[tuple[int, str]]:
    rows = db.session.scalars(
        sa.select(Notification).where(Notification.id.not_in(before or {0})).order_by(Notification.id)
    )
    return [(n.user_id, n.kind) for n in rows]


def assert_one(before: set[int], user, kind: str) -> Notification:
    """The committed cause queued its job but made no notification; the job makes exactly one for
    `user`, and running it again adds none."""
    assert made_since(before) == [], "made in the change itself, before any job ran"
    assert pending_notify_jobs() == 1
    run_jobs()
    assert made_since(before) == [(user.id, kind)]
    rerun_notify_jobs()
    assert made_since(before) == [(user.id, kind)]
    return db.session.scalars(sa.select(Notification).where(Notification.id.not_in(before or {0}))).one()


def contract_stage(make, journey, approver):
    """A lead with its proposal sent (the approver made first: they review everything)."""
    lead = journey.to(make.lead(), "contract")
    journey.approver = approver
    return lead, live_proposal(db.session, lead.id)


def test_an_approval_request_tells_the_reviewer(app, make, journey):
    approver = make.user("approver")
    lead = journey.to(make.lead(), "proposal")
    proposal = journey.draft(lead)
    before = settled()
    with unit(db.session):
        approval = approvals.request_approval(
            db.session, lead.owner, kind="summary", content="A 3-month plan", lead=lead, proposal=proposal
        )
    note = assert_one(before, approver, "approval_requested")
    assert note.url == f"/workspace/approvals/{approval.id}" and note.lead_id == lead.id
    assert lead.company in note.title and note.read_at is None


def test_a_decision_tells_the_requester_and_nobody_is_told_of_their_own_act(app, make, journey):
    approver = make.user("approver")
    lead = journey.to(make.lead(), "proposal")
    proposal = journey.draft(lead)
    with unit(db.session):
        approval = approvals.request_approval(
            db.session, lead.owner, kind="summary", content="A 3-month plan", lead=lead, proposal=proposal
        )
    before = settled()
    with unit(db.session):
        approvals.decide(db.session, approval, approver, approval.version, approve=False, comment="Too vague")
    note = assert_one(before, lead.owner, "approval_decided")
    assert "rejected" in note.title and "Too vague" in note.title
    assert note.url == f"/workspace/leads/{lead.id}"


def test_a_client_message_tells_the_owner_of_the_reply_task(app, make):
    owner = make.user("growth_ops")
    client = make.client(owner_id=owner.id)
    contact = make.user("client", client=client, name="Cleo Client")
    before = settled()
    with unit(db.session):
        msg = messaging.post_client_message(db.session, contact, "Can we move the kickoff?", lead=None)
    note = assert_one(before, owner, "client_message")
    assert "Cleo Client" in note.title and client.name in note.title
    reply = db.session.scalars(sa.select(Task).where(Task.key == f"message:{msg.id}:reply")).one()
    assert reply.owner_id == owner.id


def test_a_viewed_then_accepted_proposal_tells_the_lead_owner_once_each(app, make, journey):
    lead, proposal = contract_stage(make, journey, make.user("approver"))
    contact = journey.contact(lead)
    before = settled()
    with unit(db.session):
        proposals.record_view(db.session, proposal, contact)
    assert_one(before, lead.owner, "proposal_viewed")
    with unit(db.session):
        proposals.record_view(db.session, proposal, contact)  # a second open: nothing new
    assert pending_notify_jobs() == 0
    before = settled()
    add_on = next(i["id"] for i in proposal.snapshot["items"] if i["kind"] == "add_on")
    with unit(db.session):
        proposals.accept_proposal(db.session, proposal, contact, proposal.version, add_on_ids=[add_on])
    note = assert_one(before, lead.owner, "proposal_accepted")
    assert note.title == f"{lead.company} accepted proposal v{proposal.number}"


def test_a_declined_proposal_tells_the_lead_owner_with_the_reason(app, make, journey):
    lead, proposal = contract_stage(make, journey, make.user("approver"))
    before = settled()
    with unit(db.session):
        proposals.decline_proposal(
            db.session, proposal, journey.contact(lead), proposal.version, "Over budget"
        )
    note = assert_one(before, lead.owner, "proposal_declined")
    assert note.title.endswith(": Over budget")


def test_a_task_set_for_a_colleague_or_handed_over_tells_them_and_not_oneself(app, make):
    me, colleague, third = make.user("growth_ops"), make.user("delivery"), make.user("growth_ops")
    before = settled()
    with unit(db.session):
        mine = tasks.create_task(db.session, me, title="Draft the brief", owner_id=me.id, due=today())
    assert pending_notify_jobs() == 0  # set for myself: nobody to tell
    with unit(db.session):
        task = tasks.create_task(db.session, me, title="Set up GA4", owner_id=colleague.id, due=today())
    note = assert_one(before, colleague, "task_assigned")
    assert note.title == f"{me.name} assigned you: Set up GA4" and note.url == f"/workspace/tasks/{task.id}"
    before = settled()
    with unit(db.session):
        tasks.update_task(
            db.session,
            mine,
            me,
            mine.version,
            title="Draft the brief",
            notes=None,
            kind="follow_up",
            owner_id=third.id,
            due=today(),
            lead_id=None,
            client_id=None,
            project_id=None,
        )
    assert_one(before, third, "task_assigned")
    before = settled()
    with unit(db.session):  # a new title, same owner: not an assignment
        tasks.update_task(
            db.session,
            mine,
            third,
            mine.version,
            title="Draft the brief (v2)",
            notes=None,
            kind="follow_up",
            owner_id=third.id,
            due=today(),
            lead_id=None,
            client_id=None,
            project_id=None,
        )
    assert pending_notify_jobs() == 0 and made_since(before) == []


def test_the_handoff_tells_the_onboarding_owner_once(app, deals):
    deal = deals.won()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
    run_jobs()  # the handoff queues the notify job; the next relay runs it
    notes = db.session.scalars(sa.select(Notification).where(Notification.user_id == deal.delivery.id)).all()
    assert [(n.kind, n.lead_id) for n in notes] == [("task_assigned", deal.lead_id)]
    assert "onboarding tasks are yours" in notes[0].title and notes[0].url == "/workspace/tasks"
    rerun_notify_jobs()
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(Notification.user_id == deal.delivery.id)
        )
        == 1
    )


def test_a_win_back_falling_due_tells_the_owner(app, make):
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
    before = settled()
    day = datetime.combine(today(), time(12)) + timedelta(days=30)
    assert reminders.sweep(db.session, day)["reactivated"] == 1
    db.session.commit()
    note = assert_one(before, owner, "reactivation_due")
    assert note.url == f"/workspace/leads/{lead.id}" and lead.company in note.title


def test_a_decision_in_the_workspace_makes_no_notification_in_the_request(app, make, journey, auth):
    approver = make.user("approver")
    lead = journey.to(make.lead(), "proposal")
    with unit(db.session):
        approval = approvals.request_approval(
            db.session, lead.owner, kind="summary", content="Plan", lead=lead, proposal=journey.draft(lead)
        )
    before = settled()
    auth.login_as(approver)
    db.session.commit()
    resp = auth.post(
        f"/workspace/approvals/{approval.id}/decide",
        {"decision": "approve", "version": approval.version},
        htmx=True,
    )
    assert resp.status_code == 200
    db.session.expire_all()
    assert_one(before, lead.owner, "approval_decided")


def test_a_job_whose_recipient_left_makes_nothing(app, make):
    me, colleague = make.user("growth_ops"), make.user("delivery")
    with unit(db.session):
        tasks.create_task(db.session, me, title="Call", owner_id=colleague.id, due=today())
    colleague.active = False
    db.session.commit()
    run_jobs()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
    # done, not retried: there is nobody to tell
    assert db.session.scalars(sa.select(Outbox.status).where(Outbox.job == "notify")).all() == ["done"]
