"""Optimistic locking in admin edit forms: a save made from an outdated form is refused, not merged."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from tests.admin.conftest import flashes, form_fields, settle
from zarts.admin.errors import MISSING_VERSION
from zarts.extensions import db
from zarts.models import Lead

# A lead is saved through zarts.domain, which refuses an outdated save in its own words.
CHANGED_MEANWHILE = (
    "was changed by someone else since you opened it. Review the current version and try again."
)


def open_edit_form(client, lead_id) -> dict[str, str]:
    return form_fields(client.get(f"/admin/leads/edit/?id={lead_id}").get_data(as_text=True))


def test_the_edit_form_carries_the_row_version(client, auth, make):
    auth.login_as(make.user("admin"))
    lead_id = make.lead().id
    settle()
    assert open_edit_form(client, lead_id)["version"] == "1"


def test_a_save_with_the_current_version_goes_through_and_bumps_it(client, auth, make):
    auth.login_as(make.user("admin"))
    lead_id = make.lead().id
    settle()
    form = open_edit_form(client, lead_id) | {"company": "Acme Roofing Ltd"}

    resp = auth.post(f"/admin/leads/edit/?id={lead_id}", form)

    assert resp.status_code == 302
    settle()
    lead = db.session.get(Lead, lead_id)
    assert (lead.company, lead.version) == ("Acme Roofing Ltd", 2)


def test_a_save_from_a_form_opened_before_another_save_is_refused(client, auth, make):
    assert_outdated_form_refused(client, auth, make)


@pytest.mark.pg
def test_a_save_from_an_outdated_form_is_refused_on_postgresql(pg_client, pg_auth, make):
    assert_outdated_form_refused(pg_client, pg_auth, make)


def assert_outdated_form_refused(client, auth, make):
    auth.login_as(make.user("admin"))
    lead_id = make.lead(company="Acme").id
    settle()
    mine = open_edit_form(client, lead_id) | {"company": "Mine", "title": "My title"}
    theirs = db.session.get(Lead, lead_id)
    theirs.next_action = "Their next action"  # someone else saves first
    settle()

    resp = auth.post(f"/admin/leads/edit/?id={lead_id}", mine)

    assert resp.status_code == 200
    assert [f for f in flashes(resp.get_data(as_text=True)) if CHANGED_MEANWHILE in f]
    settle()
    lead = db.session.get(Lead, lead_id)
    assert (lead.company, lead.next_action, lead.version) == ("Acme", "Their next action", 2)


def test_a_save_racing_another_between_read_and_write_is_refused(client, auth, make):
    """The form's version matches what the request read, but another writer commits before our UPDATE:
    SQLAlchemy's version check (StaleDataError) refuses it."""
    assert_race_refused(client, auth, make)


@pytest.mark.pg
def test_a_racing_save_is_refused_on_postgresql(pg_client, pg_auth, make):
    assert_race_refused(pg_client, pg_auth, make)


def assert_race_refused(client, auth, make):
    auth.login_as(make.user("admin"))
    lead_id = make.lead(company="Acme").id
    settle()
    mine = open_edit_form(client, lead_id) | {"company": "Mine"}
    db.session.execute(sa.update(Lead).where(Lead.id == lead_id).values(company="Theirs", version=2))
    db.session.commit()
    lead = db.session.get(Lead, lead_id)
    set_committed_value(lead, "version", 1)  # what our request had read before their commit
    set_committed_value(lead, "company", "Acme")

    resp = auth.post(f"/admin/leads/edit/?id={lead_id}", mine)

    assert resp.status_code == 200
    assert [f for f in flashes(resp.get_data(as_text=True)) if CHANGED_MEANWHILE in f]
    settle()
    lead = db.session.get(Lead, lead_id)
    assert (lead.company, lead.version) == ("Theirs", 2)


def test_a_save_without_a_version_is_refused(client, auth, make):
    auth.login_as(make.user("admin"))
    lead_id = make.lead(company="Acme").id
    settle()
    form = open_edit_form(client, lead_id) | {"company": "Mine"}
    del form["version"]

    resp = auth.post(f"/admin/leads/edit/?id={lead_id}", form)

    assert MISSING_VERSION in flashes(resp.get_data(as_text=True))
    settle()
    assert db.session.get(Lead, lead_id).company == "Acme"


def test_rows_without_a_version_are_edited_normally(client, auth, make, journey):
    auth.login_as(make.user("admin"))
    item = journey.draft(journey.to(make.lead(), "proposal")).items[0]  # a draft's scope item
    item_id = item.id
    settle()
    form = form_fields(client.get(f"/admin/proposal_items/edit/?id={item_id}").get_data(as_text=True))
    assert "version" not in form

    resp = auth.post(f"/admin/proposal_items/edit/?id={item_id}", form | {"title": "Renamed"})

    assert resp.status_code == 302
