"""Pre-sale audits: evidence first (findings and baseline figures); raw notes and caveats stay internal."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..models import Approval, Audit, Lead, User, utcnow
from .approval_requests import request_approval
from .errors import Invalid
from .evidence import AUDIT_ROLES, carry_citations
from .publication import clean_text, set_changed, supersede
from .trail import check_version, record_changes, record_event, require_lead_actor

EVIDENCE = ("findings", "baseline_figures")
AUDIT_FIELDS = {"findings", "baseline_figures", "raw_notes", "provider_caveats", "client_summary"}


def start_audit(session: Session, lead: Lead, actor: User) -> Audit:
    require_lead_actor(actor, lead, *AUDIT_ROLES, action="start audits")
    if not lead.is_open:
        raise Invalid("Audits are for open opportunities.")
    audit = Audit(lead_id=lead.id, status="draft")
    session.add(audit)
    session.flush()
    return audit


def save_audit(
    session: Session,
    audit: Audit,
    actor: User,
    expected_version: int | None,
    *,
    via: str | None = None,
    **fields,
) -> Audit:
    """Edit an audit. Completed evidence is frozen; a changed client summary needs approval again.
    Each changed field is recorded on the lead's timeline (`via`: where the edit was made)."""
    lead = session.get(Lead, audit.lead_id)
    require_lead_actor(actor, lead, *AUDIT_ROLES, action="edit audits")
    check_version(audit, expected_version, "This audit")
    unknown = set(fields) - AUDIT_FIELDS
    if unknown:
        raise Invalid(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    values = {name: clean_text(value) for name, value in fields.items()}
    if audit.status == "completed":
        for name in EVIDENCE:
            if name in values and values[name] != clean_text(getattr(audit, name)):
                raise Invalid(
                    "The evidence of a completed audit is frozen. Start a new audit to change it.", name
                )
    before = set_changed(audit, values)
    if "client_summary" in before:
        audit.client_summary_status = "none"
        supersede(session, Approval.audit_id == audit.id)
    record_changes(session, lead, actor, audit, before, via=via)
    session.flush()
    return audit


def complete_audit(session: Session, audit: Audit, actor: User, expected_version: int | None) -> Audit:
    """Complete the audit: it needs findings and baseline figures (the evidence later claims rest on)."""
    lead = session.get(Lead, audit.lead_id)
    require_lead_actor(actor, lead, *AUDIT_ROLES, action="complete audits")
    check_version(audit, expected_version, "This audit")
    if audit.status == "completed":
        raise Invalid("This audit is already completed.")
    blank = [f.replace("_", " ") for f in EVIDENCE if not (getattr(audit, f) or "").strip()]
    if blank:
        raise Invalid(
            "An audit needs evidence before it is completed: " + " and ".join(blank) + " missing.", "findings"
        )
    audit.status, audit.completed_at, audit.completed_by_id = "completed", utcnow(), actor.id
    record_event(session, lead, "audit_completed", actor, audit_id=audit.id)
    carry_citations(session, audit)  # a new version: draft claims now rest on its copies
    session.flush()
    return audit


def request_summary_approval(session: Session, audit: Audit, actor: User):
    """Route the client-safe summary to an approver; only an approved summary reaches the client."""
    lead = session.get(Lead, audit.lead_id)
    require_lead_actor(actor, lead, *AUDIT_ROLES, action="ask for approval of an audit summary")
    if not (audit.client_summary or "").strip():
        raise Invalid("Write the client-safe summary first.", "client_summary")
    approval = request_approval(
        session, actor, kind="client_summary", content=audit.client_summary.strip(), lead=lead, audit=audit
    )
    if approval.state == "pending":
        audit.client_summary_status = "pending"
    session.flush()
    return approval
