"""Pre-sale audits: evidence first (findings and baseline figures); raw notes and caveats stay internal."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..models import Audit, Lead, User, utcnow
from .errors import Invalid
from .trail import check_version, record_event, require_staff

EVIDENCE = ("findings", "baseline_figures")
AUDIT_FIELDS = {"findings", "baseline_figures", "raw_notes", "provider_caveats", "client_summary"}


def start_audit(session: Session, lead: Lead, actor: User) -> Audit:
    require_staff(actor, "growth_ops", "delivery", action="start audits")
    if not lead.is_open:
        raise Invalid("Audits are for open opportunities.")
    audit = Audit(lead_id=lead.id, status="draft")
    session.add(audit)
    session.flush()
    return audit


def save_audit(session: Session, audit: Audit, actor: User, expected_version: int | None, **fields) -> Audit:
    """Edit an audit. Completed evidence is frozen; a changed client summary needs approval again."""
    require_staff(actor, "growth_ops", "delivery", action="edit audits")
    check_version(audit, expected_version, "This audit")
    unknown = set(fields) - AUDIT_FIELDS
    if unknown:
        raise Invalid(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    if audit.status == "completed" and any(
            (fields[f] or None) != getattr(audit, f) for f in EVIDENCE if f in fields):
        raise Invalid("The evidence of a completed audit is frozen. Start a new audit to change it.")
    for name, value in fields.items():
        value = value.strip() if isinstance(value, str) else value
        if name == "client_summary" and (value or None) != audit.client_summary:
            audit.client_summary_status = "none"
            _supersede_summary_approvals(session, audit)
        setattr(audit, name, value or None)
    session.flush()
    return audit


def _supersede_summary_approvals(session: Session, audit: Audit) -> None:
    from ..models import Approval

    for approval in session.query(Approval).filter(Approval.audit_id == audit.id,
                                                   Approval.state.in_(("pending", "approved"))):
        approval.state = "superseded"


def complete_audit(session: Session, audit: Audit, actor: User, expected_version: int | None) -> Audit:
    """Complete the audit: it needs findings and baseline figures (the evidence later claims rest on)."""
    require_staff(actor, "growth_ops", "delivery", action="complete audits")
    check_version(audit, expected_version, "This audit")
    if audit.status == "completed":
        raise Invalid("This audit is already completed.")
    blank = [f.replace("_", " ") for f in EVIDENCE if not (getattr(audit, f) or "").strip()]
    if blank:
        raise Invalid("An audit needs evidence before it is completed: " + " and ".join(blank) + " missing.",
                      "findings")
    audit.status, audit.completed_at, audit.completed_by_id = "completed", utcnow(), actor.id
    lead = session.get(Lead, audit.lead_id)
    record_event(session, lead, "audit_completed", actor, audit_id=audit.id)
    session.flush()
    return audit


def request_summary_approval(session: Session, audit: Audit, actor: User):
    """Route the client-safe summary to an approver; only an approved summary reaches the client."""
    from .approvals import request_approval

    if not (audit.client_summary or "").strip():
        raise Invalid("Write the client-safe summary first.", "client_summary")
    approval = request_approval(session, actor, kind="client_summary", content=audit.client_summary.strip(),
                                lead=session.get(Lead, audit.lead_id), audit=audit)
    if approval.state == "pending":
        audit.client_summary_status = "pending"
    session.flush()
    return approval
