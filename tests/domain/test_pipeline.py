from datetime import timedelta

import pytest
import sqlalchemy as sa

from zarts.domain import Conflict, Forbidden, GateRefused, Invalid, pipeline
from zarts.extensions import db
from zarts.models import AppendOnlyError, Event, Lead, Task, today

DUE = today() + timedelta(days=2)


def test_every_move_leaves_a_next_action_with_a_due_date(make):
    lead = make.lead(next_action_due=today() - timedelta(days=1))
    with pytest.raises(GateRefused) as exc:
        pipeline.move(db.session, lead, "qualified", lead.owner, lead.version)
    assert [m.code for m in exc.value.missing] == ["next_action"]
    assert lead.stage == "new"
    pipeline.move(db.session, lead, "qualified", lead.owner, lead.version, next_action="Book discovery",
                  next_action_due=DUE)
    assert (lead.next_action, lead.next_action_due) == ("Book discovery", DUE)


def test_a_refused_move_leaves_the_next_action_untouched(make):
    lead = make.lead(urgency=None)
    before = (lead.next_action, lead.next_action_due)
    with pytest.raises(GateRefused):
        pipeline.move(db.session, lead, "qualified", lead.owner, lead.version, next_action="New text",
                      next_action_due=DUE + timedelta(days=5))
    assert (lead.next_action, lead.next_action_due) == before


def test_only_the_owner_or_an_admin_moves_the_opportunity(make):
    lead = make.lead()
    with pytest.raises(Forbidden):
        pipeline.move(db.session, lead, "qualified", make.user("growth_ops"), lead.version, next_action_due=DUE)
    with pytest.raises(Forbidden):
        pipeline.move(db.session, lead, "qualified", make.user("approver"), lead.version, next_action_due=DUE)
    pipeline.move(db.session, lead, "qualified", make.user("admin"), lead.version, next_action_due=DUE)
    assert lead.stage == "qualified"


def test_a_stale_version_is_a_conflict(make):
    lead = make.lead()
    with pytest.raises(Conflict):
        pipeline.move(db.session, lead, "qualified", lead.owner, lead.version - 1 if lead.version > 1 else 99,
                      next_action_due=DUE)
    assert lead.stage == "new"


def test_pause_blocks_moves_and_resume_needs_the_condition_fixed_and_confirmed(make, journey):
    lead = journey.to(make.lead(), "qualified")
    pipeline.pause(db.session, lead, lead.owner, lead.version, "decision_path", "Two people claim the budget")
    with pytest.raises(Invalid):
        pipeline.move(db.session, lead, "discovery", lead.owner, lead.version, next_action_due=DUE)
    lead.decision_criteria = None
    with pytest.raises(GateRefused) as exc:
        pipeline.resume(db.session, lead, lead.owner, lead.version, confirmed=False)
    assert [m.code for m in exc.value.missing] == ["decision_path", "confirmation"]
    pipeline.update_lead(db.session, lead, lead.owner, lead.version, decision_criteria="Cost per lead")
    pipeline.resume(db.session, lead, lead.owner, lead.version, confirmed=True)
    assert not lead.is_paused
    kinds = [e.kind for e in db.session.query(Event).filter_by(lead_id=lead.id)]
    assert "paused" in kinds and "resumed" in kinds


def test_withdrawn_consent_pauses_the_lead(make, journey):
    lead = journey.to(make.lead(), "discovery")
    pipeline.update_lead(db.session, lead, lead.owner, lead.version, consent="withdrawn")
    assert lead.is_paused and lead.pause_reason == "consent"


def test_update_lead_refuses_state_fields(make):
    lead = make.lead()
    with pytest.raises(Invalid):
        pipeline.update_lead(db.session, lead, lead.owner, lead.version, stage="won")
    with pytest.raises(Invalid):
        pipeline.update_lead(db.session, lead, lead.owner, lead.version, owner_id=1)
    assert lead.stage == "new"


def test_lost_then_reactivated_returns_to_qualified_with_history(make):
    lead = make.lead()
    pipeline.mark_lost(db.session, lead, lead.owner, lead.version, lost_reason="timing",
                       reactivation_date=today() + timedelta(days=90))
    task = db.session.scalars(sa.select(Task).where(Task.lead_id == lead.id, Task.kind == "reactivation")).one()
    assert task.due == today() + timedelta(days=90) and task.owner_id == lead.owner_id
    pipeline.reactivate(db.session, lead, lead.owner, lead.version)
    assert lead.stage == "qualified" and lead.lost_reason is None
    lost = db.session.scalars(sa.select(Event).where(Event.lead_id == lead.id, Event.kind == "lost")).one()
    assert lost.payload["reason"] == "timing"


def test_a_reactivation_date_in_the_past_is_refused(make):
    lead = make.lead()
    with pytest.raises(GateRefused):
        pipeline.mark_lost(db.session, lead, lead.owner, lead.version, lost_reason="price",
                           reactivation_date=today())


def test_events_are_append_only_in_the_orm_and_in_the_database(make):
    lead = make.lead()
    pipeline.move(db.session, lead, "qualified", lead.owner, lead.version, next_action_due=DUE)
    db.session.commit()
    event = db.session.scalars(sa.select(Event).where(Event.lead_id == lead.id)).first()
    event.payload = {"tampered": True}
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.text("UPDATE events SET stage = 'won' WHERE id = :i"), {"i": event.id})
    db.session.rollback()
    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.text("DELETE FROM events WHERE id = :i"), {"i": event.id})
    db.session.rollback()


def test_leads_are_never_deleted(make):
    lead = make.lead()
    db.session.commit()
    db.session.delete(db.session.get(Lead, lead.id))
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


def test_event_records_owner_stage_and_next_action_at_that_moment(make):
    lead = make.lead()
    pipeline.move(db.session, lead, "qualified", lead.owner, lead.version, next_action="Book call",
                  next_action_due=DUE)
    e = db.session.scalars(sa.select(Event).where(Event.lead_id == lead.id, Event.kind == "stage_moved")).one()
    assert (e.owner_id, e.stage, e.next_action, e.next_action_due, e.actor_id) == \
        (lead.owner_id, "qualified", "Book call", DUE, lead.owner_id)
    assert e.payload == {"from_stage": "new", "to_stage": "qualified"}
