"""The client sees the why: each promise of a sent proposal with the approved audit evidence it rests
on, and nothing internal (raw notes, sources, wording not approved)."""

from __future__ import annotations

from zarts.domain import approvals, evidence, gates
from zarts.extensions import db

FINDING = "About 40 % of mobile visitors leave the form."
BASELINE = "Your cost per lead was 84 EUR in September."


def _sent(make, journey, approve_wording=(FINDING, BASELINE)):
    lead = journey.to(make.lead(contact_email="buyer@client.test"), "proposal")
    approver = journey._approver()
    for item in gates.completed_audit(db.session, lead.id).items:
        if item.client_text in approve_wording:
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
    contact = journey.contact(lead)
    db.session.commit()
    return p, contact


def test_the_client_reads_each_promise_beside_its_approved_evidence(make, journey, portal_as):
    p, contact = _sent(make, journey)
    html = portal_as(contact).get(f"/portal/proposals/{p.id}").get_data(as_text=True)
    improvement = html[html.index("CPL down 20% in 90 days") :]
    assert improvement.index(FINDING) < improvement.index("</dd>")  # beside the promise, not elsewhere
    assert "Based on your audit:" in improvement[: improvement.index("</dd>")]
    assert html.count(BASELINE) == 2  # under the expected improvement and the timeline
    for internal in ("Raw: form drops on iOS Safari", "Google Ads export", "Rests on", "audit #"):
        assert internal not in html


def test_evidence_wording_not_approved_is_not_shown(make, journey, portal_as):
    p, contact = _sent(make, journey, approve_wording=(FINDING,))
    html = portal_as(contact).get(f"/portal/proposals/{p.id}").get_data(as_text=True)
    assert FINDING in html
    assert BASELINE not in html


def test_a_later_audit_version_does_not_change_what_the_client_was_sent(make, journey, portal_as):
    from zarts.domain import audits

    p, contact = _sent(make, journey)
    lead = p.lead
    draft = evidence.new_audit_version(db.session, gates.completed_audit(db.session, lead.id), lead.owner)
    evidence.update_item(db.session, draft.items[0], lead.owner, None, client_text="A different finding")
    audits.complete_audit(db.session, draft, lead.owner, None)
    db.session.commit()
    html = portal_as(contact).get(f"/portal/proposals/{p.id}").get_data(as_text=True)
    assert FINDING in html and "A different finding" not in html


def test_the_proposal_pdf_shows_each_promise_with_its_evidence(make, journey, portal_as):
    import io

    from pypdf import PdfReader

    p, contact = _sent(make, journey)
    resp = portal_as(contact).get(f"/portal/proposals/{p.id}/pdf")
    assert resp.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(resp.data)).pages).replace("\n", " ")
    text = " ".join(text.split())
    assert "Based on your audit:" in text and FINDING in text and BASELINE in text
    for internal in ("Raw: form drops on iOS Safari", "Google Ads export", "Rests on"):
        assert internal not in text
