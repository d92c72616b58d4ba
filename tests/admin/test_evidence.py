"""Audits, reports and notes go through zarts.domain: the evidence of a completed audit stays as it was,
client-safe text reaches a client only as approved, and every admin edit is on the lead's timeline."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from tests.admin.conftest import flashes, form_fields, settle
from tests.admin.rows import add_row
from zarts.domain import approvals, audits, publication
from zarts.extensions import db
from zarts.models import Approval, Audit, Event, Report, ReportNote, User


def edit(client, auth, table, row_id, **changes):
    """Open the edit form and submit it as a browser would (text areas with CRLF line ends)."""
    form = form_fields(client.get(f"/admin/{table}/edit/?id={row_id}").get_data(as_text=True))
    form = {name: value.replace("\n", "\r\n") for name, value in form.items()}
    return form, auth.post(f"/admin/{table}/edit/?id={row_id}", form | changes)


def run_action(auth, table, action, *ids):
    resp = auth.post(
        f"/admin/{table}/action/",
        {"action": action, "rowid": [str(i) for i in ids], "url": f"/admin/{table}/"},
        follow_redirects=True,
    )
    assert resp.status_code == 200
    return flashes(resp.get_data(as_text=True))


def field_errors(html: str, field: str) -> list[str]:
    """The messages Flask-Admin shows under one form field."""
    found = re.search(rf'id="{field}"[^>]*>.*?<div class="invalid-feedback">(.*?)</div>', html, re.DOTALL)
    if found is None:
        return []
    return [unescape(m.strip()) for m in re.findall(r"<li>(.*?)</li>", found.group(1), re.DOTALL)]


def changes_of(lead_id, table) -> list[dict]:
    """The fields_changed events of a lead for rows of `table`, oldest first."""
    changed = sa.select(Event).where(Event.lead_id == lead_id, Event.kind == "fields_changed")
    events = db.session.scalars(changed.order_by(Event.id))
    return [e.payload for e in events if e.payload["table"] == table]


def completed(lead, findings="Forms lose 30% on mobile"):
    audit = audits.start_audit(db.session, lead, lead.owner)
    audits.save_audit(
        db.session,
        audit,
        lead.owner,
        audit.version,
        findings=findings,
        baseline_figures="CPL 84 EUR",
        client_summary="Your mobile form loses a third.",
    )
    return audits.complete_audit(db.session, audit, lead.owner, audit.version)


def test_client_safe_status_fields_are_not_in_forms(client, auth, make):
    auth.login_as(make.user("admin"))
    audit_id, note_id = add_row("audits").id, add_row("report_notes").id
    report_id = add_row("reports").id
    settle()
    audit_form, _ = edit(client, auth, "audits", audit_id)
    note_form, _ = edit(client, auth, "report_notes", note_id)
    report_form, _ = edit(client, auth, "reports", report_id)
    assert "client_summary" in audit_form
    assert not {"client_summary_status", "status", "completed_at"} & set(audit_form)
    assert "body" in note_form and "status" not in note_form
    assert "client_summary" in report_form and not {"status", "published_at"} & set(report_form)
    # What a row belongs to is set when it is made.
    assert "lead" not in audit_form and not {"report", "audit", "author"} & set(note_form)


# ---------------------------------------------------------------- audits


def test_the_findings_of_a_completed_audit_cannot_be_rewritten_in_the_admin(client, auth, make, journey):
    """Issue 16: the admin wrote a completed audit's findings while it stayed completed."""
    owner = auth.login_as(make.user("growth_ops"))
    lead = journey.to(make.lead(owner=owner), "audit")
    audit = completed(lead)
    audit_id, version = audit.id, audit.version
    settle()

    _, resp = edit(client, auth, "audits", audit_id, findings="Forms lose 60% on mobile")

    html = resp.get_data(as_text=True)
    reason = "The evidence of a completed audit is frozen. Start a new audit to change it."
    assert resp.status_code == 200 and f"Not saved: {reason}" in flashes(html)
    assert field_errors(html, "findings") == [reason]
    assert "Forms lose 60% on mobile" in html  # the form comes back as typed
    settle()
    audit = db.session.get(Audit, audit_id)
    assert (audit.findings, audit.status, audit.version) == ("Forms lose 30% on mobile", "completed", version)


def test_internal_notes_of_a_completed_audit_are_still_edited_and_recorded(client, auth, make, journey):
    owner = auth.login_as(make.user("growth_ops"))
    lead = journey.to(make.lead(owner=owner), "audit")
    audit_id, lead_id = completed(lead).id, lead.id
    settle()

    _, resp = edit(client, auth, "audits", audit_id, raw_notes="Provider is slow to answer.")

    assert resp.status_code == 302
    settle()
    assert db.session.get(Audit, audit_id).raw_notes == "Provider is slow to answer."
    [record] = changes_of(lead_id, "audits")[-1:]
    assert record["via"] == "admin" and record["row"] == audit_id
    assert record["changes"] == [{"field": "raw_notes", "new": "Provider is slow to answer."}]  # old: none


