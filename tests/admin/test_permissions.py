"""Who may do what in the admin: every role against every table's endpoints.

The expectations are written out here, from the issue and DESIGN.md, not read from zarts.admin:
denied by default; admins everything the table allows; growth ops their pipeline tables; approvers
read-only (their decisions go through the domain layer); delivery projects, tasks, clients and
connectors; client contacts nothing; anonymous visitors are sent to sign in.
"""

from __future__ import annotations

import pytest

from tests.admin.conftest import settle
from tests.admin.rows import TABLES, add_row
from zarts.extensions import db

STAFF = ("admin", "growth_ops", "approver", "delivery")
ROLES = ("anonymous", "client") + STAFF

# One string per staff role: v list, c create, e edit, d delete, x export. Last: a form_ajax_refs field.
RIGHTS = {
    #  table            admin    growth   approver delivery  look-up field
    "leads": ("vcex", "vcex", "vx", "", "owner"),  # never deleted: marked lost
    "clients": ("vcex", "vcex", "", "vcex", "owner"),  # a former client is churned
    "projects": ("vex", "", "", "vex", "onboarding_owner"),  # made by the handoff
    "tasks": ("vcedx", "vcex", "", "vcex", "owner"),
    "audits": ("vcex", "vcex", "vx", "", "lead"),  # evidence stays
    "reports": ("vcex", "vcex", "vx", "", "client"),  # what a client was sent stays
    "report_notes": ("vcex", "vcex", "vx", "", "report"),  # approval history stays
    "messages": ("vcx", "vcx", "", "", "lead"),  # records of what was said: never edited
    "proposals": ("vcex", "vcex", "vx", "", "lead"),  # versions, never deleted
    "proposal_items": ("vcedx", "vcex", "vx", "", "proposal"),
    "approvals": ("vx", "vx", "vx", "", None),  # decided via the domain only
    "contracts": ("vcex", "vcex", "vx", "", "lead"),
    "connectors": ("vcex", "", "", "vcex", "project"),  # marked, not removed
    "events": ("vx", "vx", "vx", "vx", None),  # append-only
    "users": ("vcex", "", "", "", "client"),  # admins only, deactivated
    "outbox": ("v", "", "", "", None),  # admins look, the relay acts
    "currency_rates": ("vcedx", "", "", "", None),  # admins keep the exchange rates
}
ENDPOINT_LETTER = {"list": "v", "create": "c", "edit": "e", "delete": "d", "export": "x"}


def test_the_expectations_cover_every_table():
    assert set(RIGHTS) == set(TABLES)


def expected(role: str, table: str) -> dict[str, str]:
    if role == "anonymous":
        return {endpoint: "sign in" for endpoint in (*ENDPOINT_LETTER, "lookup")}
    if role == "client":
        return {endpoint: "forbidden" for endpoint in (*ENDPOINT_LETTER, "lookup")}
    letters = RIGHTS[table][STAFF.index(role)]
    result = {
        endpoint: ("ok" if letter in letters else "forbidden") for endpoint, letter in ENDPOINT_LETTER.items()
    }
    result["lookup"] = "ok" if ("c" in letters or "e" in letters) else "forbidden"
    if RIGHTS[table][4] is None and result["lookup"] == "ok":
        result["lookup"] = "unexpected 404 "  # a form without look-ups: nothing to look up
    return result


def outcome(resp, ok_status=200) -> str:
    location = resp.headers.get("Location", "")
    if resp.status_code == ok_status:
        return "ok"
    if resp.status_code == 302 and location.startswith("/login?next="):
        return "sign in"
    if resp.status_code == 403:
        return "forbidden"
    return f"unexpected {resp.status_code} {location}"


def sign_in(role, make, auth):
    if role == "anonymous":
        return None
    return auth.login_as(make.user(role))


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_its_rights_on_each_table(role, table, client, auth, make):
    sign_in(role, make, auth)
    row = add_row(table)
    row_id = row.id
    settle()
    base = f"/admin/{table}/"
    lookup_field = RIGHTS[table][4] or "none"

    got = {
        "list": outcome(client.get(base)),
        "create": outcome(client.get(base + "new/")),
        "edit": outcome(client.get(f"{base}edit/?id={row_id}")),
        "export": outcome(client.get(base + "export/csv/")),
        "lookup": outcome(client.get(f"{base}ajax/lookup/?name={lookup_field}&query=Bulk")),
    }
    resp = auth.post(base + "delete/", {"id": str(row_id), "url": base})
    gone = db.session.get(type(row), row_id) is None
    got["delete"] = (
        "ok"
        if resp.status_code == 302 and resp.headers["Location"] == base and gone
        else "forbidden"
        if resp.status_code == 403 and not gone
        else outcome(resp, ok_status=None) + (" (row deleted)" if gone else "")
    )

    assert got == expected(role, table), f"{role} on {table}"


def test_the_sign_in_page_brings_the_visitor_back(client):
    resp = client.get("/admin/leads/?search=acme")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/login?next=/admin/leads/?search%3Dacme"


@pytest.mark.parametrize(
    "role,status",
    [
        ("anonymous", 302),
        ("client", 403),
        ("admin", 200),
        ("growth_ops", 200),
        ("approver", 200),
        ("delivery", 200),
    ],
)
def test_admin_home_is_for_staff_only(role, status, client, auth, make):
    sign_in(role, make, auth)
    db.session.commit()
    resp = client.get("/admin/")
    assert resp.status_code == status
    if role == "anonymous":
        assert resp.headers["Location"] == "/login?next=/admin/"


@pytest.mark.parametrize("role", STAFF)
def test_the_menu_and_home_list_only_the_tables_of_the_role(role, client, auth, make):
    sign_in(role, make, auth)
    db.session.commit()
    html = client.get("/admin/").get_data(as_text=True)
    for table, rights in RIGHTS.items():
        visible = "v" in rights[STAFF.index(role)]
        assert (f'href="/admin/{table}/"' in html) is visible, table


def test_a_deactivated_user_is_sent_to_sign_in(client, auth, make):
    user = auth.login_as(make.user("admin"))
    user.active = False
    db.session.commit()
    assert outcome(client.get("/admin/leads/")) == "sign in"
