"""The admin lists of leads and clients: "Merge into…" leads to the workspace's merge screen (whose
merge is zarts.domain.merge) for roles that may merge, and each client row links to its leads
without a query per row."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from tests.admin.conftest import flashes, settle
from tests.admin.test_actions import list_page, offers, run_action
from zarts.extensions import db
from zarts.models import Client, Event, Lead, User


def merge_screen(resp) -> str:
    assert resp.status_code == 302, resp.status_code
    return resp.headers["Location"]


# --- Merge into… ---------------------------------------------------------------------------------


def test_two_leads_open_the_merge_screen_and_merge_through_the_domain(client, auth, make):
    ops = make.user("growth_ops")
    older = make.lead(owner=ops, company="Acme GmbH", contact_email="ana@acme.de")
    newer = make.lead(owner=ops, company="ACME", contact_email="ana@acme.de")
    older_id, newer_id = older.id, newer.id
    auth.login_as(ops)
    settle()
    assert offers(list_page(client, "leads"), "merge")

    url = merge_screen(run_action(auth, "leads", "merge", [newer_id, older_id]))

    assert url == f"/workspace/merge/leads?survivor={older_id}&duplicate={newer_id}"
    screen = client.get(url).get_data(as_text=True)
    assert f"Merge #{newer_id} into #{older_id}" in screen and f"Keep #{newer_id} instead" in screen
    assert db.session.get(Lead, newer_id).merged_into_id is None  # nothing merged before confirming
    survivor, duplicate = db.session.get(Lead, older_id), db.session.get(Lead, newer_id)
    resp = auth.post(
        "/workspace/merge/leads",
        {
            "survivor": older_id,
            "duplicate": newer_id,
            "survivor_version": survivor.version,
            "duplicate_version": duplicate.version,
        },
    )
    assert resp.status_code == 303
    settle()
    merged = db.session.get(Lead, newer_id)
    assert (merged.merged_into_id, merged.stage, merged.lost_reason) == (older_id, "lost", "duplicate")
    assert db.session.scalar(sa.select(Event.id).where(Event.lead_id == older_id, Event.kind == "merged")), (
        "the domain's merge event"
    )


def test_one_lead_opens_the_merge_screen_to_choose_its_duplicate(client, auth, make):
    ops = make.user("growth_ops")
    lead = make.lead(owner=ops, company="Globex", contact_email="g@globex.test")
    twin = make.lead(owner=ops, company="Globex", contact_email="other@globex.test")
    lead_id, twin_id = lead.id, twin.id
    auth.login_as(ops)
    settle()

    url = merge_screen(run_action(auth, "leads", "merge", [lead_id]))

    assert url == f"/workspace/merge/leads?survivor={lead_id}"
    assert f"duplicate={twin_id}" in client.get(url).get_data(as_text=True)  # offered as a likely duplicate


@pytest.mark.parametrize("count", [0, 3])
def test_a_wrong_number_of_rows_is_refused_with_a_message(count, client, auth, make):
    ops = make.user("growth_ops")
    ids = [make.lead(owner=ops).id for _ in range(3)][:count]
    auth.login_as(ops)
    settle()

    resp = run_action(auth, "leads", "merge", ids or ["0"], follow_redirects=True)

    assert resp.status_code == 200
    assert any(
        f"Select two rows to merge one into the other, or one row to choose its duplicate on the merge "
        f"screen ({count} selected)." in message
        for message in flashes(resp.get_data(as_text=True))
    )
    settle()
    assert db.session.scalar(sa.select(sa.func.count()).where(Lead.merged_into_id.is_not(None))) == 0


def test_two_clients_open_the_client_merge_screen(client, auth, make):
    ops = make.user("growth_ops")
    keep = make.client("Northwind", owner_id=ops.id)
    dup = make.client("Northwind Ltd", owner_id=ops.id)
    keep_id, dup_id = keep.id, dup.id
    auth.login_as(ops)
    settle()
    assert offers(list_page(client, "clients"), "merge")

    url = merge_screen(run_action(auth, "clients", "merge", [dup_id, keep_id]))

    assert url == f"/workspace/merge/clients?survivor={keep_id}&duplicate={dup_id}"
    assert client.get(url).status_code == 200
    assert merge_screen(run_action(auth, "clients", "merge", [dup_id])) == (
        f"/workspace/merge/clients?survivor={dup_id}"
    )


@pytest.mark.parametrize(("role", "table"), [("approver", "leads"), ("delivery", "clients")])
def test_roles_that_may_not_merge_neither_see_nor_run_the_action(role, table, client, auth, make):
    ops = make.user("growth_ops")
    if table == "leads":
        ids = [make.lead(owner=ops).id, make.lead(owner=ops).id]
    else:
        ids = [make.client(owner_id=ops.id).id, make.client(owner_id=ops.id).id]
    auth.login_as(make.user(role))
    settle()
    page = list_page(client, table)
    assert "<table" in page and not offers(page, "merge")

    resp = run_action(auth, table, "merge", ids)

    assert "/workspace/merge/" not in resp.headers.get("Location", "")


def test_an_admin_may_merge_from_both_lists(client, auth, make):
    auth.login_as(make.user("admin"))
    make.lead()
    make.client()
    settle()
    assert offers(list_page(client, "leads"), "merge") and offers(list_page(client, "clients"), "merge")


# --- each client row links to its leads ----------------------------------------------------------


def leads_cell(page: str, client_id: int) -> str:
    """The "Leads" cell of the client's row (the row whose id cell is client_id)."""
    row = re.search(
        rf'<td class="col-id">\s*{client_id}\s*</td>.*?<td class="col-leads">\s*(.*?)\s*</td>',
        page,
        re.DOTALL,
    )
    assert row, f"no row for client {client_id}"
    return unescape(row.group(1))