def test_an_audit_created_edited_and_completed_in_the_admin_leaves_its_events(client, auth, make, journey):
    owner = auth.login_as(make.user("growth_ops"))
    lead_id, owner_id = journey.to(make.lead(owner=owner), "audit").id, owner.id
    settle()

    created = auth.post(
        "/admin/audits/new/",
        {"lead": str(lead_id), "findings": "Forms lose 30% on mobile", "raw_notes": "Call notes"},
    )
    audit = db.session.scalars(sa.select(Audit).where(Audit.lead_id == lead_id)).one()
    audit_id = audit.id
    settle()
    _, edited = edit(client, auth, "audits", audit_id, baseline_figures="CPL 84 EUR")
    done = run_action(auth, "audits", "complete", audit_id)

    assert created.status_code == edited.status_code == 302
    assert done == [f"Audit {audit_id}: completed; its evidence is frozen."]
    settle()
    audit = db.session.get(Audit, audit_id)
    assert (audit.status, audit.completed_by_id) == ("completed", owner_id)
    records = changes_of(lead_id, "audits")
    assert [sorted(c["field"] for c in r["changes"]) for r in records] == [
        ["findings", "raw_notes"],
        ["baseline_figures"],
    ]
    assert all(r["via"] == "admin" for r in records)
    kinds = db.session.scalars(sa.select(Event.kind).where(Event.lead_id == lead_id).order_by(Event.id)).all()
    assert kinds[-3:] == ["fields_changed", "fields_changed", "audit_completed"]


def test_an_audit_without_evidence_is_not_completed(client, auth, make, journey):
    owner = auth.login_as(make.user("growth_ops"))
    lead = journey.to(make.lead(owner=owner), "audit")
    audit_id = audits.start_audit(db.session, lead, owner).id
    settle()

    said = run_action(auth, "audits", "complete", audit_id)

    missing = "An audit needs evidence before it is completed: findings and baseline figures missing."
    assert said == [f"Audit {audit_id}: {missing}"]
    settle()
    assert db.session.get(Audit, audit_id).status == "draft"


def test_growth_ops_work_only_on_the_audits_of_their_own_leads(client, auth, make, journey):
    auth.login_as(make.user("growth_ops"))
    theirs = journey.to(make.lead(), "audit")  # owned by another growth ops user
    audit_id, lead_id = audits.start_audit(db.session, theirs, theirs.owner).id, theirs.id
    settle()

    created = auth.post("/admin/audits/new/", {"lead": str(lead_id), "findings": "Mine now"})
    _, edited = edit(client, auth, "audits", audit_id, findings="Mine now")

    assert "Not saved: Only the owner of this opportunity (or an admin) can start audits." in flashes(
        created.get_data(as_text=True)
    )
    assert "Not saved: Only the owner of this opportunity (or an admin) can edit audits." in flashes(
        edited.get_data(as_text=True)
    )
    assert db.session.scalars(sa.select(Audit.findings).where(Audit.lead_id == lead_id)).all() == [None]


def test_a_changed_approved_summary_is_withdrawn_until_approved_again(client, auth, make, journey):
    owner = auth.login_as(make.user("growth_ops"))
    lead = journey.to(make.lead(owner=owner), "audit")
    audit = completed(lead)
    approval = audits.request_summary_approval(db.session, audit, owner)
    approvals.decide(db.session, approval, make.user("approver"), approval.version, approve=True)
    audit_id, approval_id = audit.id, approval.id
    settle()

    _, resp = edit(client, auth, "audits", audit_id, client_summary="CPL will halve.")
    asked = run_action(auth, "audits", "request_summary_approval", audit_id)

    assert resp.status_code == 302
    assert asked == [f"Audit {audit_id}: approval of the client-safe summary requested."]
    settle()
    audit = db.session.get(Audit, audit_id)
    assert (audit.client_summary, audit.client_summary_status) == ("CPL will halve.", "pending")
    assert db.session.get(Approval, approval_id).state == "superseded"


# ---------------------------------------------------------------- notes


def test_an_approved_client_safe_note_cannot_be_rewritten(client, auth, make):
    auth.login_as(make.user("growth_ops"))
    note = add_row("report_notes", visibility="client_safe", status="approved", body="Leads up 12%.")
    note_id = note.id
    settle()

    _, resp = edit(client, auth, "report_notes", note_id, body="Leads up 40%!")

    assert resp.status_code == 200
    assert any("approved for the client" in m for m in flashes(resp.get_data(as_text=True)))
    settle()
    assert db.session.get(ReportNote, note_id).body == "Leads up 12%."


def test_a_draft_note_is_edited_normally(client, auth, make):
    auth.login_as(make.user("growth_ops"))
    note_id = add_row("report_notes", visibility="client_safe", status="none").id
    settle()

    _, resp = edit(client, auth, "report_notes", note_id, body="Leads up 12%.")

    assert resp.status_code == 302
    settle()
    assert db.session.get(ReportNote, note_id).body == "Leads up 12%."


