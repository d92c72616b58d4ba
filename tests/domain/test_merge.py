"""Merging duplicates (zarts.domain.merge): both histories end up under the survivor, the duplicate
is closed as a duplicate, and every refusal changes nothing."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from zarts.domain import Conflict, Forbidden, Invalid, merge, pipeline
from zarts.domain.duplicates import client_duplicates, lead_duplicates
from zarts.domain.messaging import post_staff_message
from zarts.extensions import db
from zarts.models import Event, Lead, Message, Project, Task, User, today
from zarts.workspace import queries

DUE = today() + timedelta(days=3)


def pair(make, owner=None, **dup):
    owner = owner or make.user("growth_ops")
    survivor = make.lead(owner=owner, company="Acme GmbH", contact_email="ana@acme.de", contact_phone=None)
    duplicate = make.lead(
        owner=owner, company="ACME", contact_email="ana@acme.de", contact_phone="+49 30 1234", **dup
    )
    return survivor, duplicate


def timeline_lead_ids(lead):
    events, _ = queries.lead_events(db.session, lead.id, None, 200)
    return events


def test_both_histories_show_on_the_survivors_timeline_and_the_duplicate_is_closed(make, journey):
    survivor, duplicate = pair(make)
    journey.to(duplicate, "qualified")  # the duplicate has a history of its own
    pipeline.update_lead(db.session, survivor, survivor.owner, None, pain_points="Slow follow-up")
    before_dup = {e.id for e in db.session.scalars(sa.select(Event).where(Event.lead_id == duplicate.id))}
    assert before_dup

    merge.merge_leads(
        db.session,
        survivor,
        duplicate,
        survivor.owner,
        survivor.version,
        duplicate.version,
        {"contact_phone": "duplicate", "company": "survivor"},
    )

    shown = {e.id for e in timeline_lead_ids(survivor)}
    assert before_dup <= shown  # the duplicate's events, read where they were written
    own = {e.id for e in db.session.scalars(sa.select(Event).where(Event.lead_id == survivor.id))}
    assert own <= shown
    merged = [e for e in timeline_lead_ids(survivor) if e.kind == "merged"]
    assert {e.lead_id for e in merged} == {survivor.id, duplicate.id}
    mine = next(e for e in merged if e.lead_id == survivor.id)
    assert mine.payload["absorbed_id"] == duplicate.id and "contact_phone" in mine.payload["fields_taken"]
    assert mine.actor_id == survivor.owner_id
    theirs = next(e for e in merged if e.lead_id == duplicate.id)
    assert theirs.payload["merged_into_id"] == survivor.id

    assert survivor.contact_phone == "+49 30 1234" and survivor.company == "Acme GmbH"
    assert (duplicate.stage, duplicate.lost_reason, duplicate.reactivation_never) == (
        "lost",
        "duplicate",
        True,
    )
    assert duplicate.merged_into_id == survivor.id
    # the merged lead is offered as a duplicate no more
    assert [m.record.id for m in lead_duplicates(db.session, contact_email="ana@acme.de")] == [survivor.id]


def test_tasks_and_messages_move_and_the_duplicates_own_promises_close(make):
    client = make.client()
    survivor, duplicate = pair(make, client_id=client.id)
    handmade = Task(
        kind="follow_up",
        title="Send the case study",
        owner_id=duplicate.owner_id,
        due=DUE,
        lead_id=duplicate.id,
    )
    db.session.add(handmade)
    pipeline.set_next_action(db.session, duplicate, duplicate.owner, None, "Call Ana", DUE)
    next_action = db.session.scalar(sa.select(Task).where(Task.key == f"lead:{duplicate.id}:next_action"))
    post_staff_message(
        db.session, duplicate.owner, client=client, subject="Hello", body="Nice to meet", lead=duplicate
    )
    db.session.flush()

    merge.merge_leads(db.session, survivor, duplicate, survivor.owner, None, None)

    assert handmade.lead_id == survivor.id and handmade.done_at is None
    assert next_action.lead_id == duplicate.id and next_action.done_at is not None
    assert f"merged into lead #{survivor.id}" in next_action.notes
    assert db.session.scalar(sa.select(sa.func.count()).where(Message.lead_id == duplicate.id)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).where(Message.lead_id == survivor.id)) == 1
    page = queries.lead_page(db.session, survivor.id)
    assert handmade in page.tasks and len(page.messages) == 1
    assert survivor.client_id == client.id  # the survivor had none: it takes the duplicate's


def test_blank_survivor_fields_take_the_duplicates_value_by_default(make):
    survivor, duplicate = pair(make, pain_points="Leads go cold")
    diffs = {d.name: d for d in merge.lead_differences(survivor, duplicate)}
    assert diffs["pain_points"].default == "duplicate" and diffs["company"].default == "survivor"
    merge.merge_leads(db.session, survivor, duplicate, survivor.owner, None, None)
    assert survivor.pain_points == "Leads go cold" and survivor.company == "Acme GmbH"
    change = db.session.scalar(
        sa.select(Event).where(Event.lead_id == survivor.id, Event.kind == "fields_changed")
    )
    assert change.payload["via"] == "merge"


def test_a_merge_of_a_merge_keeps_every_history_under_the_last_survivor(make):
    owner = make.user("growth_ops")
    a, b = pair(make, owner)
    c = make.lead(owner=owner)
    merge.merge_leads(db.session, b, a, owner, None, None)
    merge.merge_leads(db.session, c, b, owner, None, None)
    shown = {e.lead_id for e in timeline_lead_ids(c)}
    assert shown == {a.id, b.id, c.id}
    assert a.merged_into_id == c.id  # its page links to the last survivor
    assert [lead.id for lead in merge.absorbed_leads(db.session, c.id)] == [a.id, b.id]


def test_refusals_change_nothing(make, journey):
    owner = make.user("growth_ops")
    survivor, duplicate = pair(make, owner)
    with pytest.raises(Invalid, match="itself"):
        merge.merge_leads(db.session, survivor, survivor, owner, None, None)
    with pytest.raises(Conflict):
        merge.merge_leads(db.session, survivor, duplicate, owner, survivor.version, duplicate.version + 1)
    with pytest.raises(Forbidden):
        merge.merge_leads(db.session, survivor, duplicate, make.user("growth_ops"), None, None)
    someone_elses = make.lead(owner=make.user("growth_ops"))
    with pytest.raises(Forbidden):
        merge.merge_leads(db.session, survivor, someone_elses, owner, None, None)
    with pytest.raises(Invalid, match="survives"):
        merge.merge_leads(db.session, survivor, duplicate, owner, None, None, {"company": "both"})
    assert duplicate.merged_into_id is None and duplicate.stage == "new"

    merge.merge_leads(db.session, survivor, duplicate, owner, None, None)
    other = make.lead(owner=owner)
    with pytest.raises(Invalid, match="already merged"):
        merge.merge_leads(db.session, duplicate, other, owner, None, None)  # into a merged lead
    with pytest.raises(Invalid, match="already merged"):
        merge.merge_leads(db.session, other, duplicate, owner, None, None)


def test_a_won_lead_cannot_be_the_duplicate(make, journey):
    owner = make.user("growth_ops")
    won = journey.to(make.lead(owner=owner, client_id=make.client().id), "won")
    other = make.lead(owner=owner)
    with pytest.raises(Invalid, match="won"):
        merge.merge_leads(db.session, other, won, owner, None, None)
    assert won.stage == "won" and won.merged_into_id is None
    merge.merge_leads(db.session, won, other, owner, None, None)  # the other way round is fine
    assert other.merged_into_id == won.id and won.stage == "won"


def test_an_admin_merges_leads_of_two_owners(make):
    survivor = make.lead(owner=make.user("growth_ops"))
    duplicate = make.lead(owner=make.user("growth_ops"))
    merge.merge_leads(db.session, survivor, duplicate, make.user("admin"), None, None)
    assert duplicate.merged_into_id == survivor.id


def test_merging_clients_repoints_leads_projects_contacts_and_records_it(make, journey):
    owner = make.user("growth_ops")
    survivor = make.client("Acme GmbH", owner_id=owner.id)
    duplicate = make.client("ACME", owner_id=owner.id, domain="acme.de", notes="Met at the fair")
    contact = make.user("client", client=duplicate)
    lead = make.lead(owner=owner, client_id=duplicate.id)
    project = Project(name="SEO", client_id=duplicate.id, lead_id=make.lead(owner=owner).id, service="seo")
    db.session.add(project)
    db.session.flush()
    assert [m.record.id for m in client_duplicates(db.session, name="Acme")] == [duplicate.id, survivor.id]

    merge.merge_clients(
        db.session, survivor, duplicate, owner, survivor.version, duplicate.version, {"domain": "duplicate"}
    )

    assert lead.client_id == survivor.id and project.client_id == survivor.id
    assert db.session.get(User, contact.id).client_id == survivor.id  # the portal now shows the survivor
    assert survivor.domain == "acme.de" and survivor.name == "Acme GmbH"
    assert duplicate.merged_into_id == survivor.id and owner.name in duplicate.notes
    event = db.session.scalar(sa.select(Event).where(Event.lead_id == lead.id, Event.kind == "merged"))
    assert event.payload["client_merged_into"] == survivor.id and event.actor_id == owner.id
    assert [m.record.id for m in client_duplicates(db.session, name="Acme")] == [survivor.id]


def test_client_merge_refusals(make):
    owner = make.user("growth_ops")
    a, b = make.client("Beta", owner_id=owner.id), make.client("Beta Ltd", owner_id=owner.id)
    with pytest.raises(Invalid):
        merge.merge_clients(db.session, a, a, owner, None, None)
    with pytest.raises(Forbidden):
        merge.merge_clients(db.session, a, b, make.user("delivery"), None, None)
    with pytest.raises(Forbidden):
        merge.merge_clients(
            db.session, a, make.client("Gamma", owner_id=make.user("growth_ops").id), owner, None, None
        )
    with pytest.raises(Conflict):
        merge.merge_clients(db.session, a, b, owner, a.version + 1, None)
    merge.merge_clients(db.session, a, b, owner, None, None)
    with pytest.raises(Invalid, match="already merged"):
        merge.merge_clients(db.session, b, a, owner, None, None)


def test_the_timeline_query_works_on_postgresql(pg_app, make):
    owner = make.user("growth_ops")
    survivor, duplicate = pair(make, owner)
    pipeline.set_next_action(db.session, duplicate, owner, None, "Call", DUE)
    merge.merge_leads(db.session, survivor, duplicate, owner, None, None)
    db.session.commit()
    assert {e.lead_id for e in timeline_lead_ids(survivor)} == {survivor.id, duplicate.id}
    assert db.session.get(Lead, duplicate.id).merged_into_id == survivor.id
