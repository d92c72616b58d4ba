"""Client-safe publication: report notes, audit summaries and reports reach clients only when marked
client-safe and approved, in exactly the wording that was approved."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Approval, Audit, EvidenceItem, Lead, Project, Report, ReportNote, Task, User, utcnow
from ..models.vocab import CADENCES, NOTE_VISIBILITY, REPORT_KINDS
from .approval_requests import request_approval, withdraw
from .errors import Invalid
from .trail import check_version, record_changes, record_event, require_staff


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
    elif approval.evidence_item_id is not None:
        item = session.get(EvidenceItem, approval.evidence_item_id)
        if (item.client_text or "").strip() == approval.content:
            item.client_safe_status = state
    if approval.state == "approved" and approval.kind == "client_summary" and approval.lead_id:
        record_event(
            session,
            session.get(Lead, approval.lead_id),
            "client_safe_published",
            actor,
            approval_id=approval.id,
        )


def project_client_text(project: Project) -> str:
    """What a client reads of a project besides its name and dates: its next steps and launch blockers,
    as one text an approver backs (and the exact content of its client_text approval)."""
    parts = [("Next steps", project.client_next_steps), ("Launch blockers", project.client_launch_blockers)]
    return "\n\n".join(f"{label}: {text.strip()}" for label, text in parts if (text or "").strip())


def add_note(
    session: Session,
    actor: User,
    *,
    body: str,
    visibility: str,
    report: Report | None = None,
    audit: Audit | None = None,
    via: str | None = None,
) -> ReportNote:
    """A note on a report or audit, recorded on the lead's timeline. Internal notes never leave staff
    pages; client-safe ones need approval."""
    require_staff(actor, action="write notes")
    if visibility not in NOTE_VISIBILITY:
        raise Invalid("A note is internal or client-safe.", "visibility")
    text = clean_text(body)
    if not text:
        raise Invalid("Write the note.", "body")
    if (report is None) == (audit is None):
        raise Invalid("A note belongs to one report or one audit.")
    note = ReportNote(
        body=text,
        visibility=visibility,
        author_id=actor.id,
        status="none",
        report_id=report.id if report else None,
        audit_id=audit.id if audit else None,
    )
    session.add(note)
    session.flush()
    record_changes(session, _lead_of(session, note), actor, note, {"visibility": None, "body": None}, via=via)
    return note


def edit_note(
    session: Session,
    note: ReportNote,
    actor: User,
    expected_version: int | None,
    *,
    body: str | None = None,
    visibility: str | None = None,
    via: str | None = None,
) -> ReportNote:
    """Change a note's words or who may read it. Either change withdraws its approval: the note needs
    approval again before a client reads it. The words of an approved note stay as approved (a client
    may have read them); making it internal withdraws it."""
    require_staff(actor, action="edit notes")
    check_version(note, expected_version, "This note")
    values = {}
    if body is not None:
        values["body"] = clean_text(body)
        if not values["body"]:
            raise Invalid("Write the note.", "body")
    if visibility is not None:
        if visibility not in NOTE_VISIBILITY:
            raise Invalid("A note is internal or client-safe.", "visibility")
        values["visibility"] = visibility
    if note.status == "approved" and values.get("body", note.body) != clean_text(note.body):
        raise Invalid(
            "This note is approved for the client: its words stay as they were approved. "
            "Write a new note to say more.",
            "body",
        )
    before = set_changed(note, values)
    if before:
        note.status = "none"
        supersede(session, Approval.report_note_id == note.id)
    record_changes(session, _lead_of(session, note), actor, note, before, via=via)
    session.flush()
    return note


def request_note_approval(session: Session, note: ReportNote, actor: User) -> Approval:
    if note.visibility != "client_safe":
        raise Invalid("Internal notes are never shown to clients, so they need no approval.")
    lead = _lead_of(session, note)
    approval = request_approval(
        session, actor, kind="client_summary", content=note.body.strip(), lead=lead, report_note=note
    )
    if approval.state == "pending":
        note.status = "pending"
    session.flush()
    return approval


def _lead_of(session: Session, note: ReportNote) -> Lead | None:
    if note.audit_id is not None:
        return session.get(Lead, session.get(Audit, note.audit_id).lead_id)
    return _report_lead(session, session.get(Report, note.report_id))


def _report_lead(session: Session, report: Report) -> Lead | None:
    """The lead whose timeline a report's changes are recorded on: its own, else its project's."""
    lead_id = report.lead_id
    if lead_id is None and report.project_id is not None:
        lead_id = session.get(Project, report.project_id).lead_id
    return session.get(Lead, lead_id) if lead_id is not None else None


# What a report holds besides its kind and state; the client reads REPORT_CLIENT_FACING once it is
# published (its summary only in the wording an approver approved).
REPORT_FIELDS = (
    "title",
    "client_id",
    "project_id",
    "lead_id",
    "owner_id",
    "cadence",
    "period_start",
    "period_end",
    "figures",
    "client_summary",
    "internal_body",
)
REPORT_CLIENT_FACING = ("title", "client_id", "period_start", "period_end", "figures", "client_summary")


def create_report(
    session: Session, actor: User, *, kind: str, title: str, via: str | None = None, **fields
) -> Report:
    """A draft report written by hand (the report cadence and the handoff make theirs), recorded on
    the lead's timeline. Nothing of it reaches a client before its summary is approved and it is
    published."""
    require_staff(actor, "growth_ops", "delivery", action="write reports")
    if kind not in REPORT_KINDS:
        raise Invalid("Choose the kind of report.", "kind")
    report = Report(kind=kind, status="draft", figures={})
    before = set_changed(report, _report_values(session, report, {"title": title, **fields}))
    session.add(report)
    session.flush()
    record_changes(session, _report_lead(session, report), actor, report, before, via=via)
    return report


def update_report(
    session: Session,
    report: Report,
    actor: User,
    expected_version: int | None,
    *,
    via: str | None = None,
    **fields,
) -> Report:
    """Edit a report. In a draft, a changed client summary withdraws its approval requests (the new
    words need approval); once approved or published, what the client reads stays as approved. Each
    change is recorded on the lead's timeline."""
    require_staff(actor, "growth_ops", "delivery", action="edit reports")
    check_version(report, expected_version, "This report")
    values = _report_values(session, report, fields)
    if report.status != "draft":
        for name in REPORT_CLIENT_FACING:
            if name in values and values[name] != clean_text(getattr(report, name)):
                raise Invalid(
                    f"This report is {report.status}: what the client reads stays as it was approved.", name
                )
    before = set_changed(report, values)
    if "client_summary" in before:
        supersede(session, Approval.report_id == report.id)
    record_changes(session, _report_lead(session, report), actor, report, before, via=via)
    session.flush()
    return report