def test_a_note_made_internal_or_client_safe_again_needs_approval_again(client, auth, make, journey):
    owner = auth.login_as(make.user("growth_ops"))
    report = published_report(make, journey, owner)
    note = publication.add_note(
        db.session, owner, body="Paid search carried the gain.", visibility="client_safe", report=report
    )
    note_id = note.id
    settle()

    asked = run_action(auth, "report_notes", "request_approval", note_id)
    settle()
    approval = db.session.scalars(sa.select(Approval).where(Approval.report_note_id == note_id)).one()
    approvals.decide(db.session, approval, make.user("approver"), approval.version, approve=True)
    approval_id = approval.id
    settle()
    _, hidden = edit(client, auth, "report_notes", note_id, visibility="internal")
    settle()
    note = db.session.get(ReportNote, note_id)
    internal = (note.visibility, note.status)
    _, shown = edit(client, auth, "report_notes", note_id, visibility="client_safe")

    assert asked == [f"Note {note_id}: approval of the note requested."]
    assert hidden.status_code == shown.status_code == 302
    assert internal == ("internal", "none")
    settle()
    note = db.session.get(ReportNote, note_id)
    assert (note.visibility, note.status, note.is_client_safe) == ("client_safe", "none", False)
    assert db.session.get(Approval, approval_id).state == "superseded"


# ---------------------------------------------------------------- reports


def published_report(make, journey, owner) -> Report:
    lead = journey.to(make.lead(owner=owner), "won")
    report = publication.create_report(
        db.session,
        owner,
        kind="client_report",
        title="May",
        client_id=lead.client_id,
        lead_id=lead.id,
        client_summary="Leads rose 12%.",
    )
    approval = publication.request_report_approval(db.session, report, owner)
    approvals.decide(db.session, approval, make.user("approver"), approval.version, approve=True)
    return publication.publish_report(db.session, report, owner, report.version)


def test_a_report_written_in_the_admin_reaches_the_client_only_approved(client, auth, make, journey):
    owner = auth.login_as(make.user("growth_ops"))
    lead = journey.to(make.lead(owner=owner), "won")
    client_id, lead_id = lead.client_id, lead.id
    approver_id = make.user("approver").id
    settle()

    made = auth.post(
        "/admin/reports/new/",
        {
            "kind": "client_report",
            "title": "June",
            "client": str(client_id),
            "lead": str(lead_id),
            "client_summary": "Leads rose 8%.",
            "figures": '{"leads": 134}',
        },
    )
    report = db.session.scalars(sa.select(Report).where(Report.title == "June")).one()
    report_id = report.id
    settle()
    early = run_action(auth, "reports", "publish", report_id)
    asked = run_action(auth, "reports", "request_approval", report_id)
    _, reworded = edit(client, auth, "reports", report_id, client_summary="Leads rose 9%.")
    settle()
    first = db.session.scalars(sa.select(Approval.state).where(Approval.report_id == report_id)).one()
    run_action(auth, "reports", "request_approval", report_id)
    settle()
    second = db.session.scalars(
        sa.select(Approval).where(Approval.report_id == report_id, Approval.state == "pending")
    ).one()
    approvals.decide(db.session, second, db.session.get(User, approver_id), second.version, approve=True)
    settle()
    _, frozen = edit(client, auth, "reports", report_id, client_summary="Leads rose 20%.")
    published = run_action(auth, "reports", "publish", report_id)

    assert made.status_code == 302 and reworded.status_code == 302
    assert early == [f"Report {report_id}: A report is published only after its client summary is approved."]
    assert asked == [f"Report {report_id}: approval of the client summary requested."]
    assert first == "superseded"  # the words it covered were changed
    reason = "Not saved: This report is approved: what the client reads stays as it was approved."
    assert frozen.status_code == 200 and reason in flashes(frozen.get_data(as_text=True))
    assert published == [f"Report {report_id}: published to the client's portal."]
    settle()
    report = db.session.get(Report, report_id)
    assert (report.status, report.client_summary) == ("published", "Leads rose 9%.")
    assert report.figures == {"leads": 134}
    made_record, reworded_record = changes_of(lead_id, "reports")
    assert {c["field"] for c in made_record["changes"]} == {
        "title",
        "client_id",
        "lead_id",
        "figures",
        "client_summary",
    }
    assert reworded_record["changes"] == [
        {"field": "client_summary", "old": "Leads rose 8%.", "new": "Leads rose 9%."}
    ]


def test_the_internal_body_of_a_published_report_stays_editable(client, auth, make, journey):
    owner = auth.login_as(make.user("growth_ops"))
    report_id = published_report(make, journey, owner).id
    settle()

    _, resp = edit(client, auth, "reports", report_id, internal_body="Attribution still noisy.")

    assert resp.status_code == 302
    settle()
    assert db.session.get(Report, report_id).internal_body == "Attribution still noisy."


@pytest.mark.parametrize("table", ["audits", "reports", "report_notes"])
def test_evidence_is_never_deleted(table, client, auth, make):
    auth.login_as(make.user("admin"))
    row = add_row(table)
    model, row_id = type(row), row.id
    settle()

    resp = auth.post(f"/admin/{table}/delete/", {"id": str(row_id), "url": f"/admin/{table}/"})

    assert resp.status_code == 403 and db.session.get(model, row_id) is not None
