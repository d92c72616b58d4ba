"""Contracts: state, payment state, kickoff date, onboarding owner and launch blockers (check 8)."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Contract, Lead, User, today, utcnow
from ..models.vocab import CONTRACT_STATES, PAYMENT_STATES
from .errors import Invalid
from .trail import (
    check_version,
    ensure_task,
    record_changes,
    record_event,
    require_lead_actor,
    snapshot_fields,
)

# The task each contract state promises (contract steps are tasks, not memory).
CONTRACT_STEPS = {
    "draft": "Send the contract to {company}",
    "sent": "Chase the signature of {company}",
    "signed": "Confirm kickoff and onboarding owner with {company}",
}
# What a contract's change record lists (the onboarding owner as a person, not an id).
TRACKED_FIELDS = (
    "state",
    "payment_state",
    "kickoff_date",
    "onboarding_owner",
    "launch_blockers",
    "client_launch_blockers",
)


def contract_for(session: Session, lead: Lead) -> Contract:
    contract = session.execute(sa.select(Contract).where(Contract.lead_id == lead.id)).scalar_one_or_none()
    if contract is None:
        contract = Contract(lead_id=lead.id, state="draft")
        session.add(contract)
        session.flush()
    return contract


def update_contract(
    session: Session,
    lead: Lead,
    actor: User,
    expected_version: int | None,
    *,
    state: str | None = None,
    payment_state: str | None = None,
    kickoff_date: date | None = None,
    onboarding_owner_id: int | None = None,
    launch_blockers: str | None = None,
    client_launch_blockers: str | None = None,
    via: str | None = None,
) -> Contract:
    """Record contract progress (None leaves a value as it is): only the lead's owner or an admin.

    Each state change creates the next contract-step task, and signing stamps `signed_at` (never
    typed). The `contract_updated` event lists the fields that changed (`via`: "admin", "workspace").
    """
    require_lead_actor(actor, lead, action="update contracts")
    contract = session.execute(sa.select(Contract).where(Contract.lead_id == lead.id)).scalar_one_or_none()
    if contract is not None:
        check_version(contract, expected_version, "This contract")
    if lead.stage in ("won", "lost"):
        raise Invalid("The contract of a closed opportunity is changed in its project, not here.")
    if state is not None and state not in CONTRACT_STATES:
        raise Invalid("Unknown contract state.", "state")
    if payment_state is not None and payment_state not in PAYMENT_STATES:
        raise Invalid("Unknown payment state.", "payment_state")
    if state == "signed" and lead.stage != "contract":
        raise Invalid("A contract is signed after the proposal was sent.", "state")
    onboarding_owner = None
    if onboarding_owner_id is not None:
        onboarding_owner = session.get(User, onboarding_owner_id)
        if onboarding_owner is None or not onboarding_owner.is_staff or not onboarding_owner.active:
            raise Invalid("The onboarding owner must be an active staff member.", "onboarding_owner_id")
    # Only a kickoff date being set must lie ahead: one that has passed since does not block other edits.
    if (
        kickoff_date is not None
        and kickoff_date < today()
        and (contract is None or kickoff_date != contract.kickoff_date)
    ):
        raise Invalid("The kickoff date cannot be in the past.", "kickoff_date")
    if contract is None:
        contract = contract_for(session, lead)
    before = snapshot_fields(contract, TRACKED_FIELDS)
    if onboarding_owner is not None:
        contract.onboarding_owner = onboarding_owner
    if kickoff_date is not None:
        contract.kickoff_date = kickoff_date
    if payment_state is not None:
        contract.payment_state = payment_state
    for name, value in (
        ("launch_blockers", launch_blockers),
        ("client_launch_blockers", client_launch_blockers),
    ):
        if value is not None:
            setattr(contract, name, value.replace("\r\n", "\n").strip() or None)
    changed_state = state is not None and state != contract.state
    if changed_state:
        contract.state = state
        if state == "signed":
            contract.signed_at = utcnow()
    changes = record_changes(session, None, actor, contract, before)  # no lead: listed in the event below
    session.flush()
    if changed_state and state in CONTRACT_STEPS:
        ensure_task(
            session,
            key=f"contract:{contract.id}:{state}",
            kind="contract_step",
            title=CONTRACT_STEPS[state].format(company=lead.company),
            owner_id=lead.owner_id or actor.id,
            due=today() + timedelta(days=2),
            lead_id=lead.id,
        )
    record_event(
        session,
        lead,
        "contract_updated",
        actor,
        contract_id=contract.id,
        state=contract.state,
        payment_state=contract.payment_state,
        kickoff_date=contract.kickoff_date,
        changes=changes or None,
        via=via,
    )
    session.flush()
    return contract


def create_contract(session: Session, lead: Lead, actor: User, **changes) -> Contract:
    """A new contract for `lead` (the admin's create form): a lead has one, so a second is refused."""
    if session.execute(sa.select(Contract.id).where(Contract.lead_id == lead.id)).first() is not None:
        raise Invalid("This opportunity already has a contract: edit that one.", "lead")
    return update_contract(session, lead, actor, None, **changes)
