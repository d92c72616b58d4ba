"""The handoff packet: promised, changed, closed, inherited — and the client copy holds no internal text."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from zarts.domain.reads.outputs import packet
from zarts.extensions import db
from zarts.models import Report, Task

from .conftest import CANARY_FIELDS, SAFE_TEXTS, texts_outside_internal


@pytest.fixture
def staff(canary_deal, make, as_user):
    return as_user(make.user("delivery"))


def test_the_client_copy_holds_no_internal_text_in_html_json_or_text(canary_deal, staff):
    lead_id = canary_deal.lead.id
    bodies = {
        "page": staff.get(f"/outputs/packet/{lead_id}?copy=client"),
        "json": staff.get(f"/outputs/packet/{lead_id}.json?copy=client"),
        "txt": staff.get(f"/outputs/packet/{lead_id}.txt?copy=client"),
        "html": staff.get(f"/outputs/packet/{lead_id}.html?copy=client"),
    }
    for name, response in bodies.items():
        assert response.status_code == 200, name
        text = response.get_data(as_text=True)
        assert "CANARY" not in text, (name, text[text.find("CANARY") - 200 : text.find("CANARY") + 80])
        for safe in SAFE_TEXTS:
            assert safe in text, (name, safe)
    assert 'class="internal' not in bodies["page"].get_data(as_text=True)


def test_the_client_view_model_is_built_from_client_safe_fields_only(canary_deal):
    data = packet(db.session, canary_deal.lead.id, copy="client")
    assert "CANARY" not in json.dumps(data)
    assert "internal" not in data and "lead" not in data and "stored_report" not in data
    assert set(data["inherit"]) == {"scope", "client_launch_blockers", "checklist"}
    client_items = db.session.scalars(
        sa.select(Task.title).where(Task.lead_id == canary_deal.lead.id, Task.client_visible.is_(True))
    ).all()
    assert sorted(c["title"] for c in data["inherit"]["checklist"]) == sorted(client_items)
    assert "SAFE-checklist-item" in client_items


def test_the_staff_copy_shows_every_internal_caveat_marked_internal(canary_deal, staff):
    lead_id = canary_deal.lead.id
    html = staff.get(f"/outputs/packet/{lead_id}").get_data(as_text=True)
    outside = texts_outside_internal(html)
    for canary in CANARY_FIELDS:
        assert canary in html, canary
        assert canary not in outside, f"{canary} is shown without the internal mark"
    txt = staff.get(f"/outputs/packet/{lead_id}.txt").get_data(as_text=True)
    for line in txt.splitlines():
        if "CANARY" in line:
            assert "[INTERNAL]" in line, line
    data = json.loads(staff.get(f"/outputs/packet/{lead_id}.json").get_data(as_text=True))
    internal = json.dumps(data["internal"]) + json.dumps(data["promised"]["approved_claims"])
    for canary in CANARY_FIELDS:
        assert canary in internal, canary


def test_the_packet_says_what_was_promised_changed_closed_and_inherited(canary_deal):
    p = packet(db.session, canary_deal.lead.id, copy="staff")
    assert p["won"] is True
    promised = p["promised"]
    assert promised["proposal"]["number"] == 2 and promised["proposal"]["title"] == "SAFE-title-v2"
    assert {c["kind"] for c in promised["approved_claims"]} == {"pricing", "claim", "contract_language"}
    assert {s["text"] for s in promised["approved_summaries"]} == {"SAFE-audit-summary", "SAFE-report-note"}
    [change] = p["changed"]
    assert (change["from_version"], change["to_version"]) == (1, 2)
    assert (
        change["fields"]["price_cents"]["old"] == 450000 and change["fields"]["price_cents"]["new"] == 480000
    )
    assert change["fields"]["timeline"]["new"] == "SAFE-timeline-v2"
    assert [i["title"] for i in change["items"]["added"]] == ["SAFE-new-included"]
    closed = p["closed"]
    assert closed["contract_state"] == "signed" and closed["payment_state"] == "invoiced"
    assert closed["signed_at"] and closed["kickoff_date"] and closed["accepted_version"] == 2
    scope = p["inherit"]["scope"]
    assert [i["title"] for i in scope["included"]] == ["SAFE-included", "SAFE-new-included"]
    assert [i["title"] for i in scope["add_ons"]] == ["SAFE-addon"]
    assert p["inherit"]["client_launch_blockers"] == "SAFE-client-launch-blockers"
    assert p["internal"]["texts"]["Launch blockers (contract)"] == "CANARY-contract-launch-blockers"


def test_downloads_are_attachments(canary_deal, staff):
    for fmt, mime in (("json", "application/json"), ("txt", "text/plain"), ("html", "text/html")):
        r = staff.get(f"/outputs/packet/{canary_deal.lead.id}.{fmt}?copy=client")
        assert r.status_code == 200 and r.mimetype == mime
        assert (
            r.headers["Content-Disposition"]
            == f'attachment; filename="handoff-packet-{canary_deal.lead.id}-client.{fmt}"'
        )
    assert staff.get(f"/outputs/packet/{canary_deal.lead.id}.exe").status_code == 404


def test_an_unknown_copy_is_refused_rather_than_guessed(canary_deal, staff):
    r = staff.get(f"/outputs/packet/{canary_deal.lead.id}?copy=clinet")
    assert r.status_code == 400 and "CANARY" not in r.get_data(as_text=True)
    assert staff.get(f"/outputs/packet/{canary_deal.lead.id}.json?copy=x").status_code == 400


def test_a_stored_packet_is_linked_from_the_staff_copy_only(canary_deal, staff):
    lead = canary_deal.lead
    key = f"handoff:{lead.id}:packet"
    if db.session.query(Report).filter_by(key=key).one_or_none() is None:
        db.session.add(
            Report(
                kind="handoff_packet",
                key=key,
                title="Handoff packet",
                lead_id=lead.id,
                figures={"promised": {"note": "CANARY-stored"}},
            )
        )
        db.session.commit()
    stored_url = f"/outputs/packet/{lead.id}/stored"
    assert stored_url in staff.get(f"/outputs/packet/{lead.id}").get_data(as_text=True)
    assert stored_url not in staff.get(f"/outputs/packet/{lead.id}?copy=client").get_data(as_text=True)
    assert staff.get(stored_url).status_code == 200


def test_a_deal_not_won_yet_is_a_preview_and_a_missing_lead_is_404(pipeline_world, make, as_user):
    staff = as_user(make.user("growth_ops"))
    html = staff.get(f"/outputs/packet/{pipeline_world.leads['contract'].id}").get_data(as_text=True)
    assert "Preview: this deal is not won yet" in html
    assert staff.get("/outputs/packet/999999").status_code == 404
    assert staff.get("/outputs/packet/999999/stored").status_code == 404


def test_the_packet_page_prints_without_navigation(canary_deal, staff):
    html = staff.get(f"/outputs/packet/{canary_deal.lead.id}").get_data(as_text=True)
    assert 'class="packet-tools no-print"' in html
    assert "<script>" not in html and "style=" not in html


def test_the_client_copy_holds_no_launch_blockers_an_approver_has_not_seen(pipeline_world, make):
    """Before the handoff the only client-safe wording of the blockers is the contract's, a draft no
    approver has read: the client's copy has none until the project's client text is approved."""
    from zarts.domain import contracts

    lead = pipeline_world.leads["contract"]
    contracts.update_contract(
        db.session, lead, pipeline_world.owner, None, client_launch_blockers="We GUARANTEE launch on Monday"
    )
    db.session.commit()

    client_copy = packet(db.session, lead.id, copy="client")
    staff_copy = packet(db.session, lead.id, copy="staff")

    assert client_copy["inherit"]["client_launch_blockers"] is None
    assert "GUARANTEE" not in json.dumps(client_copy)
    assert "We GUARANTEE launch on Monday" in json.dumps(staff_copy)
