"""Exports: CSV cells a spreadsheet would run as formulas are neutralised; the JSON export is the
documented envelope and holds exactly the rows the page computes for the same filters."""

from __future__ import annotations

import csv
import io
import json

import pytest

from zarts.domain.reads import outputs
from zarts.extensions import db
from zarts.outputs.export import csv_cell

DANGEROUS = ('=HYPERLINK("http://x")', "+SUM(A1)", "-2+3", "@cmd", "\tTAB=1", "\rCR=1")


def test_csv_cell_prefixes_every_formula_start():
    for text in DANGEROUS:
        assert csv_cell(text) == "'" + text
    assert csv_cell(-5) == "'-5"
    assert csv_cell("plain") == "plain" and csv_cell(None) == "" and csv_cell(3) == "3"
    assert csv_cell(True) == "true"


def test_the_csv_export_neutralises_formula_cells(make, journey, as_user):
    owner = make.user("growth_ops", name="=Owner()")
    for i, text in enumerate(DANGEROUS):
        lead = make.lead(owner=owner, title=text, company=f"{text} Co")
        journey.to(lead, "qualified")
        lead.next_action = text  # set-up write: the domain trims text
    staff = as_user(make.user("admin"))
    r = staff.get("/outputs/qualified-opportunity/export.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"].startswith('attachment; filename="qualified-opportunity-')
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True), newline="")))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["lead_id", "title", "company"]
    assert len(body) == len(DANGEROUS)
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    col = {name: i for i, name in enumerate(header)}
    assert sorted(row[col["title"]] for row in body) == sorted("'" + t for t in DANGEROUS)
    assert {row[col["next_action"]] for row in body} == {"'" + t for t in DANGEROUS}
    assert {row[col["owner"]] for row in body} == {"'=Owner()"}


@pytest.mark.parametrize(
    "query, filters",
    [
        ("", outputs.Filters()),
        ("?stage=contract", outputs.Filters(stage="contract")),
        ("?service=seo&sort=created", outputs.Filters(service="seo", sort="created")),
        ("?owner=none", outputs.Filters(unowned=True)),
    ],
)
@pytest.mark.parametrize("slug", ["qualified-opportunity", "proposal-draft", "won-lost-reason"])
def test_the_json_export_round_trips_the_page_rows(pipeline_world, make, as_user, slug, query, filters):
    staff = as_user(make.user("approver"))
    r = staff.get(f"/outputs/{slug}/export.json{query}")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.headers["Content-Disposition"].startswith(f'attachment; filename="{slug}-')
    data = json.loads(r.get_data(as_text=True))
    assert set(data) == {"output", "generated_at", "filters", "rows", "next_cursor", "notices"}
    assert data["output"] == slug and data["filters"] == filters.as_dict() and data["notices"] == []
    expected = outputs.page(db.session, slug, filters, limit=outputs.MAX_PAGE).rows
    assert data["rows"] == expected
    assert data["next_cursor"] is None


def test_exports_page_by_cursor_like_the_list(pipeline_world, make, as_user):
    staff = as_user(make.user("approver"))
    first = json.loads(staff.get("/outputs/qualified-opportunity/export.json?limit=3").get_data(as_text=True))
    assert len(first["rows"]) == 3 and first["next_cursor"]
    seen = [r["lead_id"] for r in first["rows"]]
    cursor = first["next_cursor"]
    while cursor:
        r = staff.get(
            "/outputs/qualified-opportunity/export.json", query_string={"limit": 3, "cursor": cursor}
        )
        assert 'rel="next"' in r.headers.get("Link", 'rel="next"')
        page = json.loads(r.get_data(as_text=True))
        seen += [row["lead_id"] for row in page["rows"]]
        cursor = page["next_cursor"]
    every = [r["lead_id"] for r in outputs.page(db.session, "qualified-opportunity", limit=500).rows]
    assert seen == every and len(set(seen)) == len(seen) == 8
    html = staff.get("/outputs/qualified-opportunity?limit=3").get_data(as_text=True)
    assert "Next page" in html and "cursor=" in html
