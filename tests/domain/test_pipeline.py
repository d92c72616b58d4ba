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
    pipeline.move(
        db.session,
        lead,
        "qualified",
        lead.owner,
        lead.version,
        next_action="Book discovery",
        next_action_due=DUE,
    )
    assert (lead.next_action, lead.next_action_due) == ("Book discovery", DUE)


def test_a_refused_move_leaves_the_next_action_untouched(make):
    lead = make.lead(urgency=None)
    before = (lead.next_action, lead.next_action_due)
    with pytest.raises(GateRefused):
        pipeline.move(
            db.session,
            lead,
            "qualified",
            lead.owner,
            lead.version,
            next_action="New text",
            next_action_due=DUE + timedelta(days=5),
        )
    assert (lead.next_action, lead.next_action_due) == before


def test_only_the_owner_or_an_admin_moves_the_opportunity(make):
    lead = make.lead()
    with pytest.raises(Forbidden):
        pipeline.move(
            db.session, lead, "qualified", make.user("growth_ops"), lead.version, next_action_due=DUE
        )
    with pytest.raises(Forbidden):
        pipeline.move(db.session, lead, "qualified", make.user("approver"), lead.version, next_action_due=DUE)
    pipeline.move(db.session, lead, "qualified", make.user("admin"), lead.version, next_action_due=DUE)
    assert lead.stage == "qualified"


def test_a_stale_version_is_a_conflict(make):
    lead = make.lead()
    with pytest.raises(Conflict):
        pipeline.move(
            db.session,
            lead,
            "qualified",
            lead.owner,
            lead.version - 1 if lead.version > 1 else 99,
            next_action_due=DUE,
        )
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
    pipeline.mark_lost(
        db.session,
        lead,
        lead.owner,
        lead.version,
        lost_reason="timing",
        reactivation_date=today() + timedelta(days=90),
    )
    task = db.session.scalars(
        sa.select(Task).where(Task.lead_id == lead.id, Task.kind == "reactivation")
    ).one()
    assert task.due == today() + timedelta(days=90) and task.owner_id == lead.owner_id
    pipeline.reactivate(db.session, lead, lead.owner, lead.version, confirmed=True, next_action_due=today())
    assert lead.stage == "qualified" and lead.lost_reason is None
    assert task.done_at is not None and "reactivated by hand" in task.notes  # the re-qualify task replaces it
    lost = db.session.scalars(sa.select(Event).where(Event.lead_id == lead.id, Event.kind == "lost")).one()
    assert lost.payload["reason"] == "timing"


def test_a_reactivation_date_in_the_past_is_refused(make):
    lead = make.lead()
    with pytest.raises(GateRefused):
        pipeline.mark_lost(
            db.session, lead, lead.owner, lead.version, lost_reason="price", reactivation_date=today()
        )


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
    pipeline.move(
        db.session, lead, "qualified", lead.owner, lead.version, next_action="Book call", next_action_due=DUE
    )
    e = db.session.scalars(
        sa.select(Event).where(Event.lead_id == lead.id, Event.kind == "stage_moved")
    ).one()
    assert (e.owner_id, e.stage, e.next_action, e.next_action_due, e.actor_id) == (
        lead.owner_id,
        "qualified",
        "Book call",
        DUE,
        lead.owner_id,
    )
    assert e.payload == {"from_stage": "new", "to_stage": "qualified"}


# ---------------------------------------------------------------- ownership (issue 16)


def _lead_columns(lead) -> dict:
    return {c.key: getattr(lead, c.key) for c in sa.inspect(Lead).column_attrs}


def _kinds(lead) -> list[str]:
    return list(db.session.scalars(sa.select(Event.kind).where(Event.lead_id == lead.id).order_by(Event.id)))