def test_each_client_row_links_to_its_leads(client, auth, make):
    ops = make.user("growth_ops")
    busy, single, idle = make.client("Busy"), make.client("Single"), make.client("Idle")
    two = [make.lead(owner=ops, client_id=busy.id).id for _ in range(2)]
    gone = make.lead(owner=ops, client_id=busy.id)
    gone.merged_into_id = two[0]  # a merged lead left the leads list: not counted either
    one = make.lead(owner=ops, client_id=single.id).id
    make.lead(owner=ops)  # nobody's client
    busy_id, single_id, idle_id = busy.id, single.id, idle.id
    auth.login_as(make.user("admin"))
    settle()

    page = list_page(client, "clients")

    assert leads_cell(page, busy_id) == f'<a href="/admin/leads/?flt0_client={busy_id}">2 leads</a>'
    assert leads_cell(page, single_id) == f'<a href="/admin/leads/?flt0_client={single_id}">1 lead</a>'
    assert leads_cell(page, idle_id) == "none"
    listed = client.get(f"/admin/leads/?flt0_client={busy_id}").get_data(as_text=True)
    assert sorted(int(i) for i in re.findall(r'<td class="col-id">\s*(\d+)\s*</td>', listed)) == sorted(two)
    assert "Client #" in listed  # the filter shows, and can be removed like any other
    assert re.findall(
        r'<td class="col-id">\s*(\d+)\s*</td>',
        client.get(f"/admin/leads/?flt0_client={single_id}").get_data(as_text=True),
    ) == [str(one)]
    details = client.get(f"/admin/clients/details/?id={busy_id}").get_data(as_text=True)
    assert f'href="/admin/leads/?flt0_client={busy_id}"' in details


def test_without_the_leads_table_a_single_lead_links_to_its_workspace_page(client, auth, make):
    ops = make.user("growth_ops")
    single, busy = make.client("Single"), make.client("Busy")
    one = make.lead(owner=ops, client_id=single.id).id
    for _ in range(3):
        make.lead(owner=ops, client_id=busy.id)
    single_id, busy_id = single.id, busy.id
    auth.login_as(make.user("delivery"))  # sees clients in the admin, not leads
    settle()

    page = list_page(client, "clients")

    assert leads_cell(page, single_id) == f'<a href="/workspace/leads/{one}">1 lead</a>'
    assert leads_cell(page, busy_id) == "3 leads"


def test_a_bad_client_filter_is_a_message_not_an_error(client, auth, make):
    auth.login_as(make.user("admin"))
    settle()
    for value in ("abc", "0", str(2**70)):
        resp = client.get(f"/admin/leads/?flt0_client={value}")
        assert resp.status_code == 200


def test_the_leads_column_costs_one_statement_for_the_whole_page(client, auth, make, count_queries):
    check_constant_cost(client, auth, make, count_queries)


@pytest.mark.pg
def test_the_leads_column_costs_one_statement_on_postgresql(pg_client, pg_auth, make, count_queries):
    check_constant_cost(pg_client, pg_auth, make, count_queries)


def check_constant_cost(client, auth, make, count_queries):
    ops_id = make.user("growth_ops").id
    auth.login_as(make.user("admin"))

    def measure(clients: int):
        owner = db.session.get(User, ops_id)
        for _ in range(clients):
            c = make.client()
            for _ in range(2):
                make.lead(owner=owner, client_id=c.id)
        settle()
        with count_queries() as q:
            page = list_page(client, "clients")
        cells = re.findall(r'<td class="col-leads">\s*(.*?)\s*</td>', page, re.DOTALL)
        assert len(cells) == min(20, db.session.scalar(sa.select(sa.func.count()).select_from(Client)))
        assert all(cell.endswith(">2 leads</a>") for cell in cells)
        return q

    small, large = measure(3), measure(30)

    assert large.count == small.count, "\n".join(large.statements)
    assert not any(re.search(r"count\(", s, re.IGNORECASE) for s in large.statements)
