"""What changed between proposal versions: items by kind and title, price, timeline, claim, contract language."""

from __future__ import annotations

from zarts.domain import proposals
from zarts.domain.diff import diff_chain, diff_proposals
from zarts.extensions import db
from zarts.models import Proposal

V1 = {
    "number": 1,
    "title": "Plan",
    "price_cents": 100,
    "timeline": "8 weeks",
    "expected_improvement": "CPL -10%",
    "contract_language": "MSA",
    "items": [
        {"id": 1, "kind": "included", "title": "Audit fixes", "description": "a", "price_cents": None},
        {"id": 2, "kind": "excluded", "title": "Ads", "description": None, "price_cents": None},
        {"id": 3, "kind": "add_on", "title": "Copy", "description": None, "price_cents": 500},
    ],
}


def test_a_diff_lists_added_removed_and_changed_items_and_fields():
    v2 = dict(
        V1,
        number=2,
        price_cents=150,
        timeline="10 weeks",
        expected_improvement="CPL -20%",
        contract_language="MSA v2",
        items=[
            {"id": 9, "kind": "included", "title": "Audit fixes", "description": "b", "price_cents": None},
            {"id": 10, "kind": "add_on", "title": "Copy", "description": None, "price_cents": 700},
            {"id": 11, "kind": "dependency", "title": "GA4 access", "description": None, "price_cents": None},
        ],
    )
    d = diff_proposals(V1, v2)
    assert d["changed"] and (d["from_version"], d["to_version"]) == (1, 2)
    assert set(d["fields"]) == {"price_cents", "timeline", "expected_improvement", "contract_language"}
    assert d["fields"]["price_cents"] == {"old": 100, "new": 150, "label": "Price"}
    assert [(i["kind"], i["title"]) for i in d["items"]["added"]] == [("dependency", "GA4 access")]
    assert [(i["kind"], i["title"]) for i in d["items"]["removed"]] == [("excluded", "Ads")]
    changed = {(c["kind"], c["title"]): c["fields"] for c in d["items"]["changed"]}
    assert changed == {
        ("included", "Audit fixes"): {"description": {"old": "a", "new": "b"}},
        ("add_on", "Copy"): {"price_cents": {"old": 500, "new": 700}},
    }


def test_identical_versions_do_not_differ_and_item_ids_do_not_count():
    same = dict(V1, number=2, items=[dict(i, id=i["id"] + 100) for i in V1["items"]])
    d = diff_proposals(V1, same)
    assert (
        not d["changed"] and d["fields"] == {} and d["items"] == {"added": [], "removed": [], "changed": []}
    )
    assert len(diff_chain([V1, same, V1])) == 2


def test_a_draft_is_compared_by_its_fields_and_internal_fields_never_appear(make, journey, as_user):
    lead = make.lead()
    journey.to(lead, "contract")
    sent = db.session.query(Proposal).filter_by(lead_id=lead.id).one()
    draft = proposals.revise_proposal(
        db.session,
        sent,
        lead.owner,
        sent.version,
        price_cents=500000,
        pricing_assumptions="CANARY-pricing",
        internal_notes="CANARY-notes",
        items=[
            {"kind": "included", "title": "Only this"},
            {"kind": "excluded", "title": "Paid media management"},
            {"kind": "assumption", "title": "Client gives CMS access in week 1"},
        ],
    )
    d = diff_proposals(sent, draft)
    assert d["fields"]["price_cents"] == {"old": 450000, "new": 500000, "label": "Price"}
    assert {i["title"] for i in d["items"]["added"]} == {"Only this"}
    assert "CANARY" not in str(d)
    staff = as_user(make.user("approver"))
    html = staff.get(f"/outputs/proposals/{draft.id}/diff").get_data(as_text=True)
    assert "Only this" in html and "EUR 5,000.00" in html and "CANARY" not in html
    first = staff.get(f"/outputs/proposals/{sent.id}/diff").get_data(as_text=True)
    assert "first version" in first
    other = make.lead()
    journey.to(other, "contract")
    db.session.commit()
    foreign = db.session.query(Proposal).filter_by(lead_id=other.id).one()
    r = staff.get(f"/outputs/proposals/{draft.id}/diff?against={foreign.id}")
    assert r.status_code == 200 and "not another version of this proposal" in r.get_data(as_text=True)
    assert staff.get(f"/outputs/proposals/{draft.id}/diff?against=x'--").status_code == 200
    assert staff.get("/outputs/proposals/999999/diff").status_code == 404