# Every function that changes a lead, called as a user would (arguments that would pass for the owner).
LEAD_CHANGES = {
    "update_lead": lambda lead, who: pipeline.update_lead(
        db.session, lead, who, lead.version, title="Mine now"
    ),
    "set_next_action": lambda lead, who: pipeline.set_next_action(
        db.session, lead, who, lead.version, "Call", DUE
    ),
    "log_discovery": lambda lead, who: pipeline.log_discovery(
        db.session,
        lead,
        who,
        lead.version,
        pain_points="p",
        current_lead_flow="f",
        provider_stack="s",
        decision_criteria="c",
    ),
    "pause": lambda lead, who: pipeline.pause(db.session, lead, who, lead.version, "timing"),
    "resume": lambda lead, who: pipeline.resume(db.session, lead, who, lead.version, confirmed=True),
    "move": lambda lead, who: pipeline.move(
        db.session, lead, "qualified", who, lead.version, next_action_due=DUE
    ),
    "mark_lost": lambda lead, who: pipeline.mark_lost(
        db.session, lead, who, lead.version, lost_reason="price", reactivation_never=True
    ),
    "reactivate": lambda lead, who: pipeline.reactivate(
        db.session, lead, who, lead.version, confirmed=True, next_action_due=DUE
    ),
    "mark_won": lambda lead, who: pipeline.mark_won(db.session, lead, who, lead.version),
    "reassign": lambda lead, who: pipeline.reassign(db.session, lead, who, lead.version, who.id),
}


@pytest.mark.parametrize("change", LEAD_CHANGES, ids=list(LEAD_CHANGES))
def test_growth_ops_change_only_their_own_leads(change, make):
    """SECURITY.md: growth ops act on their own leads. Replays issue 16 (another owner's lead was
    changed through the workspace and the admin): each domain function refuses, nothing changes."""
    lead = make.lead()
    before, kinds = _lead_columns(lead), _kinds(lead)
    with pytest.raises(Forbidden) as exc:
        LEAD_CHANGES[change](lead, make.user("growth_ops"))
    assert exc.value.message.startswith("Only the owner of this opportunity (or an admin) can ")
    assert (_lead_columns(lead), _kinds(lead)) == (before, kinds)


@pytest.mark.parametrize("role", ["approver", "delivery"])
def test_other_staff_change_no_lead(role, make):
    lead = make.lead()
    for change in LEAD_CHANGES.values():
        with pytest.raises(Forbidden):
            change(lead, make.user(role))


def test_growth_ops_create_the_leads_they_own_and_only_admins_create_for_others(make):
    ops, other, admin = make.user("growth_ops"), make.user("growth_ops"), make.user("admin")
    fields = {"title": "Roof repairs", "company": "Acme Roofing", "source": "referral", "service": "seo"}
    with pytest.raises(Forbidden, match="Only an admin can create an opportunity for someone else."):
        pipeline.create_lead(db.session, ops, **fields, owner_id=other.id)
    assert pipeline.create_lead(db.session, ops, **fields).owner_id == ops.id
    assert pipeline.create_lead(db.session, admin, **fields, owner_id=other.id).owner_id == other.id
    assert pipeline.create_lead(db.session, admin, **fields).owner_id is None


def _task(lead, owner, kind="follow_up", done=False) -> Task:
    from zarts.models import utcnow

    task = Task(
        kind=kind,
        title=f"{kind} task",
        owner_id=owner.id,
        due=DUE,
        lead_id=lead.id,
        done_at=utcnow() if done else None,
    )
    db.session.add(task)
    db.session.flush()
    return task


@pytest.mark.parametrize("by", ["admin", "owner"])
def test_reassign_hands_the_lead_and_the_owners_open_lead_tasks_to_the_new_owner(by, make):
    old, new = make.user("growth_ops", name="Olga Old"), make.user("growth_ops", name="Nina New")
    lead = make.lead(owner=old)
    follow_up, contract_step = _task(lead, old), _task(lead, old, "contract_step")
    review, by_hand = _task(lead, old, "proposal_review"), _task(lead, old, "other")
    done = _task(lead, old, done=True)
    someone_elses = _task(lead, make.user("growth_ops"))
    actor = make.user("admin") if by == "admin" else old

    pipeline.reassign(db.session, lead, actor, lead.version, new.id, note="Olga is on leave")

    assert (lead.owner_id, lead.owner.name) == (new.id, "Nina New")
    assert (follow_up.owner_id, contract_step.owner_id) == (new.id, new.id)
    assert {t.owner_id for t in (review, by_hand, done)} == {old.id}  # reviews, hand-given and done ones stay
    assert someone_elses.owner_id != new.id
    event = db.session.scalars(
        sa.select(Event).where(Event.lead_id == lead.id, Event.kind == "reassigned")
    ).one()
    assert (event.actor_id, event.owner_id) == (actor.id, new.id)
    assert event.payload == {
        "from_owner_id": old.id,
        "from_name": "Olga Old",
        "to_owner_id": new.id,
        "to_name": "Nina New",
        "note": "Olga is on leave",
        "tasks_moved": 2,
    }


