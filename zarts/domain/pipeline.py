"""Stage moves and the lead's own state: qualification, discovery, pause, loss, win-back and win.

Every function takes the session, the lead, the acting user and the version the user saw. It either
applies the whole change (fields, event, tasks, outbox rows; flushed, not committed) or raises a
DomainError having changed nothing.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Client, Lead, Task, User, today, utcnow
from ..models.vocab import (
    CONSENT,
    LOST_REASONS,
    PAUSE_REASONS,
    SERVICE_FIT,
    SERVICES,
    SOURCES,
    STAGES,
    URGENCY,
)
from . import gates, money
from .errors import Conflict, Forbidden, GateRefused, Invalid, Missing
from .trail import (
    check_version,
    close_open_tasks,
    enqueue,
    ensure_task,
    record_changes,
    record_event,
    require_lead_actor,
    require_staff,
    snapshot_fields,
    sync_next_action_task,
)

STAGE_PROBABILITY = {
    "new": 5,
    "qualified": 10,
    "discovery": 20,
    "audit": 30,
    "proposal": 40,
    "contract": 60,
    "won": 100,
    "lost": 0,
}

# Fields of a lead that staff edit freely (state fields change only through the functions below).
EDITABLE_FIELDS = {
    "title",
    "company",
    "contact_name",
    "contact_email",
    "contact_phone",
    "contact_path",
    "source",
    "source_context",
    "service",
    "service_fit",
    "urgency",
    "decision_owner",
    "decision_criteria",
    "budget_signal",
    "pain_points",
    "current_lead_flow",
    "provider_stack",
    "discovery_notes",
    "probability",
    "consent",
    "value_cents",
    "currency",
}
REQUIRED_FIELDS = {"title", "company", "source", "service"}
# What a new lead may be given besides those: who owns it, for which client, and what happens next.
NEW_LEAD_FIELDS = EDITABLE_FIELDS | {
    "next_action",
    "next_action_due",
    "decision_deadline",
    "owner_id",
    "client_id",
}
# Who may own an opportunity.
OWNER_ROLES = ("growth_ops", "admin")
# The open tasks a lead's owner holds because they own it: they go with the lead to a new owner.
# Approval reviews stay with their reviewer, and tasks given by hand ("other") with whom they were given.
OWNER_TASK_KINDS = ("follow_up", "contract_step", "reactivation", "reply")


def _next_action_missing(lead: Lead) -> list[Missing]:
    if not (lead.next_action or "").strip() or lead.next_action_due is None:
        return [Missing("next_action", "Next action with a due date is missing", "next_action")]
    if lead.next_action_due < today():
        return [Missing("next_action", "Next action is overdue: set a new due date", "next_action")]
    return []


def _apply_next_action(lead: Lead, next_action: str | None, due: date | None) -> None:
    if next_action is not None and next_action.strip():
        lead.next_action = next_action.strip()[:300]
    if due is not None:
        lead.next_action_due = due


def move(
    session: Session,
    lead: Lead,
    to_stage: str,
    actor: User,
    expected_version: int | None,
    *,
    next_action: str | None = None,
    next_action_due: date | None = None,
    probability: int | None = None,
    **outcome,
) -> Lead:
    """Move the lead to `to_stage` if its gate is met; otherwise raise GateRefused listing all gaps.

    Won and lost are reached through `mark_won` / `mark_lost` (which this delegates to); every other
    move leaves a next action with a due date. A paused lead does not move (except to lost).
    """
    if to_stage not in STAGES:
        raise Invalid(f"Unknown stage “{to_stage}”.", "stage")
    check_version(lead, expected_version, "This opportunity")
    require_lead_actor(actor, lead, action="move it")
    if to_stage == "lost":
        return mark_lost(session, lead, actor, None, **outcome)
    if to_stage == "won":
        return mark_won(session, lead, actor, None)
    if lead.stage == to_stage:
        raise Invalid(f"The opportunity is already in {to_stage}.", "stage")
    if lead.stage in ("won", "lost"):
        raise Invalid("A closed opportunity does not move; reactivate a lost one instead.", "stage")
    if lead.is_paused:
        raise Invalid(f"The opportunity is paused ({lead.pause_reason}): resume it first.", "stage")

    forward = gates.ORDER[to_stage] > gates.ORDER[lead.stage]
    missing = gates.missing_for(session, lead, to_stage) if forward else []
    # The next action is checked as it will be after the move.
    before = (lead.next_action, lead.next_action_due)
    _apply_next_action(lead, next_action, next_action_due)
    missing += _next_action_missing(lead)
    if probability is not None and not (0 <= int(probability) <= 100):
        missing.append(Missing("probability", "Probability must be between 0 and 100", "proposal"))
    if missing:
        lead.next_action, lead.next_action_due = before
        raise GateRefused(to_stage, missing)

    from_stage = lead.stage
    lead.stage = to_stage
    if lead.owner_id is None:
        lead.owner_id = actor.id
    lead.probability = int(probability) if probability is not None else STAGE_PROBABILITY[to_stage]
    if (lead.next_action, lead.next_action_due) != before:  # a move without a new next action costs nothing
        sync_next_action_task(session, lead, actor)
    record_event(session, lead, "stage_moved", actor, from_stage=from_stage, to_stage=to_stage)
    if to_stage == "qualified" and from_stage == "new":
        record_event(session, lead, "qualified", actor)
    session.flush()
    return lead


def set_next_action(
    session: Session,
    lead: Lead,
    actor: User,
    expected_version: int | None,
    next_action: str,
    due: date | None,
) -> Lead:
    """Set the lead's next action; both a text and a due date (today or later) are required. Its
    owner's next-action task follows it (reminders see tasks)."""
    require_lead_actor(actor, lead, action="set next actions")
    check_version(lead, expected_version, "This opportunity")
    text = (next_action or "").strip()
    if not text:
        raise Invalid("Write the next action.", "next_action")
    if due is None:
        raise Invalid("Give the next action a due date.", "next_action_due")
    if due < today():
        raise Invalid("The due date cannot be in the past.", "next_action_due")
    lead.next_action, lead.next_action_due = text[:300], due
    sync_next_action_task(session, lead, actor)
    record_event(session, lead, "next_action_set", actor)
    session.flush()
    return lead


