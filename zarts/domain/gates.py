"""The gate of each stage (DESIGN.md, from the guide): what must be true before a lead may enter it.

`missing_for(session, lead, stage)` lists every unmet requirement; an empty list means the gate is met.
Gates are cumulative: entering `audit` from `new` needs the qualified and discovery gates as well.
What a gate reads besides the lead's own columns comes through `Facts`: from the database, each
question asked once per check, or from records the caller already loaded (the lead page).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Audit, Contract, Lead, Proposal, Task, today
from ..models.vocab import OPEN_STAGES
from .claims import UNCITED, uncited
from .errors import Missing
from .parts import scope_missing, unapproved_parts

ORDER = {stage: i for i, stage in enumerate(OPEN_STAGES + ("won",))}


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_NOT_LOADED = object()


class Facts:
    """The lead's audits, proposals and contract as the gates need them. Without records given,
    each is read from the database on first use (and kept for the rest of the check); with
    `proposals` (items and approvals loaded), `audits` and `contract` given, nothing is read again
    but the follow-up task of a sent proposal."""

    def __init__(
        self,
        session: Session,
        lead: Lead,
        *,
        proposals: list[Proposal] | None = None,
        audits: list[Audit] | None = None,
        contract=_NOT_LOADED,
    ):
        self.session, self.lead = session, lead
        self._proposals, self._audits, self._contract = proposals, audits, contract
        self._asked: dict[str, object] = {}

    def _once(self, name: str, read):
        if name not in self._asked:
            self._asked[name] = read()
        return self._asked[name]

    def completed_audit(self) -> Audit | None:
        if self._audits is not None:
            done = [a for a in self._audits if a.status == "completed"]
            return max(done, key=lambda a: a.completed_at or datetime.min, default=None)
        return self._once("completed_audit", lambda: completed_audit(self.session, self.lead.id))

    def latest_proposal(self) -> Proposal | None:
        if self._proposals is not None:
            return max(self._proposals, key=lambda p: p.number, default=None)
        return self._once("latest_proposal", lambda: latest_proposal(self.session, self.lead.id))

    def live_proposal(self) -> Proposal | None:
        if self._proposals is not None:
            return max(
                (p for p in self._proposals if p.status in ("sent", "accepted")),
                key=lambda p: p.number,
                default=None,
            )
        return self._once("live_proposal", lambda: live_proposal(self.session, self.lead.id))

    def has_accepted_proposal(self) -> bool:
        if self._proposals is not None:
            return any(p.status == "accepted" for p in self._proposals)
        return self._once(
            "accepted",
            lambda: self.session.execute(
                sa.select(Proposal.id)
                .where(Proposal.lead_id == self.lead.id, Proposal.status == "accepted")
                .limit(1)
            ).first()
            is not None,
        )

    def contract(self) -> Contract | None:
        if self._contract is not _NOT_LOADED:
            return self._contract
        return self._once(
            "contract",
            lambda: self.session.execute(
                sa.select(Contract).where(Contract.lead_id == self.lead.id)
            ).scalar_one_or_none(),
        )

    def approved_parts(self, proposal: Proposal) -> set[tuple[str, str]] | None:
        """(kind, content) of the proposal's approved parts when its approvals are loaded, else None."""
        if self._proposals is None:
            return None
        return {(a.kind, a.content) for a in proposal.approvals if a.state == "approved"}


def qualified(session: Session, lead: Lead, facts: Facts | None = None) -> list[Missing]:
    m = []
    for field, label in (
        ("source", "Source"),
        ("service_fit", "Service fit"),
        ("urgency", "Urgency"),
        ("decision_owner", "Decision owner"),
        ("contact_path", "Contact path"),
        ("budget_signal", "Budget signal"),
    ):
        if _blank(getattr(lead, field)):
            m.append(Missing(field, f"{label} is missing", "qualification"))
    if lead.service_fit == "poor":
        m.append(
            Missing("service_fit", "Service fit is poor: this lead does not fit a service", "qualification")
        )
    if lead.owner_id is None:
        m.append(Missing("owner", "Owner is missing", "qualification"))
    return m


def discovery(session: Session, lead: Lead, facts: Facts | None = None) -> list[Missing]:
    m = []
    if lead.consent != "granted":
        m.append(Missing("consent", "Consent to contact is not confirmed", "qualification"))
    if _blank(lead.contact_path):
        m.append(Missing("contact_path", "Contact path is missing", "qualification"))
    return m


def audit(session: Session, lead: Lead, facts: Facts | None = None) -> list[Missing]:
    m = []
    for field, label in (
        ("pain_points", "Pain points"),
        ("current_lead_flow", "Current lead flow"),
        ("provider_stack", "Provider stack"),
        ("decision_criteria", "Decision criteria"),
    ):
        if _blank(getattr(lead, field)):
            m.append(Missing(field, f"{label} not captured in discovery", "discovery"))
    return m


def completed_audit(session: Session, lead_id: int) -> Audit | None:
    return session.execute(
        sa.select(Audit)
        .where(Audit.lead_id == lead_id, Audit.status == "completed")
        .order_by(Audit.completed_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def proposal(session: Session, lead: Lead, facts: Facts | None = None) -> list[Missing]:
    done = (facts or Facts(session, lead)).completed_audit()
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
        sa.select(Proposal)
        .where(Proposal.lead_id == lead_id, Proposal.status.in_(("sent", "accepted")))
        .order_by(Proposal.number.desc())
        .limit(1)
    ).scalar_one_or_none()


def contract(session: Session, lead: Lead, facts: Facts | None = None) -> list[Missing]:
    """Proposal sent: the live version is frozen with separated scope, approvals, dates and a record."""
    facts = facts or Facts(session, lead)
    sent = facts.live_proposal()
    if sent is None:
        draft = facts.latest_proposal()
        m = [Missing("proposal_sent", "No proposal has been sent", "proposal")]
        if draft is not None:
            m += scope_missing(draft)
            audit = facts.completed_audit()
            m += [
                Missing(f"cite_{claim.key}", f"{claim.label}: {UNCITED.lower()}", "proposal")
                for claim in uncited(draft, audit.id if audit else None)
            ]
            m += [
                Missing(f"approval_{kind}", f"{label} is not approved", "approval")
                for kind, label in unapproved_parts(session, draft, facts.approved_parts(draft))
            ]
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


def won(session: Session, lead: Lead, facts: Facts | None = None) -> list[Missing]:
    m = []
    facts = facts or Facts(session, lead)
    if not facts.has_accepted_proposal():
        m.append(Missing("accepted_proposal", "No accepted proposal", "proposal"))
    c = facts.contract()
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


GATES = {
    "qualified": qualified,
    "discovery": discovery,
    "audit": audit,
    "proposal": proposal,
    "contract": contract,
    "won": won,
}


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
    facts = Facts(session, lead)
    for stage in stages:
        for item in GATES[stage](session, lead, facts):
            if item.code not in seen:
                seen.add(item.code)
                out.append(item)
    return out


def gate_status(session: Session, lead: Lead, facts: Facts | None = None) -> dict[str, list[Missing]]:
    """For the lead page: each stage's own gate, met ([]) or not."""
    facts = facts or Facts(session, lead)
    return {stage: fn(session, lead, facts) for stage, fn in GATES.items()}
