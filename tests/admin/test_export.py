"""CSV export: a cell a spreadsheet would run as a formula is written as text."""

from __future__ import annotations

import csv
import io

import pytest

from tests.admin.conftest import settle
from zarts.admin.export import safe_cell
from zarts.extensions import db

DANGEROUS = [
    '=HYPERLINK("http://evil.test","Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]


def export(client, table: str, query: str = "") -> list[dict[str, str]]:
    resp = client.get(f"/admin/{table}/export/csv/{query}")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    return list(csv.DictReader(io.StringIO(resp.get_data(as_text=True), newline="")))


def test_formula_cells_get_a_leading_apostrophe(client, auth, make):
    auth.login_as(make.user("admin"))
    owner = make.user("growth_ops", name="=cmd|'/C calc'!A0")
    owner_email = owner.email
    for company in DANGEROUS + ["Acme Roofing", "Mid-size - not a formula"]:
        make.lead(owner=owner, company=company, title="Deal")
    settle()

    rows = export(client, "leads")

    companies = {row["Company"] for row in rows}
    assert companies == {"'" + c for c in DANGEROUS} | {"Acme Roofing", "Mid-size - not a formula"}
    assert {row["Owner"] for row in rows} == {f"'=cmd|'/C calc'!A0 <{owner_email}>"}


def test_export_follows_the_list_search(client, auth, make):
    auth.login_as(make.user("admin"))
    make.lead(company="Acme Roofing")
    make.lead(company="Other Plumbing")
    settle()

    rows = export(client, "leads", "?search=acme")

    assert [row["Company"] for row in rows] == ["Acme Roofing"]


def test_export_never_carries_secrets(client, auth, make):
    admin = auth.login_as(make.user("admin"))
    secrets = (admin.password_hash, admin.session_token)
    db.session.commit()

    resp = client.get("/admin/users/export/csv/")

    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and admin.email in body
    assert all(secret not in body for secret in secrets)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("=1+1", "'=1+1"),
        ("plain", "plain"),
        ("", ""),
        (None, ""),
        (-5, -5),
        (2.5, 2.5),
        (True, True),
        ("\r\n", "'\r\n"),
        ("a=b", "a=b"),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected
