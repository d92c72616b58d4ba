"""pipeline.create_lead: a new opportunity starts at `new` and leaves its `created` event."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from zarts.domain import Forbidden, Invalid, pipeline
from zarts.extensions import db
from zarts.models import Event, Lead, today

FIELDS = {"title": "Roof repairs", "company": "Acme Roofing", "source": "referral", "service": "seo"}


def events_of(lead) -> list[tuple[str, str, int | None]]:
    rows = db.session.execute(sa.select(Event).where(Event.lead_id == lead.id).order_by(Event.id)).scalars()
    return [(e.kind, e.stage, e.actor_id) for e in rows]


def test_a_new_lead_starts_at_new_with_a_created_event(make):
    ops = make.user("growth_ops")
    due = today() + timedelta(days=2)

    lead = pipeline.create_lead(
        db.session,
        ops,
        **FIELDS,
        contact_name="  Ana  ",
        next_action="Call Ana",
        next_action_due=due,
        owner_id=ops.id,
        consent="granted",
    )

    assert (lead.stage, lead.owner_id, lead.contact_name, lead.next_action_due) == ("new", ops.id, "Ana", due)
    assert lead.consent_recorded_at is not None and lead.probability == 5
    assert events_of(lead) == [("created", "new", ops.id)]


def test_the_weekly_report_counts_leads_created_this_way(make):
    from zarts.domain import weekly

    assert weekly.EVENT_FIGURES["new_leads"] == "created"
    lead = pipeline.create_lead(db.session, make.user("admin"), **FIELDS)
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Event)
            .where(Event.lead_id == lead.id, Event.kind == "created")
        )
        == 1
    )


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"title": "  "}, "Title is required."),
        ({"company": None}, "Company is required."),
        ({"source": "tv"}, "Choose a source from the list."),
        ({"probability": 140}, "Probability must be between 0 and 100."),
        ({"stage": "won"}, "These fields cannot be set on a new opportunity: stage."),
        ({"lost_reason": "price"}, "These fields cannot be set on a new opportunity: lost_reason."),
    ],
)
def test_incomplete_or_state_fields_are_refused_and_nothing_is_written(fields, message, make):
    ops = make.user("growth_ops")
    with pytest.raises(Invalid) as exc:
        pipeline.create_lead(db.session, ops, **(FIELDS | fields))
    assert exc.value.message == message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == 0


def test_the_owner_is_active_staff(make):
    client_contact = make.user("client")
    with pytest.raises(Invalid, match="owner must be an active staff member"):
        pipeline.create_lead(db.session, make.user("growth_ops"), **FIELDS, owner_id=client_contact.id)


@pytest.mark.parametrize("role", ["approver", "delivery", "client"])
def test_only_growth_ops_and_admins_create_opportunities(role, make):
    with pytest.raises(Forbidden):
        pipeline.create_lead(db.session, make.user(role), **FIELDS)


def test_withdrawn_consent_pauses_the_new_lead(make):
    ops = make.user("growth_ops")
    lead = pipeline.create_lead(db.session, ops, **FIELDS, consent="withdrawn")
    assert (lead.stage, lead.pause_reason) == ("new", "consent")
    assert [kind for kind, _, _ in events_of(lead)] == ["created", "paused"]