def create_lead(session: Session, actor: User, **fields) -> Lead:
    """Record a new opportunity at stage `new`, with its `created` event (the weekly report counts them).

    Takes the descriptive fields of `update_lead` plus next action, decision deadline, owner and
    client; title, company, source and service are required. State fields (stage, loss, pause, win)
    are refused: a lead reaches them only through the moves below. Withdrawn consent pauses it at once.
    Growth ops create the leads they own (SECURITY.md: they act on their own leads); only an admin
    gives a new lead to someone else, or to nobody.
    """
    require_staff(actor, "growth_ops", action="create opportunities")
    fields = new_lead_fields(fields)
    _check_people(session, None, fields.get("client_id"))
    owner_id = new_lead_owner(session, actor, fields.get("owner_id"))
    if owner_id is not None:
        fields["owner_id"] = owner_id
    lead = Lead(stage="new", **fields)
    lead.next_action = lead.next_action[:300] if lead.next_action else None
    if lead.probability is None:
        lead.probability = STAGE_PROBABILITY["new"]
    if lead.consent in ("granted", "withdrawn"):
        lead.consent_recorded_at = utcnow()
    session.add(lead)
    session.flush()
    if lead.next_action and lead.next_action_due is not None:
        sync_next_action_task(session, lead, actor)
    record_event(session, lead, "created", actor, source=lead.source)
    if lead.consent == "withdrawn":
        _pause(session, lead, actor, "consent", "Consent withdrawn")
    session.flush()
    return lead


def new_lead_fields(fields: dict) -> dict:
    """A new lead's fields as `create_lead` keeps them (None left out, blank text as None), or Invalid
    naming the first field that is unknown, missing or not acceptable. The import
    (zarts.domain.imports) checks each spreadsheet row with it, so a row passes exactly when the form would."""
    unknown = set(fields) - NEW_LEAD_FIELDS
    if unknown:
        raise Invalid(f"These fields cannot be set on a new opportunity: {', '.join(sorted(unknown))}.")
    fields = {name: value for name, value in fields.items() if value is not None}
    absent = [name for name in ("title", "company", "source", "service") if name not in fields]
    if absent:
        raise Invalid(f"{absent[0].capitalize()} is required.", absent[0])
    return _checked_fields(fields)


def new_lead_owner(session: Session, actor: User, owner_id: int | None) -> int | None:
    """Who owns a new lead `actor` records: growth ops their own; only an admin gives one to someone
    else (an active growth-ops user or admin), or to nobody."""
    _check_people(session, owner_id, None)
    if actor.role != "admin":
        if owner_id not in (None, actor.id):
            raise Forbidden("Only an admin can create an opportunity for someone else.")
        return actor.id
    return owner_id


