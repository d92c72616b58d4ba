"""Delivery inherits the promise ledger: the handoff gives the project its promises (claim, baseline,
target, promised date), the packet lists them, a client report shows promised vs baseline vs measured
with the values delivery entered, and the Audit proof output lists claim → evidence."""

from __future__ import annotations

import sqlalchemy as sa

from tests.portal.conftest import Portal
from zarts.domain import approvals, gates, publication
from zarts.domain.reads import outputs
from zarts.domain.reads.outputs.packet import packet
from zarts.domain.promises import ledger
from zarts.extensions import db
from zarts.models import Project, Promise, Report


def _won(make, journey, target="70"):
    from zarts.domain import citations

    lead = journey.to(make.lead(), "proposal")
    p = journey.draft(lead)
    baseline = next(i for i in gates.completed_audit(db.session, lead.id).items if i.kind == "baseline")
    citations.cite(
        db.session,
        p,
        lead.owner,
        None,
        {"expected_improvement": [baseline.id]},
        targets={("expected_improvement", baseline.id): target},
    )
    journey.approve_all(p)
    journey.send(p)
    journey.to(lead, "won")
    db.session.commit()  # the handoff runs after the commit (inline without Redis)
    project = db.session.scalars(sa.select(Project).where(Project.lead_id == lead.id)).one()
    return lead, p, project


def test_the_handoff_gives_the_project_its_promises_and_the_packet_lists_them(make, journey):
    lead, p, project = _won(make, journey)
    rows = db.session.scalars(
        sa.select(Promise).where(Promise.project_id == project.id).order_by(Promise.id)
    ).all()
    improvement = next(r for r in rows if r.claim_kind == "expected_improvement")
    assert (
        improvement.claim_text,
        improvement.metric,
        str(improvement.baseline_value),
        improvement.unit,
        improvement.period,
        str(improvement.target_value),
        improvement.better,
    ) == ("CPL down 20% in 90 days", "cost per lead", "84.0000", "EUR", "Sep 2026", "70.0000", "lower")
    assert improvement.promised_at == p.sent_at and improvement.proposal_id == p.id
    assert {r.claim_kind for r in rows} == {"expected_improvement", "timeline"}
    staff = packet(db.session, lead.id, "staff")
    line = next(r for r in staff["promised"]["ledger"] if r["metric"])
    assert (line["baseline"], line["target"], line["measured"], line["reached"]) == ("84", "70", None, None)
    stored = db.session.scalars(
        sa.select(Report).where(Report.kind == "handoff_packet", Report.lead_id == lead.id)
    ).one()
    assert any(r["claim"] == "CPL down 20% in 90 days" for r in stored.figures["promised"]["ledger"])


def test_a_client_report_shows_promised_vs_baseline_vs_measured(make, journey, app):
    lead, _, project = _won(make, journey)
    report = db.session.scalars(
        sa.select(Report).where(Report.kind == "client_report", Report.project_id == project.id)
    ).one()
    delivery, growth = make.user("delivery"), lead.owner
    promise = db.session.scalars(
        sa.select(Promise).where(
            Promise.project_id == project.id, Promise.claim_kind == "expected_improvement"
        )
    ).one()
    db.session.commit()  # requests run in their own sessions
    staff = Portal(app, delivery)
    resp = staff.post(
        f"/workspace/reports/{report.id}/measurements",
        {"promise_id": promise.id, "period": "Nov 2026", "value": "76.4", "note": "from HubSpot"},
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Measurement recorded." in html
    table = html[html.index("Promised vs baseline vs measured") :]
    assert "84 EUR" in table and "70 EUR" in table and "76.4 EUR" in table and "not yet" in table
    # Growth ops may not record what delivery measured.
    refused = Portal(app, growth).post(
        f"/workspace/reports/{report.id}/measurements",
        {"promise_id": promise.id, "period": "Dec 2026", "value": "60"},
        htmx=True,
    )
    assert refused.status_code == 403
    row = ledger(db.session, [project.id])[project.id]
    assert [str(r.measured.value) for r in row if r.measured] == ["76.4000"]
    # Published, the client reads the same table (never delivery's note).
    report = db.session.get(Report, report.id)
    report.client_summary = "A good first month."
    db.session.flush()
    approver = make.user("approver")
    approvals.decide(
        db.session,
        publication.request_report_approval(db.session, report, lead.owner),
        approver,
        None,
        approve=True,
    )
    publication.publish_report(db.session, report, lead.owner, None)
    db.session.commit()
    contact = journey.contact(lead)
    page = Portal(app, contact).get(f"/portal/reports/{report.id}").get_data(as_text=True)
    assert "What we promised" in page and "CPL down 20% in 90 days" in page and "76.4 EUR" in page
    assert "from HubSpot" not in page


def test_the_audit_proof_output_lists_claim_to_evidence(make, journey):
    lead = journey.to(make.lead(), "proposal")
    journey.draft(lead)
    row = outputs.detail(db.session, "audit-proof", lead.id).row
    ids = [i.id for i in gates.completed_audit(db.session, lead.id).items]
    assert row["claims_evidence"].splitlines() == [
        f"Expected improvement → #{ids[0]}, #{ids[1]}",
        f"Timeline → #{ids[0]}, #{ids[1]}",
    ]
    assert "Raw:" not in row["evidence_items"] and "baseline" in row["evidence_items"]
