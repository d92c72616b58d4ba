"""Audit evidence on the lead page: items added, edited, removed while the audit is a draft, frozen
once it is completed, corrected by a new version; their wording routed to approval; the approvals
queue shows each claim beside its evidence (raw notes marked internal)."""

from __future__ import annotations

import sqlalchemy as sa

from zarts.domain import audits, gates
from zarts.extensions import db
from zarts.models import Approval, Audit, EvidenceItem


def url(lead, tail):
    return f"/workspace/leads/{lead.id}{tail}"


def _draft_audit(journey, make, owner):
    lead = journey.to(make.lead(owner=owner), "audit")
    audit = audits.start_audit(db.session, lead, owner)
    return lead, audit


def test_add_edit_and_remove_evidence_of_a_draft_audit(client, sign_in, hx_post, journey, make, owner):
    lead, audit = _draft_audit(journey, make, owner)
    sign_in(owner)
    resp = hx_post(
        url(lead, f"/audits/{audit.id}/evidence"),
        {"kind": "baseline", "metric": "cost per lead", "value": "abc", "unit": "EUR"},
    )
    assert resp.status_code == 400 and "Write the value as a number" in resp.get_data(as_text=True)
    resp = hx_post(
        url(lead, f"/audits/{audit.id}/evidence"),
        {
            "kind": "baseline",
            "metric": "cost per lead",
            "value": "84",
            "unit": "EUR",
            "period": "Sep 2026",
            "source": "Google Ads export",
            "better": "lower",
            "raw_note": "Only search campaigns",
            "client_text": "Your cost per lead was 84 EUR.",
        },
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Evidence added." in body and "cost per lead 84 EUR" in body
    item = db.session.scalars(sa.select(EvidenceItem).where(EvidenceItem.audit_id == audit.id)).one()
    assert (item.metric, str(item.value), item.better) == ("cost per lead", "84.0000", "lower")

    resp = hx_post(
        url(lead, f"/evidence/{item.id}"),
        {
            "version": item.version,
            "metric": "cost per lead",
            "value": "84",
            "client_text": "CPL was 84 EUR.",
            "then": "request_approval",
        },
    )
    assert resp.status_code == 200 and "Client-safe wording sent for approval." in resp.get_data(as_text=True)
    item = db.session.get(EvidenceItem, item.id)
    assert item.client_text == "CPL was 84 EUR." and item.client_safe_status == "pending"
    approval = db.session.scalars(sa.select(Approval).where(Approval.evidence_item_id == item.id)).one()
    assert approval.kind == "client_summary" and approval.content == "CPL was 84 EUR."

    resp = hx_post(url(lead, f"/evidence/{item.id}"), {"version": item.version, "then": "remove"})
    assert resp.status_code == 200 and "Evidence removed." in resp.get_data(as_text=True)
    assert db.session.get(EvidenceItem, item.id) is None


def test_a_completed_audits_evidence_is_frozen_and_corrected_by_a_new_version(
    client, sign_in, hx_post, journey, make, owner
):
    lead = journey.to(make.lead(owner=owner), "proposal")
    audit = gates.completed_audit(db.session, lead.id)
    item = audit.items[0]
    sign_in(owner)
    html = client.get(url(lead, "")).get_data(as_text=True)
    assert "Raw: form drops on iOS Safari" in html and "Correct this audit: start a new version" in html
    resp = hx_post(url(lead, f"/evidence/{item.id}"), {"version": item.version, "raw_note": "changed"})
    assert resp.status_code == 400 and "frozen" in resp.get_data(as_text=True)
    resp = hx_post(url(lead, f"/audits/{audit.id}/evidence"), {"kind": "finding", "raw_note": "late"})
    assert resp.status_code == 400 and "frozen" in resp.get_data(as_text=True)

    resp = hx_post(url(lead, f"/audits/{audit.id}/new-version"))
    assert resp.status_code == 200 and "New audit version started" in resp.get_data(as_text=True)
    copy = db.session.scalars(sa.select(Audit).where(Audit.previous_id == audit.id)).one()
    assert copy.status == "draft" and len(copy.items) == len(audit.items)


def test_the_approvals_queue_shows_each_claim_beside_its_evidence(
    client, sign_in, journey, make, owner, approver
):
    from zarts.domain import proposals

    lead = journey.to(make.lead(owner=owner), "proposal")
    proposals.request_approvals(db.session, journey.draft(lead), owner)
    sign_in(approver)
    html = client.get("/workspace/approvals").get_data(as_text=True)
    claim = html[html.index("Expected-improvement claim") :]
    claim = claim[: claim.index("</article>")]
    assert "Each claim beside its evidence" in claim
    assert "About 40 % of mobile visitors leave the form." in claim
    assert "cost per lead 84 EUR, Sep 2026" in claim
    raw = claim.index("Raw: form drops on iOS Safari")
    assert "internal" in claim[raw - 120 : raw]  # the raw note is there for the approver, marked internal
