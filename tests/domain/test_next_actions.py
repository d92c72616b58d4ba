"""Next actions that stay true (issue 17): a win, a loss and a reactivation leave the lead's next action
and its open tasks as they now are; events and outputs record the next action after the act; the
lead's next action is a task the reminder sweep sees; objections are a history; one probability."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from zarts.domain import Forbidden, GateRefused, pipeline, proposals, reminders, trail
from zarts.domain.reads import outputs
from zarts.extensions import db
from zarts.models import Event, Message, Task, today

KICKOFF = today() + timedelta(days=7)  # the journey's kickoff date


def open_tasks(lead) -> list[Task]:
    return db.session.scalars(
        sa.select(Task).where(Task.lead_id == lead.id, Task.done_at.is_(None)).order_by(Task.id)
    ).all()


def event(lead, kind) -> Event:
    return db.session.scalars(
        sa.select(Event).where(Event.lead_id == lead.id, Event.kind == kind).order_by(Event.id.desc())
    ).first()


def next_action_task(lead) -> Task | None:
    return db.session.scalars(sa.select(Task).where(Task.key == trail.next_action_key(lead.id))).one_or_none()


def test_a_win_makes_the_kickoff_the_next_action_and_closes_what_it_superseded(make, journey):
    lead = journey.to(make.lead(company="Acme"), "accepted")
    superseded = {t.id for t in open_tasks(lead)}
    kinds = {t.kind for t in open_tasks(lead)}
    assert "follow_up" in kinds and "contract_step" in kinds  # the proposal follow-up, the contract task
    journey._won(lead)
    assert (lead.next_action, lead.next_action_due) == ("Kickoff with Acme", KICKOFF)
    closed = db.session.scalars(sa.select(Task).where(Task.id.in_(superseded))).all()
    assert all(t.done_at is not None and "Closed: the deal was won." in t.notes for t in closed)
    # The contract's own steps made after acceptance (signed) are superseded too; nothing of them stays open.
    assert not [t for t in open_tasks(lead) if t.kind in pipeline.WON_SUPERSEDES]
    won = event(lead, "won")
    assert (won.next_action, won.next_action_due) == ("Kickoff with Acme", KICKOFF)
    assert set(won.payload["closed_task_ids"]) >= superseded
    assert event(lead, "stage_moved").next_action == "Kickoff with Acme"


def test_the_handoff_and_outputs_6_to_8_carry_the_kickoff(app, make, journey):
    from zarts.domain.handoff import run_handoff

    lead = journey.to(make.lead(company="Acme"), "won")
    assert run_handoff(db.session, lead.id) == "done"
    assert event(lead, "handoff_done").next_action == "Kickoff with Acme"
    assert [t for t in open_tasks(lead) if t.kind == "onboarding"]  # the handoff's tasks stay open
    for slug in ("contract-handoff", "onboarding-checklist", "won-lost-reason"):
        row = outputs.detail(db.session, slug, lead.id).row
        assert (row["next_action"], row["next_action_due"]) == ("Kickoff with Acme", KICKOFF.isoformat()), (
            slug
        )
    outcome = outputs.detail(db.session, "won-lost-reason", lead.id).row
    assert outcome["client_safe_status"] == "client-facing: proposal v1 accepted"


def test_a_loss_makes_the_win_back_the_next_action_and_closes_open_tasks(make, journey):
    lead = journey.to(make.lead(company="Acme"), "contract")
    approver_review = Task(
        kind="proposal_review", title="Review", owner_id=lead.owner_id, due=today(), lead_id=lead.id
    )
    db.session.add(approver_review)
    db.session.flush()
    before = {t.id for t in open_tasks(lead)} - {approver_review.id}
    back = today() + timedelta(days=60)
    pipeline.mark_lost(
        db.session, lead, lead.owner, lead.version, lost_reason="price", reactivation_date=back
    )
    assert (lead.next_action, lead.next_action_due) == ("Win-back: reactivate Acme", back)
    still_open = open_tasks(lead)
    assert {t.kind for t in still_open} == {"reactivation", "proposal_review"}
    closed = db.session.scalars(sa.select(Task).where(Task.id.in_(before))).all()
    assert closed and all(t.done_at and "Closed: the deal was lost." in t.notes for t in closed)
    lost = event(lead, "lost")
    assert (lost.next_action, lost.next_action_due) == ("Win-back: reactivate Acme", back)
    assert set(lost.payload["closed_task_ids"]) == before
    row = outputs.detail(db.session, "won-lost-reason", lead.id).row
    assert row["next_action"] == "Win-back: reactivate Acme"
    assert row["client_safe_status"] == "client-facing: proposal v1 sent"


def test_lost_for_never_has_no_next_action_and_no_open_task(make):
    lead = make.lead()
    pipeline.set_next_action(db.session, lead, lead.owner, lead.version, "Book discovery call", today())
    pipeline.mark_lost(
        db.session, lead, lead.owner, lead.version, lost_reason="poor_fit", reactivation_never=True
    )
    assert (lead.next_action, lead.next_action_due) == (None, None)
    assert open_tasks(lead) == []
    assert event(lead, "lost").next_action is None


def test_the_next_action_is_one_task_that_follows_it_and_is_reminded(app, make):
    lead = make.lead()
    pipeline.set_next_action(db.session, lead, lead.owner, lead.version, "Book discovery call", today())
    task = next_action_task(lead)
    assert (task.title, task.due, task.owner_id, task.done_at) == (
        "Book discovery call",
        today(),
        lead.owner_id,
        None,
    )
    pipeline.set_next_action(
        db.session, lead, lead.owner, lead.version, "Send the agenda", today() + timedelta(days=1)
    )
    assert next_action_task(lead).id == task.id and (task.title, task.due) == (
        "Send the agenda",
        today() + timedelta(days=1),
    )
    pipeline.move(
        db.session,
        lead,
        "qualified",
        lead.owner,
        lead.version,
        next_action="Call the CMO",
        next_action_due=today(),
    )
    assert (task.title, task.due) == ("Call the CMO", today())
    assert len([t for t in open_tasks(lead)]) == 1
    db.session.commit()
    noon = datetime.combine(today(), time(12, 0))
    assert reminders.sweep(db.session, noon)["task_due"] == 1
    msg = db.session.scalars(
        sa.select(Message).where(Message.key == f"reminder:task:{task.id}:{today()}")
    ).one()
    assert "Call the CMO" in msg.subject + msg.body


def test_a_done_next_action_task_is_kept_and_a_new_one_opened(make):
    lead = make.lead()
    pipeline.set_next_action(db.session, lead, lead.owner, lead.version, "Call", today())
    first = next_action_task(lead)
    first.done_at = datetime.now()
    db.session.flush()
    pipeline.set_next_action(db.session, lead, lead.owner, lead.version, "Call again", today())
    second = next_action_task(lead)
    assert second.id != first.id and second.done_at is None and second.title == "Call again"
    assert first.title == "Call" and first.done_at is not None


def test_a_new_lead_with_a_next_action_gets_its_task(make):
    owner = make.user("growth_ops")
    lead = pipeline.create_lead(
        db.session,
        owner,
        title="Roof",
        company="Acme",
        source="referral",
        service="seo",
        next_action="Call back",
        next_action_due=today(),
    )
    task = next_action_task(lead)
    assert (task.title, task.owner_id) == ("Call back", owner.id)


def test_objections_are_a_history(make, journey):
    lead = journey.to(make.lead(), "contract")
    sent = proposals.gates.live_proposal(db.session, lead.id)
    proposals.record_objection(db.session, sent, lead.owner, sent.version, "Too expensive")
    proposals.record_objection(db.session, sent, lead.owner, sent.version, "Notice period too long")
    history = proposals.objection_history(db.session, lead.id, [sent])
    assert [o["text"] for o in history] == ["Notice period too long", "Too expensive"]
    assert history[0]["who"] == lead.owner.name and history[0]["number"] == 1
    assert sent.objection == "Notice period too long"


def test_one_probability_after_sending(make, journey):
    lead = journey.to(make.lead(), "contract")
    sent = proposals.gates.live_proposal(db.session, lead.id)
    assert lead.probability == sent.probability == 60


def test_reactivation_needs_a_confirmation_and_a_due_date(make):
    lead = make.lead(company="Acme")
    pipeline.mark_lost(
        db.session,
        lead,
        lead.owner,
        lead.version,
        lost_reason="timing",
        reactivation_date=today() + timedelta(days=30),
    )
    with pytest.raises(GateRefused) as refused:
        pipeline.reactivate(db.session, lead, lead.owner, lead.version)
    assert "Confirm that you want to reactivate it" in refused.value.message
    assert "Give the re-qualification a due date" in refused.value.message
    with pytest.raises(GateRefused, match="cannot be in the past"):
        pipeline.reactivate(
            db.session,
            lead,
            lead.owner,
            lead.version,
            confirmed=True,
            next_action_due=today() - timedelta(days=1),
        )
    assert lead.stage == "lost"
    due = today() + timedelta(days=2)
    pipeline.reactivate(db.session, lead, lead.owner, lead.version, confirmed=True, next_action_due=due)
    assert (lead.stage, lead.next_action, lead.next_action_due) == ("qualified", "Re-qualify Acme", due)
    [task] = open_tasks(lead)  # the waiting win-back task was closed: the re-qualify task replaces it
    assert (task.title, task.due, task.owner_id, task.kind) == (
        "Re-qualify Acme",
        due,
        lead.owner_id,
        "reactivation",
    )
    assert event(lead, "reactivated").next_action == "Re-qualify Acme"


def test_never_reactivate_needs_an_admin(make):
    lead = make.lead()
    pipeline.mark_lost(
        db.session, lead, lead.owner, lead.version, lost_reason="poor_fit", reactivation_never=True
    )
    with pytest.raises(Forbidden, match="only an admin can reactivate it"):
        pipeline.reactivate(
            db.session, lead, lead.owner, lead.version, confirmed=True, next_action_due=today()
        )
    pipeline.reactivate(
        db.session, lead, make.user("admin"), lead.version, confirmed=True, next_action_due=today()
    )
    assert lead.stage == "qualified" and next_action_task(lead).owner_id == lead.owner_id
