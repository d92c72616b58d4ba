"""Filters: owner, stage, service, date range and sort are whitelisted. Unknown values never reach
SQL: they are ignored with a message the user reads, never a 500."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from werkzeug.datastructures import MultiDict

from zarts.domain.reads import outputs
from zarts.extensions import db
from zarts.models import today
from zarts.outputs.params import parse

INJECTIONS = (
    "qualified' OR '1'='1",
    "1; DROP TABLE leads;--",
    "won) UNION SELECT password_hash FROM users--",
    "%",
    "*",
    "../../etc/passwd",
    "x" * 5000,
    "0x1",
    "-1",
    "1e9",
    "NaN",
    "\x00",
)


def _parse(**args):
    return parse(MultiDict(args), me_id=1, staff_ids={1, 2})


@pytest.mark.parametrize(
    "name", ["owner", "stage", "service", "sort", "date_field", "date_from", "date_to", "cursor", "limit"]
)
@pytest.mark.parametrize("value", INJECTIONS)
def test_unknown_values_are_dropped_with_a_message(name, value):
    parsed = _parse(**{name: value})
    assert parsed.filters == outputs.Filters() and parsed.cursor is None
    assert parsed.notices, (name, value)
    assert all(len(n) < 200 for n in parsed.notices)  # the echo of the bad value is cut short


def test_known_values_become_typed_filters():
    day = today()
    parsed = _parse(
        owner="2",
        stage="won",
        service="seo",
        sort="created",
        date_field="output",
        date_from=(day - timedelta(days=3)).isoformat(),
        date_to=day.isoformat(),
        limit="10",
    )
    assert parsed.notices == []
    assert parsed.filters == outputs.Filters(
        owner_id=2,
        stage="won",
        service="seo",
        sort="created",
        date_field="output",
        date_from=day - timedelta(days=3),
        date_to=day,
    )
    assert parsed.limit == 10
    assert _parse(owner="me").filters.owner_id == 1 and _parse(owner="none").filters.unowned
    assert _parse(owner="3").notices  # not a staff user


def test_a_reversed_date_range_is_ignored_with_a_message():
    parsed = _parse(date_from="2024-02-01", date_to="2024-01-01")
    assert parsed.filters.date_from is None and parsed.filters.date_to is None and parsed.notices


@pytest.mark.parametrize("slug", list(outputs.OUTPUTS))
def test_bad_parameters_on_every_page_and_export_answer_200_with_the_message(
    pipeline_world, make, as_user, slug
):
    staff = as_user(make.user("growth_ops"))
    query = {
        "owner": "1 OR 1=1",
        "stage": "won' --",
        "service": "seo; DROP TABLE leads",
        "sort": "password",
        "date_field": "users.password_hash",
        "date_from": "yesterday",
        "cursor": "not-a-cursor",
        "limit": "100000",
    }
    everything = outputs.page(db.session, slug).rows
    r = staff.get(f"/outputs/{slug}", query_string=query)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    for text in (
        "Unknown owner",
        "Unknown stage",
        "Unknown service",
        "Unknown sort",
        "Unknown date field",
        "is not a date",
        "page link is broken",
        "Page size must be",
    ):
        assert text in html, text
    data = json.loads(staff.get(f"/outputs/{slug}/export.json", query_string=query).get_data(as_text=True))
    assert data["rows"] == everything and len(data["notices"]) == 8
    assert staff.get(f"/outputs/{slug}/export.csv", query_string=query).status_code == 200


def test_filters_narrow_the_list(pipeline_world, make, as_user):
    staff = as_user(make.user("admin"))
    other = make.user("growth_ops", name="Other Owner")
    lead = make.lead(owner=other, title="Other lead", service="analytics")
    from zarts.domain import pipeline

    pipeline.move(db.session, lead, "qualified", other, lead.version)
    db.session.commit()

    def ids(**args):
        data = json.loads(
            staff.get("/outputs/qualified-opportunity/export.json", query_string=args).get_data(as_text=True)
        )
        assert data["notices"] == []
        return {r["lead_id"] for r in data["rows"]}

    everyone = ids()
    assert lead.id in everyone and len(everyone) == 9
    assert ids(owner=str(other.id)) == {lead.id}
    assert ids(service="analytics") == {lead.id}
    assert lead.id not in ids(owner=str(pipeline_world.owner.id))
    assert ids(stage="lost") == {pipeline_world.leads["lost"].id}
    tomorrow = (today() + timedelta(days=1)).isoformat()
    assert ids(date_from=tomorrow) == set()
    assert ids(date_to=today().isoformat(), date_field="created") == everyone
    # The output's own date: won/lost by their closing day, proposals by their decision deadline.
    closed = json.loads(
        staff.get(
            "/outputs/won-lost-reason/export.json",
            query_string={"date_field": "output", "date_from": today().isoformat()},
        ).get_data(as_text=True)
    )["rows"]
    assert {r["outcome"] for r in closed} == {"won", "lost"}
    deadline = (today() + timedelta(days=14)).isoformat()
    proposals = json.loads(
        staff.get(
            "/outputs/proposal-draft/export.json",
            query_string={"date_field": "output", "date_from": deadline, "date_to": deadline},
        ).get_data(as_text=True)
    )["rows"]
    assert len(proposals) == 3


def test_owner_filter_offers_only_staff(pipeline_world, make, as_user):
    client_contact = make.user("client", name="Client Contact Person")
    staff = as_user(make.user("admin"))
    html = staff.get("/outputs/qualified-opportunity").get_data(as_text=True)
    assert "Olga Owner" in html and "Client Contact Person" not in html
    r = staff.get("/outputs/qualified-opportunity", query_string={"owner": str(client_contact.id)})
    assert "Unknown owner" in r.get_data(as_text=True)