def _report_values(session: Session, report: Report, fields: dict) -> dict:
    unknown = set(fields) - set(REPORT_FIELDS)
    if unknown:
        raise Invalid(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    values = {name: clean_text(value) for name, value in fields.items()}
    if "title" in values and not values["title"]:
        raise Invalid("Give the report a title.", "title")
    if values.get("cadence") not in (None, *CADENCES):
        raise Invalid("A report's cadence is weekly or monthly.", "cadence")
    if "figures" in values and not isinstance(values["figures"], dict):
        raise Invalid('Figures are written as a JSON object, such as {"leads": 134}.', "figures")
    start = values.get("period_start", report.period_start)
    end = values.get("period_end", report.period_end)
    if start and end and end < start:
        raise Invalid("The period cannot end before it starts.", "period_end")
    if values.get("owner_id") is not None:
        require_staff_member(session, values["owner_id"], "owner_id", "The report's owner")
    return values


def request_report_approval(session: Session, report: Report, actor: User) -> Approval:
    if report.kind != "client_report":
        raise Invalid("Only client reports are published to clients.")
    if report.status != "draft":
        raise Invalid(f"This report is already {report.status}.")
    if not (report.client_summary or "").strip():
        raise Invalid("Write the report's client summary first.", "client_summary")
    lead = session.get(Lead, report.lead_id) if report.lead_id else None
    return request_approval(
        session, actor, kind="client_summary", content=report.client_summary.strip(), lead=lead, report=report
    )


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
        record_event(
            session, session.get(Lead, report.lead_id), "client_safe_published", actor, report_id=report.id
        )
    session.flush()
    from .cadence import close_prepare_task, send_report_notice

    close_prepare_task(session, report, actor)  # the period's "approve and publish" task is done
    if report.client_id is not None:
        send_report_notice(session, report)  # each client contact hears of it once
    return report


# ---------------------------------------------------------------- shared by the edits of client-safe rows


def clean_text(value):
    """A text as it is kept: the browser's CRLF line ends made LF, trimmed, empty as None. Any other
    value (a date, an id, a dict) as it is."""
    if not isinstance(value, str):
        return value
    return value.replace("\r\n", "\n").strip() or None


def set_changed(row, values: dict) -> dict:
    """Set each of `values` (clean) on `row` where it differs from what the row holds, compared clean
    (a text that differs only in line ends or edge spaces is not a change). Returns the old values of
    the fields it changed: the `before` of trail.record_changes."""
    before = {}
    for name, value in values.items():
        old = getattr(row, name)
        if clean_text(old) != value:
            before[name] = old
            setattr(row, name, value)
    return before


def supersede(session: Session, *where) -> None:
    """Withdraw the pending and approved approvals matching `where`: they no longer cover the text."""
    live = Approval.state.in_(("pending", "approved"))
    for approval in session.scalars(sa.select(Approval).where(*where, live)):
        withdraw(session, approval)


def require_staff_member(session: Session, user_id: int, field: str, what: str) -> None:
    """Refuse an owner who is not an active staff member (a client contact owns nothing of ours)."""
    user = session.get(User, user_id)
    if user is None or not user.is_staff or not user.active:
        raise Invalid(f"{what} must be an active staff member.", field)
