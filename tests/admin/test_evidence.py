"""Audits, reports and notes: client-safe status is the approver's, and approved text stays as approved."""

from __future__ import annotations

from tests.admin.conftest import flashes, form_fields, settle
from tests.admin.rows import add_row
from zarts.extensions import db
from zarts.models import Audit, ReportNote


def edit(client, auth, table, row_id, **changes):
    """Open the edit form and submit it as a browser would (text areas with CRLF line ends)."""
    form = form_fields(client.get(f"/admin/{table}/edit/?id={row_id}").get_data(as_text=True))
    form = {name: value.replace("\n", "\r\n") for name, value in form.items()}
    return form, auth.post(f"/admin/{table}/edit/?id={row_id}", form | changes)


def test_client_safe_status_fields_are_not_in_forms(client, auth, make):
    auth.login_as(make.user("admin"))
    audit_id, note_id = add_row("audits").id, add_row("report_notes").id
    report_id = add_row("reports").id
    settle()
    audit_form, _ = edit(client, auth, "audits", audit_id)
    note_form, _ = edit(client, auth, "report_notes", note_id)
    report_form, _ = edit(client, auth, "reports", report_id)
    assert "client_summary" in audit_form and not {"client_summary_status", "status", "completed_at"} & set(audit_form)
    assert "body" in note_form and "status" not in note_form
    assert "client_summary" in report_form and not {"status", "published_at"} & set(report_form)


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


def test_an_approved_audit_summary_is_frozen_but_internal_notes_are_not(client, auth, make):
    auth.login_as(make.user("growth_ops"))
    summary = "CPL is 84 EUR.\nLead flow: 120 a month."
    audit_id = add_row("audits", client_summary=summary, client_summary_status="approved").id
    settle()

    _, refused = edit(client, auth, "audits", audit_id, client_summary="CPL will halve.")
    _, saved = edit(client, auth, "audits", audit_id, raw_notes="Provider is slow to answer.")

    assert refused.status_code == 200 and saved.status_code == 302
    settle()
    audit = db.session.get(Audit, audit_id)
    assert (audit.client_summary, audit.raw_notes) == (summary, "Provider is slow to answer.")