def _check_people(session: Session, owner_id: int | None, client_id: int | None) -> None:
    if owner_id is not None:
        _lead_owner(session, owner_id)
    if client_id is not None and session.get(Client, client_id) is None:
        raise Invalid("Choose an existing client.", "client_id")


def _lead_owner(session: Session, owner_id) -> User:
    """The user `owner_id` names, if they may own opportunities (else Invalid, on the owner field)."""
    owner = session.get(User, owner_id) if isinstance(owner_id, int) else None
    if owner is None or not owner.is_staff or not owner.is_active:
        raise Invalid("The owner must be an active staff member.", "owner_id")
    if owner.role not in OWNER_ROLES:
        raise Invalid(
            f"{owner.name} cannot own opportunities: choose someone in growth ops or an admin.", "owner_id"
        )
    return owner


def _checked_fields(fields: dict) -> dict:
    """The fields with blank text as None, or Invalid naming the first field that is not acceptable."""
    fields = dict(fields)
    for name in REQUIRED_FIELDS & set(fields):
        if not (fields[name] or "").strip():
            raise Invalid(f"{name.replace('_', ' ').capitalize()} is required.", name)
    if "probability" in fields and fields["probability"] is not None:
        try:
            fields["probability"] = int(fields["probability"])
        except (TypeError, ValueError):
            raise Invalid("Probability must be a whole number.", "probability") from None
        if not 0 <= fields["probability"] <= 100:
            raise Invalid("Probability must be between 0 and 100.", "probability")
    if "consent" in fields and fields["consent"] not in CONSENT:
        raise Invalid("Consent must be unknown, granted or withdrawn.", "consent")
    _check_value(fields)
    # An unknown value would only fail at flush (a 500): refuse it here, as a value the user reads.
    for name, allowed in (
        ("source", SOURCES),
        ("service", SERVICES),
        ("service_fit", SERVICE_FIT),
        ("urgency", URGENCY),
    ):
        value = fields.get(name)
        if isinstance(value, str) and value.strip() and value.strip() not in allowed:
            raise Invalid(f"Choose a {name.replace('_', ' ')} from the list.", name)
    # Browsers send text areas with CRLF line ends: stored as plain newlines, so resending is no change.
    return {
        name: (value.replace("\r\n", "\n").strip() or None) if isinstance(value, str) else value
        for name, value in fields.items()
    }


def _check_value(fields: dict) -> None:
    """The deal's value: whole cents, not negative, with a three-letter currency (BASE_CURRENCY when
    a value comes without one). Amounts are never converted here (zarts.domain.money)."""
    if "value_cents" in fields:
        fields["value_cents"] = money.check_cents(fields["value_cents"])
    if isinstance(fields.get("currency"), str) and not fields["currency"].strip():
        fields["currency"] = None
    if fields.get("currency") is not None:
        fields["currency"] = money.check_currency(fields["currency"])
    if fields.get("value_cents") is not None and fields.get("currency") is None:
        fields["currency"] = money.base_currency()


