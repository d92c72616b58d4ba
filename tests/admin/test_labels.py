"""The admin speaks people's words: every code with its label (lists, details, filters, forms), money
with its currency, times to the minute in the viewer's zone, and links to the workspace."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape

import pytest
import sqlalchemy as sa

from tests.admin.conftest import form_fields, settle
from tests.admin.rows import add_row
from zarts.admin import VIEWS
from zarts.admin.display import enum_labels, format_money, labels_for, parse_amount
from zarts.extensions import db
from zarts.models import Contract, Lead, Proposal

VIEW_TABLES = [(view, model) for view, model, _, _ in VIEWS]


def _cells(html: str, column: str) -> list[str]:
    return [
        unescape(re.sub(r"<[^>]+>", "", c)).strip()
        for c in re.findall(rf'<td class="col-{column}">(.*?)</td>', html, re.DOTALL)
    ]


@pytest.mark.parametrize("view,model", VIEW_TABLES, ids=[m.__tablename__ for _, m in VIEW_TABLES])
def test_every_enum_column_of_every_admin_table_has_labels_in_the_vocabulary(view, model):
    for column in sa.inspect(model).columns:
        if isinstance(column.type, sa.Enum):
            assert labels_for(column.type.enums), f"{model.__tablename__}.{column.key}: no *_LABELS in vocab"


# Codes a demo-like dataset holds, set on one row of each table (the rest come from tests/admin/rows.py).
CODES = {
    "leads": {"service": "paid_media", "source": "outbound", "stage": "qualified"},
    "contracts": {"payment_state": "deposit_paid", "state": "sent"},
    "projects": {
        "payment_state": "not_invoiced",
        "contract_state": "signed",
        "service": "crm_automation",
        "client_text_status": "pending",
    },
    "tasks": {"kind": "proposal_review"},
    "events": {"kind": "stage_moved"},
    "proposal_items": {"kind": "add_on", "price_cents": 45_000},
    "connectors": {"status": "to_connect"},
    "reports": {"kind": "client_report", "cadence": "monthly"},
    "report_notes": {"visibility": "client_safe"},
    "approvals": {"kind": "contract_language"},
    "messages": {"channel": "meeting"},
    "users": {"role": "growth_ops", "client": None},
}


@pytest.mark.parametrize("view,model", VIEW_TABLES, ids=[m.__tablename__ for _, m in VIEW_TABLES])
def test_lists_and_details_show_labels_never_codes(view, model, client, auth, make):
    table = model.__tablename__
    row = add_row(table, **CODES.get(table, {}))
    auth.login_as(make.user("admin"))
    row_id, values = row.id, {c.key: getattr(row, c.key) for c in sa.inspect(model).columns}
    labels = {c.key: enum_labels(c) for c in sa.inspect(model).columns if isinstance(c.type, sa.Enum)}
    settle()

    page = client.get(f"/admin/{table}/").get_data(as_text=True)
    details = client.get(f"/admin/{table}/details/?id={row_id}").get_data(as_text=True)

    for name, words in labels.items():
        code = values[name]
        if code is None:
            continue
        if f'class="col-{name}"' in page:
            assert words[code] in _cells(page, name), (table, name)
        if "_" in code:  # a code no label would ever read like
            assert not re.search(rf">\s*{code}\s*<", page), (table, name, code)
            assert not re.search(rf">\s*{code}\s*<", details), (table, name, code)


def test_filters_and_forms_offer_labels(client, auth, make):
    auth.login_as(make.user("admin"))
    lead_id = add_row("leads").id
    settle()
    page = client.get("/admin/leads/").get_data(as_text=True)
    assert "Paid media" in page and '"paid_media"' in page  # the filter's options: value and label
    assert re.search(r'\[\s*"paid_media",\s*"Paid media"\s*\]', page)
    form = client.get(f"/admin/leads/edit/?id={lead_id}").get_data(as_text=True)
    assert re.search(r'<option[^>]*value="paid_media"[^>]*>Paid media</option>', form)
    assert re.search(r'<option[^>]*value="outbound"[^>]*>Outbound</option>', form)


def test_column_headers_are_words(client, auth, make):
    auth.login_as(make.user("admin"))
    settle()
    page = client.get("/admin/proposals/").get_data(as_text=True)
    assert "Price Cents" not in page and "Price cents" not in page
    assert re.search(r">\s*Price\s*<", page)
    assert "Next action due" in client.get("/admin/leads/").get_data(as_text=True)


def test_money_is_shown_with_its_currency_and_typed_in_units(client, auth, make, journey):
    auth.login_as(make.user("admin"))
    proposal = add_row("proposals", price_cents=450_000, currency="EUR")
    proposal_id = proposal.id
    settle()

    page = client.get("/admin/proposals/").get_data(as_text=True)
    assert "EUR 4,500" in _cells(page, "price_cents")
    assert "450000" not in page
    form = client.get(f"/admin/proposals/edit/?id={proposal_id}").get_data(as_text=True)
    assert form_fields(form)["price_cents"] == "4,500.00"


@pytest.mark.parametrize(
    "typed,cents", [("4500", 450_000), ("4,500.00", 450_000), ("EUR 4,500.5", 450_050), ("0.99", 99)]
)
def test_an_amount_in_units_becomes_cents(typed, cents):
    assert parse_amount(typed) == cents


@pytest.mark.parametrize(
    "typed,says",
    [
        ("-5", "cannot be negative"),
        ("4.505", "at most two decimals"),
        ("four thousand", "like 4,500"),
        ("1" * 20, "too large"),
    ],
)
def test_a_bad_amount_says_what_is_wrong(typed, says):
    with pytest.raises(ValueError, match=says):
        parse_amount(typed)


def test_a_bad_amount_on_the_form_is_a_message_on_its_field(client, auth, make):
    owner = make.user("admin")
    auth.login_as(owner)
    proposal = add_row("proposals", price_cents=450_000, currency="EUR")
    proposal_id = proposal.id
    settle()
    form = form_fields(client.get(f"/admin/proposals/edit/?id={proposal_id}").get_data(as_text=True))
    resp = auth.post(f"/admin/proposals/edit/?id={proposal_id}", form | {"price_cents": "4.505"})
    assert resp.status_code == 200
    assert "at most two decimals" in resp.get_data(as_text=True)
    settle()
    assert db.session.get(Proposal, proposal_id).price_cents == 450_000


def test_format_money():
    assert format_money(450_000, "EUR") == "EUR 4,500"
    assert format_money(450_050, "USD") == "USD 4,500.50"
    assert format_money(None, "EUR") == ""


def test_times_are_to_the_minute_in_the_viewers_zone(client, auth, make):
    viewer = make.user("admin")
    viewer.time_zone = "Europe/Berlin"
    auth.login_as(viewer)
    lead = add_row("leads")
    lead_id = lead.id
    db.session.execute(
        sa.update(Lead).where(Lead.id == lead_id).values(updated_at=datetime(2026, 12, 4, 18, 5, 33, 123456))
    )
    settle()
    page = client.get("/admin/leads/").get_data(as_text=True)
    assert "04 Dec 2026 19:05" in _cells(page, "updated_at")  # UTC+1 in December
    assert not re.search(r"\d\d:\d\d:\d\d", page)  # no seconds, no microseconds anywhere


def test_a_lead_row_links_to_its_workspace_page_and_back(client, auth, make):
    auth.login_as(make.user("admin"))
    lead = add_row("leads")
    contract = add_row("contracts", payment_state="deposit_paid")
    lead_id, contract_lead = lead.id, contract.lead_id
    settle()
    assert f'href="/workspace/leads/{lead_id}"' in client.get("/admin/leads/").get_data(as_text=True)
    assert f'href="/workspace/leads/{lead_id}"' in client.get(f"/admin/leads/edit/?id={lead_id}").get_data(
        as_text=True
    )
    assert f'href="/workspace/leads/{contract_lead}"' in client.get("/admin/contracts/").get_data(
        as_text=True
    )
    workspace = client.get(f"/workspace/leads/{lead_id}").get_data(as_text=True)
    assert f'href="/admin/leads/edit/?id={lead_id}"' in workspace and "Open in admin" in workspace


def test_open_in_admin_is_offered_only_to_roles_that_see_the_admin_lead(client, auth, make):
    auth.login_as(make.user("delivery"))  # delivery's admin tables have no leads
    lead = add_row("leads")
    lead_id = lead.id
    settle()
    assert "Open in admin" not in client.get(f"/workspace/leads/{lead_id}").get_data(as_text=True)


def test_no_admin_page_carries_a_javascript_url(client, auth, make):
    auth.login_as(make.user("admin"))
    lead_id = add_row("leads").id
    settle()
    for url in (
        "/admin/",
        "/admin/leads/",
        f"/admin/leads/edit/?id={lead_id}",
        "/admin/leads/new/",
        f"/admin/leads/details/?id={lead_id}",
    ):
        html = client.get(url).get_data(as_text=True)
        assert "javascript:" not in html, url
        assert "fonts.googleapis" not in html, url
        assert 'rel="icon"' in html, url


def test_the_contract_payment_state_reads_in_words(client, auth, make):
    auth.login_as(make.user("admin"))
    contract = add_row("contracts", payment_state="deposit_paid")
    contract_id = contract.id
    settle()
    assert db.session.get(Contract, contract_id).payment_state == "deposit_paid"
    assert "Deposit paid" in _cells(client.get("/admin/contracts/").get_data(as_text=True), "payment_state")
