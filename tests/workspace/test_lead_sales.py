"""Lead-page forms for audit, proposal and contract: each goes through the domain, refusals inline."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from zarts.domain import approvals as domain_approvals
from zarts.domain import gates
from zarts.extensions import db
from zarts.models import Approval, Audit, Contract, Lead, Proposal, today
from zarts.workspace.lead_sales import scope_lines

SCOPE_FORM = {
    "scope_included": "Technical SEO fixes | from the audit\nMonthly content plan",
    "scope_excluded": "Paid media",
    "scope_add_on": "Landing page copy | 900 | two pages",
    "scope_assumption": "CMS access in week 1",
    "scope_dependency": "",
}


def url(lead, tail):
    return f"/workspace/leads/{lead.id}{tail}"


def at_audit(journey, make, owner):
    return journey.to(make.lead(owner=owner), "audit")


def test_audit_start_save_and_complete_needs_evidence(client, sign_in, hx_post, journey, make, owner):
    lead = at_audit(journey, make, owner)
    sign_in(owner)
    assert hx_post(url(lead, "/audits")).status_code == 200
    audit = db.session.execute(sa.select(Audit).where(Audit.lead_id == lead.id)).scalar_one()
    resp = hx_post(
        url(lead, f"/audits/{audit.id}"),
        {"version": audit.version, "findings": "Forms lose 30%", "then": "complete"},
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "baseline figures missing" in body
    assert ">Forms lose 30%</textarea>" in body
    assert db.session.get(Audit, audit.id).findings is None  # nothing half-saved
    resp = hx_post(
        url(lead, f"/audits/{audit.id}"),
        {
            "version": audit.version,
            "findings": "Forms lose 30%",
            "baseline_figures": "CPL 84 EUR",
            "then": "complete",
        },
    )
    assert resp.status_code == 200 and "Audit completed." in resp.get_data(as_text=True)
    assert db.session.get(Audit, audit.id).status == "completed"


def test_completed_audit_keeps_its_evidence_and_routes_the_summary(
    client, sign_in, hx_post, journey, make, owner
):
    lead = at_audit(journey, make, owner)
    audit = journey.complete_audit(lead)
    sign_in(owner)
    resp = hx_post(
        url(lead, f"/audits/{audit.id}"),
        {
            "version": audit.version,
            "findings": "rewritten",
            "client_summary": "Your form loses a third.",
            "then": "request_approval",
        },
    )
    assert resp.status_code == 200
    audit = db.session.get(Audit, audit.id)
    assert audit.findings == "Forms lose 30% on mobile" and audit.client_summary_status == "pending"


def test_no_proposal_before_a_completed_audit(client, sign_in, hx_post, journey, make, owner):
    lead = at_audit(journey, make, owner)
    sign_in(owner)
    html = client.get(url(lead, "")).get_data(as_text=True)
    assert "written after the audit is completed" in html
    resp = hx_post(url(lead, "/proposals"), {"title": "Plan", "price": "4500", **SCOPE_FORM})
    assert resp.status_code == 422 and "No completed audit" in resp.get_data(as_text=True)


def test_draft_with_typed_scope_then_approvals_then_send(
    client, sign_in, hx_post, journey, make, owner, approver
):
    lead = journey.to(make.lead(owner=owner), "proposal")
    sign_in(owner)
    resp = hx_post(
        url(lead, "/proposals"),
        {
            "title": "Growth plan",
            "price": "4,500.00",
            "currency": "eur",
            "timeline": "12 weeks",
            "expected_improvement": "CPL -20%",
            "contract_language": "Standard MSA",
            **SCOPE_FORM,
        },
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    proposal = db.session.execute(sa.select(Proposal).where(Proposal.lead_id == lead.id)).scalar_one()
    assert proposal.price_cents == 450000 and proposal.currency == "EUR"
    kinds = [(i.kind, i.title, i.description, i.price_cents) for i in proposal.items]
    assert ("included", "Technical SEO fixes", "from the audit", None) in kinds
    assert ("add_on", "Landing page copy", "two pages", 90000) in kinds
    assert scope_lines(proposal)["add_on"] == "Landing page copy | 900.00 | two pages"

    deadline = (today() + timedelta(days=14)).isoformat()
    follow_up = (today() + timedelta(days=2)).isoformat()
    resp = hx_post(
        url(lead, f"/proposals/{proposal.id}/send"),
        {"version": proposal.version, "follow_up_date": follow_up, "decision_deadline": deadline},
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Pricing is not approved" in body
    assert f'href="/workspace/leads/{lead.id}#approval"' in body

    resp = hx_post(url(lead, f"/proposals/{proposal.id}/approvals"))  # every promise cites its proof first
    assert resp.status_code == 400
    assert "Cite the finding or baseline this claim rests on: Expected improvement." in resp.get_data(
        as_text=True
    )
    evidence_ids = [str(i.id) for i in gates.completed_audit(db.session, lead.id).items]
    proposal = db.session.get(Proposal, proposal.id)
    resp = hx_post(
        url(lead, f"/proposals/{proposal.id}/citations"),
        {
            "version": proposal.version,
            "claim": ["expected_improvement", "timeline"],
            "cite:expected_improvement": evidence_ids,
            "cite:timeline": evidence_ids[:1],
        },
    )
    assert resp.status_code == 200 and "Claims and evidence saved." in resp.get_data(as_text=True)

    resp = hx_post(url(lead, f"/proposals/{proposal.id}/approvals"))
    assert resp.status_code == 200 and "Sent for approval." in resp.get_data(as_text=True)
    for a in db.session.execute(sa.select(Approval).where(Approval.proposal_id == proposal.id)).scalars():
        domain_approvals.decide(db.session, a, approver, a.version, approve=True)
    db.session.commit()

    proposal = db.session.get(Proposal, proposal.id)
    resp = hx_post(
        url(lead, f"/proposals/{proposal.id}/send"),
        {"version": proposal.version, "follow_up_date": follow_up, "decision_deadline": deadline},
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert db.session.get(Lead, lead.id).stage == "contract"


def test_revising_a_sent_proposal_makes_a_new_version(client, sign_in, hx_post, journey, make, owner):
    lead = journey.to(make.lead(owner=owner), "contract")
    sent = db.session.execute(sa.select(Proposal).where(Proposal.lead_id == lead.id)).scalar_one()
    sign_in(owner)
    resp = hx_post(
        url(lead, f"/proposals/{sent.id}"),
        {
            "version": sent.version,
            "title": sent.title,
            "price": "5000",
            "timeline": sent.timeline,
            "scope_included": "Technical SEO audit fixes",
        },
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    numbers = db.session.execute(
        sa.select(Proposal.number, Proposal.price_cents)
        .where(Proposal.lead_id == lead.id)
        .order_by(Proposal.number)
    ).all()
    assert numbers == [(1, 450000), (2, 500000)]


def test_bad_price_and_add_on_price_are_refused_readably(client, sign_in, hx_post, journey, make, owner):
    lead = journey.to(make.lead(owner=owner), "proposal")
    sign_in(owner)
    resp = hx_post(url(lead, "/proposals"), {"title": "Plan", "price": "lots", **SCOPE_FORM})
    assert resp.status_code == 400 and "Price must be an amount" in resp.get_data(as_text=True)
    resp = hx_post(
        url(lead, "/proposals"),
        {"title": "Plan", "price": "10", **dict(SCOPE_FORM, scope_add_on="Copy | cheap")},
    )
    assert resp.status_code == 400 and "Price of add-on “Copy”" in resp.get_data(as_text=True)


def test_objection_and_forecast_on_the_sent_proposal(client, sign_in, hx_post, journey, make, owner):
    lead = journey.to(make.lead(owner=owner), "contract")
    sent = db.session.execute(sa.select(Proposal).where(Proposal.lead_id == lead.id)).scalar_one()
    sign_in(owner)
    resp = hx_post(
        url(lead, f"/proposals/{sent.id}/objection"), {"version": sent.version, "objection": "Too expensive"}
    )
    assert resp.status_code == 200
    sent = db.session.get(Proposal, sent.id)
    resp = hx_post(
        url(lead, f"/proposals/{sent.id}/forecast"), {"version": sent.version, "probability": "150"}
    )
    assert resp.status_code == 400 and "between 0 and 100" in resp.get_data(as_text=True)
    resp = hx_post(
        url(lead, f"/proposals/{sent.id}/forecast"), {"version": sent.version, "probability": "70"}
    )
    assert resp.status_code == 200 and db.session.get(Lead, lead.id).probability == 70
    assert db.session.get(Proposal, sent.id).objection == "Too expensive"


def test_contract_form_and_mark_won(client, sign_in, hx_post, journey, make, owner):
    lead = journey.to(make.lead(owner=owner), "accepted")
    onboarding = make.user("delivery", name="Dora Delivery")
    sign_in(owner)
    resp = hx_post(url(lead, "/won"), {"version": lead.version})
    assert resp.status_code == 422 and "Contract is not signed" in resp.get_data(as_text=True)
    contract = db.session.execute(sa.select(Contract).where(Contract.lead_id == lead.id)).scalar_one()
    resp = hx_post(
        url(lead, "/contract"),
        {
            "version": contract.version,
            "state": "signed",
            "payment_state": "invoiced",
            "kickoff_date": (today() + timedelta(days=7)).isoformat(),
            "onboarding_owner_id": str(onboarding.id),
            "launch_blockers": "GA4 access pending",
        },
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    contract = db.session.get(Contract, contract.id)
    assert contract.state == "signed" and contract.onboarding_owner_id == onboarding.id
    resp = hx_post(url(lead, "/won"), {"version": db.session.get(Lead, lead.id).version})
    assert resp.status_code == 200 and db.session.get(Lead, lead.id).stage == "won"
    assert "Won" in resp.get_data(as_text=True)


def test_contract_stale_version_is_a_conflict(client, sign_in, hx_post, journey, make, owner):
    lead = journey.to(make.lead(owner=owner), "accepted")
    contract = db.session.execute(sa.select(Contract).where(Contract.lead_id == lead.id)).scalar_one()
    sign_in(owner)
    resp = hx_post(url(lead, "/contract"), {"version": contract.version - 1 or 99, "state": "sent"})
    assert resp.status_code == 409


def test_another_leads_proposal_or_audit_is_404(client, sign_in, hx_post, journey, make, owner):
    lead = journey.to(make.lead(owner=owner), "contract")
    other = make.lead(owner=owner)
    sent = db.session.execute(sa.select(Proposal).where(Proposal.lead_id == lead.id)).scalar_one()
    audit = db.session.execute(sa.select(Audit).where(Audit.lead_id == lead.id)).scalar_one()
    sign_in(owner)
    assert hx_post(url(other, f"/proposals/{sent.id}/objection"), {"objection": "x"}).status_code == 404
    assert hx_post(url(other, f"/audits/{audit.id}"), {"raw_notes": "x"}).status_code == 404
