"""Client-safe publication: report notes, audit summaries and reports reach clients only when marked
client-safe and approved, in exactly the wording that was approved."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..models import Approval, Audit, Lead, Project, Report, ReportNote, Task, User, utcnow
from ..models.vocab import NOTE_VISIBILITY
from .errors import Invalid
from .trail import check_version, record_event, require_staff


def on_approval_decided(session: Session, approval: Approval, actor: User) -> None:
    """Carry an approval decision to its client-safe subject (only if the text is unchanged)."""
    state = "approved" if approval.state == "approved" else "rejected"
    if approval.audit_id is not None:
        audit = session.get(Audit, approval.audit_id)
        if (audit.client_summary or "").strip() == approval.content:
            audit.client_summary_status = state
    elif approval.report_note_id is not None:
        note = session.get(ReportNote, approval.report_note_id)
        if note.body.strip() == approval.content:
            note.status = state
    elif approval.report_id is not None:
        report = session.get(Report, approval.report_id)
        if (report.client_summary or "").strip() == approval.content and report.status == "draft":
            report.status = "approved" if state == "approved" else "draft"
    elif approval.project_id is not None:
        project = session.get(Project, approval.project_id)
        if project_client_text(project) == approval.content:
            project.client_text_status = state
    elif approval.task_id is not None:
        task = session.get(Task, approval.task_id)
        if task.title.strip() == approval.content:
            task.client_visible = approval.state == "approved"  # a client checklist item from then on
    if approval.state == "approved" and approval.kind == "client_summary" and approval.lead_id:
        record_event(session, session.get(Lead, approval.lead_id), "client_safe_published", actor,
                     approval_id=approval.id)


def project_client_text(project: Project) -> str:
    """What a client reads of a project besides its name and dates: its next steps and launch blockers,
    as one text an approver backs (and the exact content of its client_text approval)."""
    parts = [("Next steps", project.client_next_steps), ("Launch blockers", project.client_launch_blockers)]
    return "\n\n".join(f"{label}: {text.strip()}" for label, text in parts if (text or "").strip())


def add_note(session: Session, actor: User, *, body: str, visibility: str, report: Report | None = None,
             audit: Audit | None = None) -> ReportNote:
    """A note on a report or audit. Internal notes never leave staff pages; client-safe ones need approval."""
    require_staff(actor, action="write notes")
    if visibility not in NOTE_VISIBILITY:
        raise Invalid("A note is internal or client-safe.", "visibility")
    text = (body or "").strip()
    if not text:
        raise Invalid("Write the note.", "body")
    if (report is None) == (audit is None):
        raise Invalid("A note belongs to one report or one audit.")
    note = ReportNote(body=text, visibility=visibility, author_id=actor.id, status="none",
                      report_id=report.id if report else None, audit_id=audit.id if audit else None)
    session.add(note)
    session.flush()
    return note


def edit_note(session: Session, note: ReportNote, actor: User, expected_version: int | None, *,
              body: str) -> ReportNote:
    """Changing a note's words withdraws its approval: the new words need approval again."""
    require_staff(actor, action="edit notes")
    check_version(note, expected_version, "This note")
    text = (body or "").strip()
    if not text:
        raise Invalid("Write the note.", "body")
    if text != note.body:
        note.body = text
        note.status = "none"
        for approval in session.query(Approval).filter(Approval.report_note_id == note.id,
                                                       Approval.state.in_(("pending", "approved"))):
            approval.state = "superseded"
    session.flush()
    return note


def request_note_approval(session: Session, note: ReportNote, actor: User) -> Approval:
    from .approvals import request_approval

    if note.visibility != "client_safe":
        raise Invalid("Internal notes are never shown to clients, so they need no approval.")
    lead = _lead_of(session, note)
    approval = request_approval(session, actor, kind="client_summary", content=note.body.strip(), lead=lead,
                                report_note=note)
    if approval.state == "pending":
        note.status = "pending"
    session.flush()
    return approval


def _lead_of(session: Session, note: ReportNote) -> Lead | None:
    if note.audit_id is not None:
        return session.get(Lead, session.get(Audit, note.audit_id).lead_id)
    report = session.get(Report, note.report_id)
    return session.get(Lead, report.lead_id) if report.lead_id else None


def request_report_approval(session: Session, report: Report, actor: User) -> Approval:
    from .approvals import request_approval

    if report.kind != "client_report":
        raise Invalid("Only client reports are published to clients.")
    if not (report.client_summary or "").strip():
        raise Invalid("Write the report's client summary first.", "client_summary")
    lead = session.get(Lead, report.lead_id) if report.lead_id else None
    return request_approval(session, actor, kind="client_summary", content=report.client_summary.strip(),
                            lead=lead, report=report)


def publish_report(session: Session, report: Report, actor: User, expected_version: int | None) -> Report:
    """Publish an approved client report to the portal (with its approved client-safe notes only)."""
    require_staff(actor, action="publish reports")
    check_version(report, expected_version, "This report")
    if report.status == "published":
        raise Invalid("This report is already published.")
    if report.status != "approved":
        raise Invalid("A report is published only after its client summary is approved.")
    report.status, report.published_at = "published", utcnow()
    if report.lead_id:
        record_event(session, session.get(Lead, report.lead_id), "client_safe_published", actor,
                     report_id=report.id)
    session.flush()
    if report.client_id is not None:
        from .cadence import send_report_notice

        send_report_notice(session, report)  # each client contact hears of it once
    return report
