"""The approvals queue: what is approved beside its evidence, inline decisions, the audit trail."""

from __future__ import annotations

import sqlalchemy as sa

from zarts.domain import proposals
from zarts.extensions import db
from zarts.models import Approval, Proposal


def test_queue_shows_exact_content_beside_the_audit_evidence(client, sign_in, approver, pending_proposal):
    _lead, _proposal, approvals = pending_proposal
    sign_in(approver)
    html = client.get("/workspace/approvals").get_data(as_text=True)
    for a in approvals:
        assert f'id="approval-{a.id}"' in html
    assert (
        "EUR 4,500.00" in html
        and "CPL down 20% in 90 days" in html
        and "Standard MSA, 30 days notice" in html
    )
    assert "Forms lose 30% on mobile" in html and "CPL 84 EUR; 120 leads/month" in html
    assert "Requested by Olga Owner" in html


def test_approve_inline_drops_the_item_into_the_decided_list(
    client, sign_in, hx_post, approver, pending_proposal
):
    _, _, approvals = pending_proposal
    pricing = next(a for a in approvals if a.kind == "pricing")
    sign_in(approver)
    resp = hx_post(
        f"/workspace/approvals/{pricing.id}/decide", {"version": pricing.version, "decision": "approve"}
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'hx-swap-oob="afterbegin:#decided-rows"' in body and f'id="decided-{pricing.id}"' in body
    assert "Ada Approver" in body and f'id="approval-{pricing.id}"' not in body
    assert db.session.get(Approval, pricing.id).state == "approved"
    html = client.get("/workspace/approvals").get_data(as_text=True)
    assert f'id="approval-{pricing.id}"' not in html and f'id="decided-{pricing.id}"' in html


def test_reject_needs_a_comment(client, sign_in, hx_post, approver, pending_proposal):
    _, _, approvals = pending_proposal
    claim = next(a for a in approvals if a.kind == "claim")
    sign_in(approver)
    resp = hx_post(
        f"/workspace/approvals/{claim.id}/decide", {"version": claim.version, "decision": "reject"}
    )
    assert resp.status_code == 400 and "a comment is required" in resp.get_data(as_text=True)
    assert db.session.get(Approval, claim.id).state == "pending"
    resp = hx_post(
        f"/workspace/approvals/{claim.id}/decide",
        {"version": claim.version, "decision": "reject", "comment": "The audit shows 12%, not 20%"},
    )
    assert resp.status_code == 200
    html = client.get("/workspace/approvals").get_data(as_text=True)
    assert "The audit shows 12%, not 20%" in html and db.session.get(Approval, claim.id).state == "rejected"


def test_nobody_approves_their_own_request(client, sign_in, hx_post, make, journey):
    boss = make.user("admin")
    lead = journey.to(make.lead(owner=boss), "proposal")
    proposal = journey.draft(lead)
    own = proposals.request_approvals(db.session, proposal, boss)[0]
    sign_in(boss)
    resp = hx_post(f"/workspace/approvals/{own.id}/decide", {"version": own.version, "decision": "approve"})
    assert resp.status_code == 403 and "Nobody approves their own request" in resp.get_data(as_text=True)


def test_stale_decision_is_a_conflict_and_a_decided_one_says_so(
    client, sign_in, hx_post, approver, make, pending_proposal
):
    _, _, approvals = pending_proposal
    a = approvals[0]
    sign_in(approver)
    resp = hx_post(f"/workspace/approvals/{a.id}/decide", {"version": a.version + 5, "decision": "approve"})
    assert resp.status_code == 409 and "changed by someone else" in resp.get_data(as_text=True)
    hx_post(f"/workspace/approvals/{a.id}/decide", {"version": a.version, "decision": "approve"})
    a = db.session.get(Approval, a.id)
    resp = hx_post(f"/workspace/approvals/{a.id}/decide", {"version": a.version, "decision": "approve"})
    assert resp.status_code == 400 and "already approved" in resp.get_data(as_text=True)


def test_what_changed_since_the_previous_version(client, sign_in, approver, journey, make, owner):
    lead = journey.to(make.lead(owner=owner), "contract")
    sent = db.session.execute(sa.select(Proposal).where(Proposal.lead_id == lead.id)).scalar_one()
    items = [
        {"kind": i.kind, "title": i.title, "price_cents": i.price_cents}
        for i in sent.items
        if i.title != "Monthly content plan"
    ] + [{"kind": "included", "title": "Weekly CRO test"}]
    v2 = proposals.revise_proposal(db.session, sent, owner, sent.version, price_cents=520000, items=items)
    proposals.request_approvals(db.session, v2, owner)
    sign_in(approver)
    html = client.get("/workspace/approvals").get_data(as_text=True)
    assert "What changed since v1" in html
    assert 'EUR 4,500.00</span> → <span class="diff-added">EUR 5,200.00' in html
    assert "Added included deliverables: Weekly CRO test" in html
    assert "Removed included deliverables: Monthly content plan" in html


def test_item_url_is_a_fragment_over_htmx_and_a_page_on_reload(
    client, sign_in, hx_get, approver, pending_proposal
):
    _, _, approvals = pending_proposal
    sign_in(approver)
    fragment = hx_get(f"/workspace/approvals/{approvals[0].id}").get_data(as_text=True)
    assert fragment.lstrip().startswith('<article class="card approval-item"')
    page = client.get(f"/workspace/approvals/{approvals[0].id}").get_data(as_text=True)
    assert "<!doctype html>" in page and "Approvals queue" in page


def test_plain_form_decision_redirects_to_the_queue(client, auth, sign_in, approver, pending_proposal):
    _, _, approvals = pending_proposal
    sign_in(approver)
    resp = auth.post(
        f"/workspace/approvals/{approvals[0].id}/decide",
        {"version": approvals[0].version, "decision": "approve"},
    )
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/workspace/approvals")
