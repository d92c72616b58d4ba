"""The gate of each stage (DESIGN.md, from the guide): what must be true before a lead may enter it.

`missing_for(session, lead, stage)` lists every unmet requirement; an empty list means the gate is met.
Gates are cumulative: entering `audit` from `new` needs the qualified and discovery gates as well.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Audit, Contract, Lead, Proposal, Task, today
from ..models.vocab import OPEN_STAGES
from .errors import Missing

ORDER = {stage: i for i, stage in enumerate(OPEN_STAGES + ("won",))}


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def qualified(session: Session, lead: Lead) -> list[Missing]:
    m = []
    for field, label in (("source", "Source"), ("service_fit", "Service fit"), ("urgency", "Urgency"),
                         ("decision_owner", "Decision owner"), ("contact_path", "Contact path"),
                         ("budget_signal", "Budget signal")):
        if _blank(getattr(lead, field)):
            m.append(Missing(field, f"{label} is missing", "qualification"))
    if lead.service_fit == "poor":
        m.append(Missing("service_fit", "Service fit is poor: this lead does not fit a service", "qualification"))
    if lead.owner_id is None:
        m.append(Missing("owner", "Owner is missing", "qualification"))
    return m


def discovery(session: Session, lead: Lead) -> list[Missing]:
    m = []
    if lead.consent != "granted":
        m.append(Missing("consent", "Consent to contact is not confirmed", "qualification"))
    if _blank(lead.contact_path):
        m.append(Missing("contact_path", "Contact path is missing", "qualification"))
    return m


def audit(session: Session, lead: Lead) -> list[Missing]:
    m = []
    for field, label in (("pain_points", "Pain points"), ("current_lead_flow", "Current lead flow"),
                         ("provider_stack", "Provider stack"), ("decision_criteria", "Decision criteria")):
        if _blank(getattr(lead, field)):
            m.append(Missing(field, f"{label} not captured in discovery", "discovery"))
    return m


def completed_audit(session: Session, lead_id: int) -> Audit | None:
    return session.execute(
        sa.select(Audit).where(Audit.lead_id == lead_id, Audit.status == "completed")
        .order_by(Audit.completed_at.desc()).limit(1)
    ).scalar_one_or_none()


def proposal(session: Session, lead: Lead) -> list[Missing]:
    done = completed_audit(session, lead.id)
    if done is None:
        return [Missing("audit", "No completed audit", "audit")]
    if not done.has_evidence:
        return [Missing("audit_evidence", "Audit has no evidence (findings and baseline figures)", "audit")]
    return []


def latest_proposal(session: Session, lead_id: int) -> Proposal | None:
    return session.execute(
        sa.select(Proposal).where(Proposal.lead_id == lead_id).order_by(Proposal.number.desc()).limit(1)
    ).scalar_one_or_none()


def live_proposal(session: Session, lead_id: int) -> Proposal | None:
    """The version the client holds: the newest sent or accepted one."""
    return session.execute(
        sa.select(Proposal).where(Proposal.lead_id == lead_id,
                                  Proposal.status.in_(("sent", "accepted")))
        .order_by(Proposal.number.desc()).limit(1)
    ).scalar_one_or_none()


def contract(session: Session, lead: Lead) -> list[Missing]:
    """Proposal sent: the live version is frozen with separated scope, approvals, dates and a record."""
    from .proposals import scope_missing, unapproved_parts

    sent = live_proposal(session, lead.id)
    if sent is None:
        draft = latest_proposal(session, lead.id)
        m = [Missing("proposal_sent", "No proposal has been sent", "proposal")]
        if draft is not None:
            m += scope_missing(draft)
            m += [Missing(f"approval_{kind}", f"{label} is not approved", "approval")
                  for kind, label in unapproved_parts(session, draft)]
        return m
    m = []
    if sent.sent_at is None:
        m.append(Missing("sent_date", "Sent date is missing", "proposal"))
    if sent.decision_deadline is None:
        m.append(Missing("decision_deadline", "Decision deadline is missing", "proposal"))
    if sent.sent_message_id is None:
        m.append(Missing("sent_message", "No communication record of the send", "proposal"))
    follow_up = session.execute(
        sa.select(Task.id).where(Task.key == f"proposal:{sent.id}:follow_up")
    ).scalar_one_or_none()
    if follow_up is None:
        m.append(Missing("follow_up_task", "No follow-up task for the sent proposal", "proposal"))
    return m


def won(session: Session, lead: Lead) -> list[Missing]:
    m = []
    accepted = session.execute(
        sa.select(Proposal.id).where(Proposal.lead_id == lead.id, Proposal.status == "accepted").limit(1)
    ).scalar_one_or_none()
    if accepted is None:
        m.append(Missing("accepted_proposal", "No accepted proposal", "proposal"))
    c = session.execute(sa.select(Contract).where(Contract.lead_id == lead.id)).scalar_one_or_none()
    if c is None or c.state != "signed":
        m.append(Missing("contract_signed", "Contract is not signed", "contract"))
    if c is None or c.payment_state is None:
        m.append(Missing("payment_state", "Payment state is not recorded", "contract"))
    if c is None or c.kickoff_date is None:
        m.append(Missing("kickoff_date", "Kickoff date is missing", "contract"))
    if c is None or c.onboarding_owner_id is None:
        m.append(Missing("onboarding_owner", "Onboarding owner is missing", "contract"))
    return m


def lost(lead: Lead, reason: str | None, reactivation_date, never: bool) -> list[Missing]:
    m = []
    if _blank(reason):
        m.append(Missing("lost_reason", "Lost reason is missing", "outcome"))
    if reactivation_date is None and not never:
        m.append(Missing("reactivation", "Reactivation date (or an explicit “never”) is missing", "outcome"))
    if reactivation_date is not None and reactivation_date <= today():
        m.append(Missing("reactivation", "Reactivation date must be in the future", "outcome"))
    return m


GATES = {"qualified": qualified, "discovery": discovery, "audit": audit, "proposal": proposal,
         "contract": contract, "won": won}


def missing_for(session: Session, lead: Lead, target: str) -> list[Missing]:
    """Every unmet requirement for entering `target` from the lead's current stage (cumulative)."""
    if target not in ORDER:
        return []
    start = ORDER.get(lead.stage, -1)
    stages = [s for s, i in ORDER.items() if start < i <= ORDER[target] and s in GATES]
    if lead.stage == "lost":
        stages = [s for s in GATES if 0 < ORDER[s] <= ORDER[target]]
    out: list[Missing] = []
    seen = set()
    for stage in stages:
        for item in GATES[stage](session, lead):
            if item.code not in seen:
                seen.add(item.code)
                out.append(item)
    return out


def gate_status(session: Session, lead: Lead) -> dict[str, list[Missing]]:
    """For the lead page: each stage's own gate, met ([]) or not."""
    return {stage: fn(session, lead) for stage, fn in GATES.items()}
