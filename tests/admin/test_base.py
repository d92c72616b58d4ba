"""The secured base view: constant-cost list pages that still page, forms without full dropdowns,
look-ups that stay small, and refusals that read as sentences instead of a 500."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from wtforms.fields import SelectFieldBase

from tests.admin.conftest import flashes, form_fields, settle
from tests.admin.rows import TABLES, add_row, add_rows
from zarts.admin import VIEWS
from zarts.extensions import db
from zarts.models import Lead, User


def list_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<td class="col-id">\s*(\d+)\s*</td>', html)]


def measure_list(client, count_queries, table):
    settle()
    with count_queries() as q:
        resp = client.get(f"/admin/{table}/")
    assert resp.status_code == 200
    return q, resp.get_data(as_text=True)


def assert_constant_list_cost(table, client, auth, make, count_queries):
    auth.login_as(make.user("admin"))
    add_rows(table, 10)
    small, _ = measure_list(client, count_queries, table)
    add_rows(table, 490)
    large, html = measure_list(client, count_queries, table)

    assert large.count == small.count, "\n".join(large.statements)
    assert len(list_ids(html)) == 20  # one page of the 500 (or 501 users)
    assert not any(re.search(r"count\(", s, re.IGNORECASE) for s in large.statements), (
        "exact count(*) per page"
    )


@pytest.mark.parametrize("table", TABLES)
def test_a_list_page_costs_the_same_queries_for_10_and_500_rows(table, client, auth, make, count_queries):
    assert_constant_list_cost(table, client, auth, make, count_queries)


@pytest.mark.pg
@pytest.mark.parametrize("table", ["leads", "tasks", "projects", "approvals", "events", "report_notes"])
def test_a_list_page_costs_the_same_queries_on_postgresql(table, pg_client, pg_auth, make, count_queries):
    assert_constant_list_cost(table, pg_client, pg_auth, make, count_queries)


def test_the_list_pages_without_counting_and_without_gaps(client, auth, make):
    auth.login_as(make.user("admin"))
    ids = [r.id for r in add_rows("leads", 45)]
    settle()

    pages = [client.get(f"/admin/leads/?page={p}").get_data(as_text=True) for p in range(3)]

    seen = [list_ids(page) for page in pages]
    assert [len(ids) for ids in seen] == [20, 20, 5]
    assert sorted(i for page in seen for i in page) == sorted(ids)  # newest first, each row once
    assert seen[0][0] == max(ids)
    assert 'href="/admin/leads/?page=1&amp;page_size=20"' in pages[0]  # a "next" link, no page count
    assert "?page=3" not in pages[2]


def test_sorting_by_a_repeated_value_still_pages_every_row_once(client, auth, make):
    auth.login_as(make.user("admin"))
    ids = [r.id for r in add_rows("tasks", 30)]  # all due today
    settle()
    due_column = 4  # position of "due" in TaskView.column_list (id, title, kind, owner, due, …)

    pages = [
        list_ids(client.get(f"/admin/tasks/?sort={due_column}&page={p}").get_data(as_text=True))
        for p in range(2)
    ]

    assert sorted(pages[0] + pages[1]) == sorted(ids)


@pytest.mark.parametrize("page", ["-3", "100000"])
def test_out_of_range_pages_are_brought_back_in_range(page, client, auth, make):
    auth.login_as(make.user("admin"))
    add_rows("leads", 3)
    settle()
    resp = client.get(f"/admin/leads/?page={page}")
    assert resp.status_code == 200
    if page.startswith("-"):
        assert len(list_ids(resp.get_data(as_text=True))) == 3
    else:
        assert any("search or filter" in m for m in flashes(resp.get_data(as_text=True)))


@pytest.mark.parametrize("bad_id", ["abc", "99999999999999999999999", "-1", "0"])
def test_an_edit_link_with_a_bad_id_says_the_record_does_not_exist(bad_id, client, auth, make):
    auth.login_as(make.user("admin"))
    db.session.commit()
    resp = client.get(f"/admin/leads/edit/?id={bad_id}", follow_redirects=True)
    assert resp.status_code == 200
    assert "Record does not exist." in flashes(resp.get_data(as_text=True))


@pytest.mark.parametrize("view_class,model", [(v, m) for v, m, _, _ in VIEWS])
def test_no_form_offers_a_dropdown_of_a_whole_table(view_class, model, app):
    view = next(v for v in app.extensions["admin"][0]._views if isinstance(v, view_class))
    for form_class in (view._create_form_class, view._edit_form_class):
        form = form_class()
        for field in form:
            loads_rows = isinstance(field, SelectFieldBase) and hasattr(field, "query_factory")
            assert not loads_rows, f"{model.__tablename__}.{field.name} lists every row: use form_ajax_refs"


def test_a_relationship_look_up_returns_a_few_matching_staff(client, auth, make):
    auth.login_as(make.user("admin"))
    for i in range(30):
        make.user("growth_ops", name=f"Findme {i}")
    make.user("client", name="Findme the client contact")
    db.session.commit()

    resp = client.get("/admin/leads/ajax/lookup/?name=owner&query=Findme&limit=1000")

    found = json.loads(resp.get_data(as_text=True))
    assert resp.status_code == 200 and len(found) == 20
    assert all("client contact" not in label for _, label in found)


def test_a_broken_rule_on_create_is_a_message_and_nothing_is_saved(client, auth, make):
    auth.login_as(make.user("admin"))
    db.session.commit()

    resp = auth.post(
        "/admin/users/new/",
        {"email": "contact@acme.test", "name": "No client", "role": "client", "active": "y"},
    )

    assert resp.status_code == 200
    assert "Not saved: A client contact belongs to exactly one client; staff belong to none." in flashes(
        resp.get_data(as_text=True)
    )
    assert db.session.execute(db.select(User).filter_by(email="contact@acme.test")).scalar() is None
    assert client.get("/admin/users/").status_code == 200  # the session was rolled back


def test_a_broken_rule_on_edit_is_a_message_and_the_row_is_unchanged(client, auth, make):
    auth.login_as(make.user("admin"))
    lead_id = make.lead(probability=20).id
    settle()
    data = form_fields(client.get(f"/admin/leads/edit/?id={lead_id}").get_data(as_text=True))
    data.update(probability="150", title="Renamed")

    resp = auth.post(f"/admin/leads/edit/?id={lead_id}", data)

    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Not saved: Probability must be between 0 and 100." in flashes(html)  # the domain's words
    assert re.search(
        r'id="probability"[^>]*>\s*<div class="invalid-feedback">\s*<ul[^>]*>\s*'
        r"<li>Probability must be between 0 and 100.",
        html,
    )  # and on its field
    settle()
    lead = db.session.get(Lead, lead_id)
    assert lead.title != "Renamed" and (lead.probability, lead.version) == (20, 1)


def test_a_rule_of_the_database_on_a_stock_form_is_a_message_and_nothing_is_saved(client, auth, make):
    """The users table keeps Flask-Admin's own writes (raw_writes): a client contact without a client
    breaks the database's rule, which is said in words."""
    auth.login_as(make.user("admin"))
    settle()

    resp = auth.post(
        "/admin/users/new/", {"email": "loose@example.test", "name": "Loose", "role": "client", "active": "y"}
    )

    assert resp.status_code == 200
    assert any(f.startswith("Not saved:") for f in flashes(resp.get_data(as_text=True)))
    settle()
    assert db.session.scalar(sa.select(User).where(User.email == "loose@example.test")) is None


