"""Every promise cites its proof: claims cite audit evidence, the approver backs the pair, a new audit
version re-opens it, and what the client was sent stays frozen."""

from __future__ import annotations

import pytest

from zarts.domain import Invalid, approvals, audits, citations, evidence, gates, proposals
from zarts.domain.parts import unapproved_parts
from zarts.extensions import db

SCOPE = [
    {"kind": "included", "title": "Mobile form rebuild"},
    {"kind": "excluded", "title": "Paid media"},
    {"kind": "assumption", "title": "CMS access"},
]


def _draft(lead, **fields):
    data = dict(title="Plan", price_cents=100000, items=SCOPE)
    data.update(fields)
    return proposals.draft_proposal(db.session, lead, lead.owner, **data)


def _evidence(lead):
    audit = gates.completed_audit(db.session, lead.id)
    finding, baseline = audit.items
    return audit, finding, baseline


def test_a_claim_without_citation_is_refused_with_the_message_naming_it(make, journey):
    lead = journey.to(make.lead(), "proposal")
    p = _draft(lead, expected_improvement="Cost per lead down 20 % in 90 days")
    with pytest.raises(Invalid) as refused:
        proposals.request_approvals(db.session, p, lead.owner)
    assert refused.value.message == "Cite the finding or baseline this claim rests on: Expected improvement."
    assert refused.value.field == "expected_improvement"
    assert not p.approvals  # nothing was sent for approval


@pytest.mark.parametrize("claim", ["timeline", "item"])
def test_every_kind_of_claim_needs_a_citation(make, journey, claim):
    lead = journey.to(make.lead(), "proposal")
    p = _draft(lead, timeline="12 weeks" if claim == "timeline" else None)
    item = p.items[0]
    if claim == "item":
        citations.cite(db.session, p, lead.owner, None, {}, promising=[item.id])
    key = "timeline" if claim == "timeline" else f"item:{item.id}"
    with pytest.raises(Invalid) as refused:
        proposals.request_approvals(db.session, p, lead.owner)
    assert refused.value.field == key
    assert refused.value.message.startswith("Cite the finding or baseline this claim rests on")
    # The send gate lists it too.
    codes = {m.code for m in gates.contract(db.session, lead)}
    assert f"cite_{key}" in codes
    _, finding, _ = _evidence(lead)
    citations.cite(db.session, p, lead.owner, None, {key: [finding.id]})
    kinds = {a.kind for a in proposals.request_approvals(db.session, p, lead.owner)}
    assert ("timeline" if claim == "timeline" else "scope") in kinds


def test_the_approval_content_of_a_claim_includes_its_evidence(make, journey):
    lead = journey.to(make.lead(), "proposal")
    p = _draft(lead, expected_improvement="Cost per lead down to 67 EUR")
    _, finding, baseline = _evidence(lead)
    citations.cite(
        db.session,
        p,
        lead.owner,
        None,
        {"expected_improvement": [baseline.id]},
        targets={("expected_improvement", baseline.id): "67"},
    )
    claim = next(a for a in proposals.request_approvals(db.session, p, lead.owner) if a.kind == "claim")
    assert claim.content == (
        "Cost per lead down to 67 EUR\nRests on: audit #%d baseline: Your cost per lead was "
        "84 EUR in September. [cost per lead 84 EUR, Sep 2026] target 67 EUR" % baseline.audit_id
    )
    # Citing other evidence changes the pair: the pending request is withdrawn and asked again.
    citations.cite(db.session, p, lead.owner, None, {"expected_improvement": [finding.id, baseline.id]})
    assert claim.state == "superseded"
    assert ("claim", "Expected-improvement claim") in unapproved_parts(db.session, p)


def test_evidence_of_another_lead_or_an_older_audit_cannot_be_cited(make, journey):
    lead = journey.to(make.lead(), "proposal")
    other = journey.to(make.lead(), "proposal")
    p = _draft(lead, expected_improvement="Faster replies")
    _, foreign, _ = _evidence(other)
    with pytest.raises(Invalid) as refused:
        citations.cite(db.session, p, lead.owner, None, {"expected_improvement": [foreign.id]})
    assert refused.value.message == "Cite evidence of this opportunity's latest completed audit."
    with pytest.raises(Invalid):
        citations.cite(db.session, p, lead.owner, None, {"timeline": [foreign.id]})  # no such claim