def update_lead(
    session: Session,
    lead: Lead,
    actor: User,
    expected_version: int | None,
    *,
    via: str | None = None,
    **fields,
) -> Lead:
    """Edit the lead's descriptive fields. Unknown or state fields are refused, never silently set.

    Only the fields whose value differs are changed, each in a change record on the timeline
    (one `fields_changed` event, `via` saying where: "admin", "workspace"). Consent withdrawn pauses
    an open lead (a lead already paused for another reason is paused for consent now, so resuming
    it needs consent again).
    """
    require_lead_actor(actor, lead, action="edit opportunities")
    check_version(lead, expected_version, "This opportunity")
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise Invalid(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    if fields.get("value_cents") is not None and "currency" not in fields:
        fields["currency"] = lead.currency  # a new amount keeps the lead's currency
    changes = {name: value for name, value in _checked_fields(fields).items() if getattr(lead, name) != value}
    if not changes:
        return lead
    before = snapshot_fields(lead, changes)
    for name, value in changes.items():
        setattr(lead, name, value)
    record_changes(session, lead, actor, lead, before, via=via)
    if "consent" in changes:
        lead.consent_recorded_at = utcnow()
        if lead.consent == "withdrawn" and lead.is_open and lead.pause_reason != "consent":
            _pause(session, lead, actor, "consent", "Consent withdrawn")
    session.flush()
    return lead


def reassign(
    session: Session,
    lead: Lead,
    actor: User,
    expected_version: int | None,
    owner_id: int | None,
    note: str | None = None,
) -> Lead:
    """Give the opportunity another owner: an admin does, or its owner hands it over (a growth-ops
    user may also give an unowned lead an owner). The new owner is an active growth-ops user or admin.

    The old owner's open tasks that come with owning this lead (OWNER_TASK_KINDS: follow-ups, contract
    steps, win-backs, replies) go with it, so no promise stays with someone who no longer owns it. A
    `reassigned` event names both owners (their names as they were, for the timeline).
    """
    check_version(lead, expected_version, "This opportunity")
    require_lead_actor(actor, lead, action="reassign it")
    if owner_id is None:
        raise Invalid("Choose the new owner.", "owner_id")
    owner = _lead_owner(session, owner_id)
    if owner.id == lead.owner_id:
        raise Invalid(f"{owner.name} already owns this opportunity.", "owner_id")
    previous = lead.owner
    moved = []
    if previous is not None:
        moved = (
            session.execute(
                sa.select(Task).where(
                    Task.lead_id == lead.id,
                    Task.owner_id == previous.id,
                    Task.done_at.is_(None),
                    Task.kind.in_(OWNER_TASK_KINDS),
                )
            )
            .scalars()
            .all()
        )
    for task in moved:
        task.owner_id = owner.id
    lead.owner, lead.owner_id = owner, owner.id
    record_event(
        session,
        lead,
        "reassigned",
        actor,
        from_owner_id=previous.id if previous else None,
        from_name=previous.name if previous else None,
        to_owner_id=owner.id,
        to_name=owner.name,
        note=(note or "").strip()[:500] or None,
        tasks_moved=len(moved),
    )
    session.flush()
    return lead


def log_discovery(
    session: Session,
    lead: Lead,
    actor: User,
    expected_version: int | None,
    *,
    pain_points: str,
    current_lead_flow: str,
    provider_stack: str,
    decision_criteria: str,
    discovery_notes: str | None = None,
) -> Lead:
    """Record the discovery call (check 1). All four answers are required."""
    require_lead_actor(actor, lead, action="log discovery")
    check_version(lead, expected_version, "This opportunity")
    answers = {
        "pain_points": pain_points,
        "current_lead_flow": current_lead_flow,
        "provider_stack": provider_stack,
        "decision_criteria": decision_criteria,
    }
    blank = [k for k, v in answers.items() if not (v or "").strip()]
    if blank:
        raise Invalid("Discovery needs " + ", ".join(b.replace("_", " ") for b in blank) + ".", blank[0])
    for k, v in answers.items():
        setattr(lead, k, v.strip())
    if discovery_notes is not None:
        lead.discovery_notes = discovery_notes.strip() or None
    lead.discovery_logged_at = utcnow()
    record_event(session, lead, "discovery_logged", actor)
    session.flush()
    return lead


def _pause(session: Session, lead: Lead, actor: User, reason: str, note: str | None) -> None:
    lead.paused_at = utcnow()
    lead.pause_reason = reason
    lead.pause_note = (note or "").strip() or None
    record_event(session, lead, "paused", actor, reason=reason)


def pause(
    session: Session,
    lead: Lead,
    actor: User,
    expected_version: int | None,
    reason: str,
    note: str | None = None,
) -> Lead:
    """Pause an open lead because consent, timing, source context or decision path is not valid."""
    require_lead_actor(actor, lead, action="pause opportunities")
    check_version(lead, expected_version, "This opportunity")
    if reason not in PAUSE_REASONS:
        raise Invalid("Choose why: consent, timing, source context or decision path.", "pause_reason")
    if not lead.is_open:
        raise Invalid("Only an open opportunity can be paused.")
    if lead.is_paused:
        raise Invalid("The opportunity is already paused.")
    _pause(session, lead, actor, reason, note)
    session.flush()
    return lead


def resume_missing(lead: Lead) -> list[Missing]:
    """What still makes the pause reason true (empty when the condition is fixed)."""
    reason = lead.pause_reason
    if reason == "consent" and lead.consent != "granted":
        return [Missing("consent", "Consent to contact is still not granted", "qualification")]
    if reason == "source_context" and not (lead.source_context or "").strip():
        return [Missing("source_context", "Source context is still missing", "qualification")]
    if reason == "decision_path" and not (
        (lead.decision_owner or "").strip() and (lead.decision_criteria or "").strip()
    ):
        return [
            Missing("decision_path", "Decision owner and decision criteria must be known", "qualification")
        ]
    if reason == "timing" and (lead.next_action_due is None or lead.next_action_due < today()):
        return [Missing("next_action", "Set a next action date for when timing is right", "next_action")]
    return []


def resume(
    session: Session, lead: Lead, actor: User, expected_version: int | None, *, confirmed: bool
) -> Lead:
    """Resume a paused lead: the invalid condition must be fixed and explicitly re-confirmed."""
    require_lead_actor(actor, lead, action="resume opportunities")
    check_version(lead, expected_version, "This opportunity")
    if not lead.is_paused:
        raise Invalid("The opportunity is not paused.")
    missing = resume_missing(lead)
    if not confirmed:
        missing.append(Missing("confirmation", "Confirm that the condition was re-checked", "pause"))
    if missing:
        raise GateRefused("resume", missing)
    reason = lead.pause_reason
    lead.paused_at = lead.pause_reason = lead.pause_note = None
    record_event(session, lead, "resumed", actor, reason=reason)
    session.flush()
    return lead


def mark_lost(
    session: Session,
    lead: Lead,
    actor: User,
    expected_version: int | None,
    *,
    lost_reason: str | None = None,
    lost_note: str | None = None,
    reactivation_date: date | None = None,
    reactivation_never: bool = False,
) -> Lead:
    """Close an open lead as lost: a reason and a reactivation date (or an explicit never) are required.

    Nothing is deleted. The next action becomes the win-back on the reactivation date (none for
    "never"), with a dated reactivation task for the owner; every other open task of the lead is
    closed, saying why. The events record the next action as it is after the loss.
    """
    check_version(lead, expected_version, "This opportunity")
    require_lead_actor(actor, lead, action="mark it lost")
    if not lead.is_open:
        raise Invalid("Only an open opportunity can be marked lost.")
    if lost_reason is not None and lost_reason not in LOST_REASONS:
        raise Invalid("Choose a lost reason from the list.", "lost_reason")
    if reactivation_never and reactivation_date is not None:
        raise Invalid("Choose a reactivation date or “never”, not both.", "reactivation_date")
    missing = gates.lost(lead, lost_reason, reactivation_date, reactivation_never)
    if missing:
        raise GateRefused("lost", missing)
    from_stage = lead.stage
    lead.stage = "lost"
    lead.lost_reason, lead.lost_note = lost_reason, (lost_note or "").strip() or None
    lead.lost_at = utcnow()
    lead.reactivation_date, lead.reactivation_never = reactivation_date, bool(reactivation_never)
    lead.paused_at = lead.pause_reason = None
    lead.probability = 0
    if lead.owner_id is None:
        lead.owner_id = actor.id
    if reactivation_date is not None:
        lead.next_action = f"Win-back: reactivate {lead.company}"[:300]
        lead.next_action_due = reactivation_date
    else:
        lead.next_action = lead.next_action_due = None
    session.flush()
    keep = ()
    if reactivation_date is not None:
        task = ensure_task(
            session,
            key=f"lead:{lead.id}:reactivation:{lead.lost_at:%Y%m%d%H%M%S}",
            kind="reactivation",
            title=f"Win-back: reactivate {lead.company}",
            owner_id=lead.owner_id,
            due=reactivation_date,
            lead_id=lead.id,
            notes=f"Lost for: {lost_reason}. {lead.lost_note or ''}".strip(),
        )
        session.flush()
        keep = (task.id,)
    closed = close_open_tasks(session, lead, actor, "the deal was lost", keep=keep)
    record_event(session, lead, "stage_moved", actor, from_stage=from_stage, to_stage="lost")
    record_event(
        session,
        lead,
        "lost",
        actor,
        reason=lost_reason,
        reactivation_date=reactivation_date,
        never=bool(reactivation_never),
        closed_task_ids=closed or None,
    )
    session.flush()
    return lead


def reactivate(
    session: Session,
    lead: Lead,
    actor: User | None,
    expected_version: int | None,
    *,
    confirmed: bool = False,
    next_action: str | None = None,
    next_action_due: date | None = None,
) -> Lead:
    """Bring a lost lead back to qualified with its history intact (events and loss kept); with its
    consent withdrawn it comes back paused for consent.

    A person confirms it and gives a due date (today or later): the owner gets the task to
    re-qualify (the lead's next-action task) and the win-back task still waiting is closed. A lead
    lost with "never reactivate" comes back only by an admin's hand. No actor: the reminder sweep on
    the reactivation date (it gives the owner the win-back task itself).
    """
    if actor is not None:
        require_lead_actor(actor, lead, action="reactivate opportunities")
    check_version(lead, expected_version, "This opportunity")
    if lead.stage != "lost":
        raise Invalid("Only a lost opportunity can be reactivated.")
    if actor is not None:
        if lead.reactivation_never and actor.role != "admin":
            raise Forbidden(
                "This opportunity was lost with “never reactivate”: only an admin can reactivate it."
            )
        missing = []
        if not confirmed:
            missing.append(Missing("confirmation", "Confirm that you want to reactivate it", "outcome"))
        if next_action_due is None:
            missing.append(Missing("next_action_due", "Give the re-qualification a due date", "outcome"))
        elif next_action_due < today():
            missing.append(Missing("next_action_due", "The due date cannot be in the past", "outcome"))
        if missing:
            raise GateRefused("qualified", missing)
    before = {
        "lost_reason": lead.lost_reason,
        "lost_at": lead.lost_at.isoformat() if lead.lost_at else None,
        "reactivation_date": lead.reactivation_date,
    }
    _apply_next_action(lead, next_action or f"Re-qualify {lead.company}", next_action_due or today())
    lead.stage = "qualified"
    lead.lost_reason = lead.lost_note = lead.lost_at = lead.reactivation_date = None
    lead.reactivation_never = False
    lead.probability = STAGE_PROBABILITY["qualified"]
    closed = None
    if actor is not None:
        if lead.owner_id is None:
            lead.owner_id = actor.id
        closed = (
            close_open_tasks(
                session, lead, actor, "the opportunity was reactivated by hand", kinds=("reactivation",)
            )
            or None
        )
        sync_next_action_task(session, lead, actor, kind="reactivation")
    record_event(session, lead, "reactivated", actor, **before, closed_task_ids=closed)
    record_event(session, lead, "stage_moved", actor, from_stage="lost", to_stage="qualified")
    if lead.consent == "withdrawn":  # open again, but still not to be contacted
        _pause(session, lead, actor, "consent", "Consent withdrawn")
    session.flush()
    return lead


# What a win supersedes: proposal follow-ups (and responses to a decline), contract steps, win-backs and
# the lead's own next-action task (the handoff's kickoff item, for the onboarding owner, takes over).
WON_SUPERSEDES = ("follow_up", "contract_step", "reactivation")


def mark_won(session: Session, lead: Lead, actor: User, expected_version: int | None) -> Lead:
    """Win the deal: accepted proposal, signed contract, payment state, kickoff date and onboarding owner.

    The next action becomes the kickoff (due on the contract's kickoff date) and the tasks the win
    supersedes are closed with the reason, before the won event records them. Queues the handoff
    (client, project, checklist, connectors, portal invite, first report) in the same transaction.
    """
    check_version(lead, expected_version, "This opportunity")
    require_lead_actor(actor, lead, action="mark it won")
    # Two wins at once: the row lock makes the second wait for the first, and a fresh read then
    # tells it the deal changed meanwhile (a Conflict), not that its proposal was never sent.
    current = session.execute(
        sa.select(Lead.version).where(Lead.id == lead.id).with_for_update()
    ).scalar_one()
    if current != lead.version:
        raise Conflict("This opportunity", current)
    if lead.stage != "contract":
        missing = gates.missing_for(session, lead, "won") if lead.is_open else []
        raise GateRefused(
            "won",
            [Missing("stage", "Send the proposal first (stage must be contract)", "proposal"), *missing],
        )
    if lead.is_paused:
        raise Invalid(f"The opportunity is paused ({lead.pause_reason}): resume it first.", "stage")
    facts = gates.Facts(session, lead)
    missing = gates.won(session, lead, facts)
    if missing:
        raise GateRefused("won", missing)
    lead.stage = "won"
    lead.won_at = utcnow()
    lead.probability = 100
    lead.next_action = f"Kickoff with {lead.company}"[:300]
    lead.next_action_due = facts.contract().kickoff_date
    session.flush()
    closed = close_open_tasks(session, lead, actor, "the deal was won", kinds=WON_SUPERSEDES)
    record_event(session, lead, "stage_moved", actor, from_stage="contract", to_stage="won")
    record_event(session, lead, "won", actor, closed_task_ids=closed or None)
    session.flush()
    enqueue(session, "handoff", f"handoff:{lead.id}", lead_id=lead.id)
    session.flush()
    return lead