@pytest.mark.parametrize(
    "role,active,message",
    [
        ("delivery", True, "cannot own opportunities: choose someone in growth ops or an admin."),
        ("growth_ops", False, "The owner must be an active staff member."),
        ("client", True, "The owner must be an active staff member."),
    ],
)
def test_reassign_only_to_an_active_growth_ops_user_or_admin(role, active, message, make):
    lead = make.lead()
    owner_id, version = lead.owner_id, lead.version
    target = make.user(role, active=active)
    with pytest.raises(Invalid) as exc:
        pipeline.reassign(db.session, lead, make.user("admin"), version, target.id)
    assert message in exc.value.message and exc.value.field == "owner_id"
    assert (lead.owner_id, _kinds(lead)) == (owner_id, [])


def test_reassign_to_the_current_owner_or_from_an_old_version_is_refused(make):
    lead = make.lead()
    with pytest.raises(Invalid, match="already owns this opportunity"):
        pipeline.reassign(db.session, lead, lead.owner, lead.version, lead.owner_id)
    with pytest.raises(Conflict):
        pipeline.reassign(db.session, lead, lead.owner, lead.version + 1, make.user("admin").id)
    assert _kinds(lead) == []


def test_update_lead_leaves_a_change_record_of_what_changed(make):
    lead = make.lead(title="Roof", urgency="high")
    pipeline.update_lead(
        db.session,
        lead,
        lead.owner,
        lead.version,
        via="workspace",
        title="Roof repairs",
        urgency="high",
        decision_owner="  CEO  ",
    )
    event = db.session.scalars(sa.select(Event).where(Event.lead_id == lead.id)).one()
    assert event.kind == "fields_changed" and event.payload["via"] == "workspace"
    assert event.payload["changes"] == [
        {"field": "title", "old": "Roof", "new": "Roof repairs"},
        {"field": "decision_owner", "old": "CMO", "new": "CEO"},
    ]
    version = lead.version
    pipeline.update_lead(db.session, lead, lead.owner, version, title="Roof repairs", urgency="high")
    assert (lead.version, _kinds(lead)) == (version, ["fields_changed"])  # nothing changed, nothing written


def test_withdrawn_consent_pauses_for_consent_even_a_lead_paused_for_timing(make, journey):
    lead = journey.to(make.lead(), "qualified")
    pipeline.pause(db.session, lead, lead.owner, lead.version, "timing")
    pipeline.update_lead(db.session, lead, lead.owner, lead.version, consent="withdrawn")
    assert lead.pause_reason == "consent"  # resuming now needs consent, not just a date
    assert _kinds(lead)[-3:] == ["paused", "fields_changed", "paused"]


def test_a_lost_lead_with_withdrawn_consent_comes_back_paused(make):
    lead = make.lead()
    pipeline.mark_lost(
        db.session, lead, lead.owner, lead.version, lost_reason="price", reactivation_never=True
    )
    pipeline.update_lead(db.session, lead, lead.owner, lead.version, consent="withdrawn")
    assert not lead.is_paused  # a closed lead is not paused
    # Lost with "never": only an admin brings it back.
    pipeline.reactivate(
        db.session, lead, make.user("admin"), lead.version, confirmed=True, next_action_due=today()
    )
    assert (lead.stage, lead.pause_reason) == ("qualified", "consent")
    assert _kinds(lead)[-1] == "paused"
