"""The admin's create forms warn of a likely duplicate (zarts.domain.duplicates): the first save shows
the matches, each a link, and saves nothing; "Create anyway" and a second save create the record."""

from __future__ import annotations

import sqlalchemy as sa

from tests.admin.conftest import flashes, form_fields, settle
from zarts.extensions import db
from zarts.models import Client, Lead


def test_a_new_lead_like_an_existing_one_needs_a_confirmation(client, auth, make):
    admin = auth.login_as(make.user("admin"))
    existing = make.lead(owner=admin, company="Acme GmbH", contact_email="ana@acme.de")
    existing_id = existing.id
    settle()
    form = form_fields(client.get("/admin/leads/new/").get_data(as_text=True))
    assert "create_anyway" not in form  # offered unticked
    form |= {
        "title": "Roof repairs",
        "company": "ACME",
        "contact_email": "bob@acme.de",
        "source": "website",
        "service": "seo",
    }

    first = auth.post("/admin/leads/new/", form)
    page = first.get_data(as_text=True)
    assert first.status_code == 200  # the form again, as typed
    assert any("looks like a record already kept" in f and f"lead #{existing_id}" in f for f in flashes(page))
    assert f'href="/workspace/leads/{existing_id}"' in page  # a link to the likely duplicate
    assert "same email domain" in page and "Create anyway" in page
    settle()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == 1

    second = auth.post("/admin/leads/new/", form | {"create_anyway": "y"})
    assert second.status_code == 302
    settle()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == 2


def test_a_lead_without_a_likely_duplicate_saves_at_once(client, auth, make):
    admin = auth.login_as(make.user("admin"))
    make.lead(owner=admin, company="Acme GmbH", contact_email="ana@acme.de")
    settle()
    form = form_fields(client.get("/admin/leads/new/").get_data(as_text=True))
    form |= {
        "title": "Roof",
        "company": "Initech",
        "contact_email": "peter@gmail.com",
        "source": "website",
        "service": "seo",
    }
    assert auth.post("/admin/leads/new/", form).status_code == 302


def test_a_new_client_like_an_existing_one_needs_a_confirmation(client, auth, make):
    auth.login_as(make.user("admin"))
    existing_id = make.client("Northwind Traders Ltd").id
    settle()
    form = form_fields(client.get("/admin/clients/new/").get_data(as_text=True)) | {
        "name": "Northwind Traders"
    }

    first = auth.post("/admin/clients/new/", form)
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and any(f"client #{existing_id}" in f for f in flashes(page))
    assert f"/workspace/merge/clients?survivor={existing_id}" in page  # or merge into it later
    settle()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 1

    assert auth.post("/admin/clients/new/", form | {"create_anyway": "y"}).status_code == 302
    settle()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 2


def test_merged_records_leave_the_admin_lists(client, auth, make):
    from zarts.domain import merge

    admin = auth.login_as(make.user("admin"))
    survivor, duplicate = (
        make.lead(owner=admin, title="Kept lead"),
        make.lead(owner=admin, title="Merged lead"),
    )
    merge.merge_leads(db.session, survivor, duplicate, admin, None, None)
    keep, dup = make.client("Kept client"), make.client("Merged client")
    merge.merge_clients(db.session, keep, dup, admin, None, None)
    settle()
    leads = client.get("/admin/leads/").get_data(as_text=True)
    assert "Kept lead" in leads and "Merged lead" not in leads
    assert "Merged lead" in client.get("/admin/leads/?merged=1").get_data(as_text=True)
    clients = client.get("/admin/clients/").get_data(as_text=True)
    assert "Kept client" in clients and "Merged client" not in clients
