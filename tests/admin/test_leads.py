"""The leads view: never deleted, and the stage moves only through the domain layer."""

from __future__ import annotations

import pytest

from tests.admin.conftest import form_fields, settle
from zarts.extensions import db
from zarts.models import Lead


@pytest.mark.parametrize("form_url,versioned", [("/admin/leads/new/", False),
                                                 ("/admin/leads/edit/?id={id}", True)])
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
    from zarts.models import Lead

    lead = make.lead()
    auth.login_as(make.user("admin"))
    db.session.commit()
    page = client.get(f"/admin/leads/edit/?id={lead.id}").get_data(as_text=True)
    for name in ("lost_reason", "reactivation_date", "reactivation_never", "pause_note", "stage"):
        assert f'name="{name}"' not in page, name