def test_a_duplicate_is_shown_on_its_field(client, auth, make):
    auth.login_as(make.user("admin"))
    taken = make.user("growth_ops").email
    db.session.commit()

    resp = auth.post(
        "/admin/users/new/", {"email": taken, "name": "Twin", "role": "growth_ops", "active": "y"}
    )

    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Failed to create record." in flashes(html)
    assert re.search(
        r'id="email"[^>]*>\s*<div class="invalid-feedback">\s*<ul[^>]*>\s*<li>Already exists.', html
    )
    assert (
        db.session.execute(db.select(db.func.count()).select_from(User).filter_by(email=taken)).scalar() == 1
    )


def test_a_row_appears_in_the_list_after_it_is_created_through_the_form(client, auth, make):
    admin = auth.login_as(make.user("admin"))
    admin_id = admin.id
    settle()

    resp = auth.post(
        "/admin/clients/new/",
        {"name": "Acme Rooftops", "status": "onboarding", "report_cadence": "weekly", "owner": str(admin_id)},
    )

    assert resp.status_code == 302
    assert "Acme Rooftops" in client.get("/admin/clients/").get_data(as_text=True)


@pytest.mark.parametrize("table", TABLES)
def test_an_admin_can_open_every_list_and_create_form(table, client, auth, make):
    auth.login_as(make.user("admin"))
    add_row(table)
    settle()
    assert client.get(f"/admin/{table}/").status_code == 200
    view = {m.__tablename__: v for v, m, _, _ in VIEWS}[table]
    if "create" in view.rights_limit:
        assert client.get(f"/admin/{table}/new/").status_code == 200


def test_admin_scripts_carry_the_nonce_the_policy_allows(client, auth, make):
    auth.login_as(make.user("admin"))
    lead_id = make.lead().id
    settle()
    for url in ("/admin/", "/admin/leads/", "/admin/leads/new/", f"/admin/leads/edit/?id={lead_id}"):
        resp = client.get(url)
        nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", resp.headers["Content-Security-Policy"])
        scripts = re.findall(r"<script\b[^>]*>", resp.get_data(as_text=True))
        assert nonce and scripts, url
        assert all(f'nonce="{nonce.group(1)}"' in tag for tag in scripts), url
