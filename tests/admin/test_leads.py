"""The leads view: never deleted, and the stage moves only through the domain layer."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.admin.conftest import flashes, form_fields, settle
from tests.admin.test_actions import submit
from zarts.extensions import db
from zarts.models import Event, Lead, today


@pytest.mark.parametrize(
    "form_url,versioned", [("/admin/leads/new/", False), ("/admin/leads/edit/?id={id}", True)]
)
def test_stage_and_its_dates_are_not_in_the_lead_forms(form_url, versioned, client, auth, make):
    auth.login_as(make.user("admin"))
    lead_id = make.lead().id
    settle()
    fields = form_fields(client.get(form_url.format(id=lead_id)).get_data(as_text=True))
    assert {"title", "company", "owner", "next_action_due"} <= set(fields)
    assert not {"stage", "won_at", "lost_at", "paused_at", "created_at", "updated_at"} & set(fields)
    assert ("version" in fields) is versioned


def test_a_posted_stage_is_ignored(client, auth, make):
    auth.login_as(make.user("admin"))
    lead_id = make.lead().id
    settle()
    form = form_fields(client.get(f"/admin/leads/edit/?id={lead_id}").get_data(as_text=True))

    resp = auth.post(f"/admin/leads/edit/?id={lead_id}", form | {"stage": "won", "title": "Renamed"})

    assert resp.status_code == 302
    settle()
    lead = db.session.get(Lead, lead_id)
    assert (lead.title, lead.stage) == ("Renamed", "new")


def test_a_new_lead_starts_at_new_whatever_is_posted(client, auth, make):
    admin = auth.login_as(make.user("admin"))
    admin_id = admin.id
    settle()
    form = form_fields(client.get("/admin/leads/new/").get_data(as_text=True))
    form |= {"title": "Roof repairs", "company": "Acme", "owner": str(admin_id), "stage": "won"}

    resp = auth.post("/admin/leads/new/", form)

    assert resp.status_code == 302
    lead = db.session.execute(db.select(Lead).filter_by(company="Acme")).scalar_one()
    assert (lead.stage, lead.owner_id, lead.version) == ("new", admin_id, 1)


def test_no_one_can_delete_a_lead_not_even_an_admin(client, auth, make):
    auth.login_as(make.user("admin"))
    lead_id = make.lead().id
    settle()

    single = auth.post("/admin/leads/delete/", {"id": str(lead_id)})
    bulk = auth.post("/admin/leads/action/", {"action": "delete", "rowid": str(lead_id)})
    page = client.get("/admin/leads/").get_data(as_text=True)

    assert single.status_code == 403
    assert bulk.status_code == 302
    assert db.session.get(Lead, lead_id) is not None
    assert 'action="/admin/leads/delete/"' not in page and "modelActions.execute('delete')" not in page


def test_the_lead_edit_form_cannot_set_loss_pause_or_stage(client, auth, make):
    """Loss, pause and stage have their own domain acts, so the edit form has no field for them."""
    from zarts.extensions import db

    lead = make.lead()
    auth.login_as(make.user("admin"))
    db.session.commit()
    page = client.get(f"/admin/leads/edit/?id={lead.id}").get_data(as_text=True)
    for name in ("lost_reason", "reactivation_date", "reactivation_never", "pause_note", "stage"):
        assert f'name="{name}"' not in page, name


# ---------------------------------------------------------------- one way in (issue 16)


def edit_form(client, lead_id) -> dict[str, str]:
    return form_fields(client.get(f"/admin/leads/edit/?id={lead_id}").get_data(as_text=True))


def kinds(lead_id) -> list[str]:
    return list(db.session.scalars(sa.select(Event.kind).where(Event.lead_id == lead_id).order_by(Event.id)))


def test_the_edit_form_shows_the_owner_and_a_posted_owner_changes_nothing(client, auth, make):
    """Replays issue 16: the owner field of the edit form set `owner` directly, with no event."""
    auth.login_as(make.user("admin"))
    lead = make.lead(owner=make.user("growth_ops", name="Olga Owner"), title="Roof")
    lead_id, owner_id, other_id = lead.id, lead.owner_id, make.user("growth_ops").id
    settle()
    page = client.get(f"/admin/leads/edit/?id={lead_id}").get_data(as_text=True)
    owner_input = re.search(r'<input[^>]*name="owner"[^>]*>', page).group(0)
    assert "readonly" in owner_input and "Olga Owner" in owner_input and "Reassign…" in page

    resp = auth.post(
        f"/admin/leads/edit/?id={lead_id}",
        edit_form(client, lead_id) | {"owner": str(other_id), "title": "Roof repairs"},
    )

    assert resp.status_code == 302
    settle()
    lead = db.session.get(Lead, lead_id)
    assert (lead.owner_id, lead.title) == (owner_id, "Roof repairs")
    event = db.session.scalars(sa.select(Event).where(Event.lead_id == lead_id)).one()
    assert (event.kind, event.payload["via"]) == ("fields_changed", "admin")
    assert event.payload["changes"] == [{"field": "title", "old": "Roof", "new": "Roof repairs"}]


def test_growth_ops_cannot_edit_another_owners_lead_in_the_admin(client, auth, make):
    """Replays issue 16: any growth-ops user set themselves as owner in the edit form, then moved it."""
    lead_id = make.lead(company="Acme").id
    me = auth.login_as(make.user("growth_ops"))
    me_id = me.id
    settle()

    resp = auth.post(
        f"/admin/leads/edit/?id={lead_id}",
        edit_form(client, lead_id) | {"owner": str(me_id), "company": "Mine"},
    )

    assert resp.status_code == 200
    assert flashes(resp.get_data(as_text=True)) == [
        "Not saved: Only the owner of this opportunity (or an admin) can edit opportunities."
    ]
    settle()
    lead = db.session.get(Lead, lead_id)
    assert (lead.company, lead.owner_id != me_id, lead.version, kinds(lead_id)) == ("Acme", True, 1, [])


def test_consent_withdrawn_in_the_admin_pauses_the_lead_with_its_events(client, auth, make):
    """Replays issue 16: withdrawing consent in the admin form neither paused the lead nor wrote an event."""
    owner = auth.login_as(make.user("growth_ops"))
    lead_id = make.lead(owner=owner).id
    settle()

    resp = auth.post(
        f"/admin/leads/edit/?id={lead_id}", edit_form(client, lead_id) | {"consent": "withdrawn"}
    )

    assert resp.status_code == 302
    settle()
    lead = db.session.get(Lead, lead_id)
    assert (lead.consent, lead.pause_reason, lead.is_paused) == ("withdrawn", "consent", True)
    assert kinds(lead_id) == ["fields_changed", "paused"]


def test_the_next_action_of_the_edit_form_is_set_through_the_domain(client, auth, make):
    owner = auth.login_as(make.user("growth_ops"))
    lead_id = make.lead(owner=owner, next_action="Call").id
    settle()
    past = (today() - timedelta(days=1)).isoformat()

    refused = auth.post(
        f"/admin/leads/edit/?id={lead_id}",
        edit_form(client, lead_id)
        | {"next_action": "Send the audit", "next_action_due": past, "title": "Renamed"},
    )
    soon = today() + timedelta(days=4)
    saved = auth.post(
        f"/admin/leads/edit/?id={lead_id}",
        edit_form(client, lead_id) | {"next_action": "Send the audit", "next_action_due": soon.isoformat()},
    )

    assert "Not saved: The due date cannot be in the past." in flashes(refused.get_data(as_text=True))
    assert saved.status_code == 302
    settle()
    lead = db.session.get(Lead, lead_id)
    assert (lead.title != "Renamed", lead.next_action, lead.next_action_due) == (True, "Send the audit", soon)
    assert kinds(lead_id) == ["next_action_set"]


def test_decision_deadline_and_client_are_shown_not_taken(client, auth, make):
    auth.login_as(make.user("admin"))
    lead_id = make.lead().id
    client_id = make.client().id
    settle()
    form = edit_form(client, lead_id)

    auth.post(
        f"/admin/leads/edit/?id={lead_id}",
        form | {"client": str(client_id), "decision_deadline": "2031-01-01"},
    )

    settle()
    lead = db.session.get(Lead, lead_id)
    assert (lead.client_id, lead.decision_deadline, kinds(lead_id)) == (None, None, [])


@pytest.mark.parametrize("by", ["admin", "owner"])
def test_reassign_from_the_list_hands_the_lead_over_with_an_event(by, client, auth, make):
    owner = make.user("growth_ops", name="Olga Owner")
    new_id = make.user("growth_ops", name="Nina New").id
    lead_id = make.lead(owner=owner).id
    auth.login_as(make.user("admin") if by == "admin" else owner)
    settle()

    shown = submit(client, auth, "leads", "reassign", [lead_id], owner=str(new_id), note="Holiday cover")

    assert shown == [f"Lead {lead_id}: now owned by Nina New."]
    settle()
    assert db.session.get(Lead, lead_id).owner_id == new_id
    event = db.session.scalars(sa.select(Event).where(Event.lead_id == lead_id)).one()
    assert (event.kind, event.payload["from_name"], event.payload["to_name"], event.payload["note"]) == (
        "reassigned",
        "Olga Owner",
        "Nina New",
        "Holiday cover",
    )


def test_another_growth_ops_user_cannot_reassign_a_lead(client, auth, make):
    lead_id = make.lead().id
    me = auth.login_as(make.user("growth_ops"))
    me_id = me.id
    settle()
    owner_id = db.session.get(Lead, lead_id).owner_id

    shown = submit(client, auth, "leads", "reassign", [lead_id], owner=str(me_id))

    assert shown == [f"Lead {lead_id}: Only the owner of this opportunity (or an admin) can reassign it."]
    settle()
    assert (db.session.get(Lead, lead_id).owner_id, kinds(lead_id)) == (owner_id, [])


def test_growth_ops_create_leads_they_own_and_only_admins_create_for_others(client, auth, make):
    other_id = make.user("growth_ops").id
    me = auth.login_as(make.user("growth_ops"))
    me_id = me.id
    settle()
    form = form_fields(client.get("/admin/leads/new/").get_data(as_text=True)) | {
        "title": "Roof",
        "company": "Acme",
        "source": "website",
        "service": "seo",
    }

    refused = auth.post("/admin/leads/new/", form | {"owner": str(other_id)})
    mine = auth.post("/admin/leads/new/", form | {"owner": ""})

    assert "Not saved: Only an admin can create an opportunity for someone else." in flashes(
        refused.get_data(as_text=True)
    )
    assert mine.status_code == 302
    settle()
    assert [lead.owner_id for lead in db.session.scalars(sa.select(Lead))] == [me_id]