def test_a_completed_audits_items_are_frozen(make, journey):
    lead = journey.to(make.lead(), "proposal")
    audit, finding, _ = _evidence(lead)
    with pytest.raises(Invalid, match="frozen"):
        evidence.add_item(db.session, audit, lead.owner, kind="finding", raw_note="late")
    with pytest.raises(Invalid, match="frozen"):
        evidence.update_item(db.session, finding, lead.owner, None, client_text="changed")
    with pytest.raises(Invalid, match="frozen"):
        evidence.remove_item(db.session, finding, lead.owner)
    assert finding.client_text == "About 40 % of mobile visitors leave the form."


def test_a_new_audit_version_reopens_the_claims_resting_on_it(make, journey):
    lead = journey.to(make.lead(), "proposal")
    p = journey.draft(lead)
    journey.approve_all(p)
    assert unapproved_parts(db.session, p) == []
    old, finding, _ = _evidence(lead)
    draft = evidence.new_audit_version(db.session, old, lead.owner)
    assert draft.previous_id == old.id and [i.copied_from_id for i in draft.items] == [
        i.id for i in old.items
    ]
    evidence.update_item(
        db.session,
        draft.items[0],
        lead.owner,
        None,
        client_text="Nearly half of mobile visitors leave the form.",
    )
    audits.complete_audit(db.session, draft, lead.owner, None)
    db.session.expire(p, ["citations"])
    assert {c.evidence_item.audit_id for c in p.citations} == {draft.id}
    assert {kind for kind, _ in unapproved_parts(db.session, p)} == {"claim", "timeline"}
    assert finding.client_text == "About 40 % of mobile visitors leave the form."  # the old version stays


def test_the_sent_snapshot_freezes_the_evidence_the_client_saw(make, journey):
    lead = journey.to(make.lead(), "proposal")
    approver = make.user("approver")
    _, finding, baseline = _evidence(lead)
    for item in (finding, baseline):
        approvals.decide(
            db.session,
            evidence.request_item_approval(db.session, item, lead.owner),
            approver,
            None,
            approve=True,
        )
    p = journey.draft(lead)
    journey.approve_all(p)
    journey.send(p)
    claim = next(c for c in p.snapshot["claims"] if c["claim"] == "expected_improvement")
    assert claim["text"] == "CPL down 20% in 90 days"
    assert [e["client_text"] for e in claim["evidence"]] == [
        "About 40 % of mobile visitors leave the form.",
        "Your cost per lead was 84 EUR in September.",
    ]
    assert "Raw:" not in str(p.snapshot) and "Google Ads export" not in str(p.snapshot)
    frozen = dict(p.snapshot)
    draft = evidence.new_audit_version(db.session, gates.completed_audit(db.session, lead.id), lead.owner)
    evidence.update_item(db.session, draft.items[0], lead.owner, None, client_text="Another wording")
    audits.complete_audit(db.session, draft, lead.owner, None)
    db.session.refresh(p)
    assert p.snapshot == frozen


def test_unapproved_evidence_wording_is_not_frozen_into_the_snapshot(make, journey):
    lead = journey.to(make.lead(), "proposal")
    p = journey.draft(lead)
    journey.approve_all(p)
    journey.send(p)
    assert all(e["client_text"] is None for c in p.snapshot["claims"] for e in c["evidence"])


def test_a_promise_survives_a_scope_edit_and_a_new_version(make, journey):
    lead = journey.to(make.lead(), "proposal")
    p = journey.draft(lead)
    _, finding, _ = _evidence(lead)
    item = next(i for i in p.items if i.kind == "included")
    citations.cite(db.session, p, lead.owner, None, {f"item:{item.id}": [finding.id]}, promising=[item.id])
    proposals.revise_proposal(
        db.session,
        p,
        lead.owner,
        None,
        items=[{"kind": i.kind, "title": i.title, "price_cents": i.price_cents} for i in p.items]
        + [{"kind": "dependency", "title": "A new dependency"}],
    )
    kept = next(i for i in p.items if i.title == item.title)
    assert kept.promises_outcome and any(c.item_id == kept.id for c in p.citations)
    journey.approve_all(p)
    journey.send(p)
    v2 = proposals.revise_proposal(db.session, p, lead.owner, None, title="Plan v2")
    assert v2.id != p.id
    promised = [i for i in v2.items if i.promises_outcome]
    assert [i.title for i in promised] == [item.title]
    assert {c.claim for c in v2.citations} >= {f"item:{promised[0].id}", "expected_improvement", "timeline"}
