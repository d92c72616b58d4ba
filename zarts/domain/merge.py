"""Merging a duplicate lead (or client) into the record that survives, keeping both histories.

What happens to a merged lead's records, and why:

- **Events** are append-only (the ORM and database triggers refuse UPDATE), so they stay on the
  duplicate. The survivor's `merged` event names the absorbed lead (`absorbed_id`), and the
  timeline reads the events of every lead reached that way (`history_ids`, following those
  events), so a lead absorbed by a lead later merged again still shows under the last survivor.
- **Messages** and **notifications** move to the survivor (they are about the conversation, not the
  duplicate's stage).
- **Tasks** move to the survivor, open or done, except the duplicate's own promises: its next action
  and win-back (keys `lead:<id>:…`), its proposal and contract steps (`proposal:…`, `contract:…`)
  and approval reviews. Those stay with the records they are about; the open ones are closed,
  saying into which lead it was merged.
- **Proposals, audits, approvals, contracts** stay with the duplicate. A proposal's number is unique
  per lead and is the number the client saw (and its frozen snapshot quotes); an approval was decided
  on that proposal; an audit is the evidence of that proposal's gate; a lead has one contract. Moving
  them would renumber what a client was sent and could open the survivor's gates on someone else's
  evidence. The survivor's lead page lists the merged leads with their proposals, each a link.

The duplicate is closed as lost (reason "duplicate", never reactivated) and points at the survivor
(`merged_into_id`); a won duplicate is refused, since its handoff made a project and client records
that belong to it (merge the other lead into the won one instead).

Clients: leads, projects, client contacts (users), messages, tasks, reports and proposals of the
duplicate are re-pointed to the survivor (the portal scopes by client id, so a contact of the
merged client sees the survivor's data); each affected lead gets a `merged` event, and the
duplicate's notes say who merged it when.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Client, Event, Lead, Message, Notification, Project, Proposal, Report, Task, User, utcnow
from ..models.vocab import CADENCES, CLIENT_STATUS
from . import pipeline
from .errors import Forbidden, Invalid
from .trail import check_version, record_event, require_lead_actor, require_staff

# The fields a merge compares and lets the user choose between, with their labels. "value" is the
# deal's value and its currency, taken together.
LEAD_FIELDS = (
    ("title", "Title"),
    ("company", "Company"),
    ("contact_name", "Contact name"),
    ("contact_email", "Contact email"),
    ("contact_phone", "Contact phone"),
    ("contact_path", "Contact path"),
    ("source", "Source"),
    ("source_context", "Source context"),
    ("service", "Service"),
    ("service_fit", "Service fit"),
    ("urgency", "Urgency"),
    ("decision_owner", "Decision owner"),
    ("decision_criteria", "Decision criteria"),
    ("budget_signal", "Budget signal"),
    ("pain_points", "Pain points"),
    ("current_lead_flow", "Current lead flow"),
    ("provider_stack", "Provider stack"),
    ("discovery_notes", "Discovery notes"),
    ("value", "Value"),
)
CLIENT_FIELDS = (
    ("name", "Name"),
    ("domain", "Web domain"),
    ("status", "Status"),
    ("report_cadence", "Report cadence"),
    ("notes", "Notes"),
)
SIDES = ("survivor", "duplicate")


@dataclass(frozen=True)
class FieldDiff:
    name: str
    label: str
    survivor: object
    duplicate: object
    default: str  # "survivor" or "duplicate": what survives unless the user chooses otherwise


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _lead_value(lead: Lead, name: str):
    if name == "value":
        return None if lead.value_cents is None else (lead.value_cents, lead.currency)
    return getattr(lead, name)


def _client_value(client: Client, name: str):
    return getattr(client, name)


def _diffs(fields, survivor, duplicate, value_of) -> list[FieldDiff]:
    out = []
    for name, label in fields:
        s, d = value_of(survivor, name), value_of(duplicate, name)
        if s != d and not (_blank(s) and _blank(d)):
            out.append(FieldDiff(name, label, s, d, "duplicate" if _blank(s) else "survivor"))
    return out


def lead_differences(survivor: Lead, duplicate: Lead) -> list[FieldDiff]:
    """The fields whose values differ, each with the side kept by default (the survivor's, unless it
    is blank and the duplicate's is not)."""
    return _diffs(LEAD_FIELDS, survivor, duplicate, _lead_value)


def client_differences(survivor: Client, duplicate: Client) -> list[FieldDiff]:
    return _diffs(CLIENT_FIELDS, survivor, duplicate, _client_value)


def _taken(diffs: list[FieldDiff], choices: dict | None) -> list[str]:
    """The names of the fields whose duplicate value survives; Invalid for a choice that is not one."""
    choices = dict(choices or {})
    known = {d.name for d in diffs}
    for name, side in choices.items():
        if side not in SIDES:
            raise Invalid(f"Choose which value of {name.replace('_', ' ')} survives.", name)
    return [d.name for d in diffs if choices.get(d.name, d.default) == "duplicate" and d.name in known]


# ---------------------------------------------------------------- leads


def history_ids(session: Session, lead_id: int) -> list[int]:
    """The ids whose events make up a lead's timeline: the lead, then every lead merged into it (found
    through the survivors' `merged` events, following merges of merges), in the order reached.

    Plain SELECTs, one per generation of merges (one in all for a lead nothing was merged into): a
    recursive WITH would end the request's read-only transaction with a rollback and so drop the
    connection's prepared statements (zarts.statements)."""
    absorbed = Event.payload["absorbed_id"].as_integer()
    found, frontier = [lead_id], [lead_id]
    while frontier:
        step = session.scalars(
            sa.select(absorbed).where(
                Event.lead_id.in_(frontier), Event.kind == "merged", absorbed.isnot(None)
            )
        ).all()
        frontier = [i for i in dict.fromkeys(step) if i not in found]
        found.extend(frontier)
    return found


def absorbed_leads(session: Session, lead_id: int) -> list[Lead]:
    """The leads merged into this one (directly or through a merged lead), oldest merge first."""
    ids = history_ids(session, lead_id)[1:]
    if not ids:
        return []
    return list(session.scalars(sa.select(Lead).where(Lead.id.in_(ids)).order_by(Lead.id)))


def _own_promise(task: Task, lead_id: int) -> bool:
    """A task about a record that stays with the duplicate (its next action, win-back, proposal and
    contract steps, approval reviews): it stays too."""
    key = task.key or ""
    return (
        task.kind == "proposal_review"
        or key.startswith((f"lead:{lead_id}:", "proposal:", "contract:"))
        or key.startswith("handoff:")
    )


def merge_leads(
    session: Session,
    survivor: Lead,
    duplicate: Lead,
    actor: User,
    survivor_version: int | None,
    duplicate_version: int | None,
    choices: dict[str, str] | None = None,
) -> Lead:
    """Merge `duplicate` into `survivor`; `choices` maps a differing field (see `lead_differences`)
    to "survivor" or "duplicate", the value that survives (unset: the default of the difference).

    Refused (nothing changed): merging a lead into itself; a lead already merged, on either side;
    a won duplicate (its handoff belongs to it: keep it and merge the other one into it); a user
    who may not act on both leads (an admin, or the growth-ops owner of both); a stale version of
    either (Conflict). What moves and what stays: see the module's docstring.
    """
    if survivor.id == duplicate.id:
        raise Invalid("A lead cannot be merged into itself: choose another lead.", "duplicate")
    require_lead_actor(actor, survivor, action="merge leads")
    require_lead_actor(actor, duplicate, action="merge leads")
    check_version(survivor, survivor_version, "The lead that stays")
    check_version(duplicate, duplicate_version, "The duplicate lead")
    for lead, what in ((survivor, "The lead that stays"), (duplicate, "The duplicate")):
        if lead.merged_into_id is not None:
            raise Invalid(
                f"{what} (#{lead.id}) was already merged into lead #{lead.merged_into_id}: "
                "merge with that one instead.",
                "duplicate",
            )
    has_project = session.scalar(sa.select(Project.id).where(Project.lead_id == duplicate.id))
    if duplicate.stage == "won" or has_project:
        raise Invalid(
            f"Lead #{duplicate.id} is won: its handoff made a project and client records that "
            "belong to it. Keep it, and merge the other lead into it instead.",
            "duplicate",
        )
    diffs = lead_differences(survivor, duplicate)
    taken = _taken(diffs, choices)
    _take_lead_fields(session, survivor, duplicate, actor, taken)
    if survivor.client_id is None and duplicate.client_id is not None:
        survivor.client_id = duplicate.client_id
        taken.append("client")

    reason = f"merged into lead #{survivor.id} ({survivor.title})"
    moved, closed = _move_tasks(session, survivor, duplicate, actor, reason)
    messages = session.execute(
        sa.update(Message).where(Message.lead_id == duplicate.id).values(lead_id=survivor.id)
    ).rowcount
    session.execute(
        sa.update(Notification).where(Notification.lead_id == duplicate.id).values(lead_id=survivor.id)
    )
    absorbed_before = [
        e.payload["absorbed_id"]
        for e in session.scalars(
            sa.select(Event).where(Event.lead_id == duplicate.id, Event.kind == "merged")
        )
        if isinstance(e.payload, dict) and e.payload.get("absorbed_id")
    ]
    earlier_leads = (
        session.scalars(sa.select(Lead).where(Lead.id.in_(absorbed_before))) if absorbed_before else ()
    )
    for earlier in earlier_leads:
        earlier.merged_into_id = survivor.id  # a merged lead's page links to the last survivor

    _close_duplicate(session, survivor, duplicate, actor)
    record_event(
        session,
        survivor,
        "merged",
        actor,
        absorbed_id=duplicate.id,
        other_title=duplicate.title,
        fields_taken=taken,
        tasks_moved=len(moved),
        messages_moved=messages,
    )
    record_event(
        session,
        duplicate,
        "merged",
        actor,
        merged_into_id=survivor.id,
        other_title=survivor.title,
        fields_taken=taken,
        tasks_moved=len(moved),
        tasks_closed=closed or None,
    )
    session.flush()
    return survivor


def _take_lead_fields(
    session: Session, survivor: Lead, duplicate: Lead, actor: User, taken: list[str]
) -> None:
    fields = {}
    for name in taken:
        if name == "value":
            fields["value_cents"], fields["currency"] = duplicate.value_cents, duplicate.currency
        else:
            fields[name] = getattr(duplicate, name)
    if fields:  # a fields_changed event on the survivor, via "merge", old and new value of each
        pipeline.update_lead(session, survivor, actor, None, via="merge", **fields)


def _move_tasks(
    session: Session, survivor: Lead, duplicate: Lead, actor: User, reason: str
) -> tuple[list[int], list[int]]:
    moved, closed = [], []
    tasks = session.scalars(sa.select(Task).where(Task.lead_id == duplicate.id).order_by(Task.id)).all()
    for task in tasks:
        if _own_promise(task, duplicate.id):
            if task.done_at is None and task.kind != "proposal_review":
                task.done_at, task.done_by_id = utcnow(), actor.id
                task.notes = "\n".join(filter(None, [task.notes, f"Closed: {reason}."]))
                closed.append(task.id)
            continue
        task.lead_id = survivor.id
        moved.append(task.id)
    return moved, closed


def _close_duplicate(session: Session, survivor: Lead, duplicate: Lead, actor: User) -> None:
    from_stage = duplicate.stage
    duplicate.stage = "lost"
    duplicate.lost_reason = "duplicate"
    duplicate.lost_note = f"Merged into lead #{survivor.id} ({survivor.title})."[:1000]
    duplicate.lost_at = duplicate.lost_at or utcnow()
    duplicate.reactivation_date, duplicate.reactivation_never = None, True
    duplicate.paused_at = duplicate.pause_reason = None
    duplicate.probability = 0
    duplicate.next_action = duplicate.next_action_due = None
    duplicate.merged_into_id = survivor.id
    session.flush()
    if from_stage != "lost":
        record_event(session, duplicate, "stage_moved", actor, from_stage=from_stage, to_stage="lost")


# ---------------------------------------------------------------- clients


def require_client_actor(actor: User | None, client: Client, action: str = "merge clients") -> None:
    """An admin on every client; growth ops on a client they own (or one nobody owns)."""
    require_staff(actor, "growth_ops", action=action)
    if actor.role == "growth_ops" and client.owner_id not in (None, actor.id):
        raise Forbidden(f"Only the owner of this client (or an admin) can {action}.")


def merge_clients(
    session: Session,
    survivor: Client,
    duplicate: Client,
    actor: User,
    survivor_version: int | None,
    duplicate_version: int | None,
    choices: dict[str, str] | None = None,
) -> Client:
    """Merge client `duplicate` into `survivor`: its leads, projects, contacts, messages, tasks,
    reports and proposals now belong to the survivor; each of those leads gets a `merged` event; the
    duplicate points at the survivor (merged_into_id) and its notes say who merged it and when.

    Refused as for leads: itself, an already merged client on either side, someone who may not act
    on both (an admin, or growth ops owning both), a stale version of either (Conflict).
    """
    if survivor.id == duplicate.id:
        raise Invalid("A client cannot be merged into itself: choose another client.", "duplicate")
    require_client_actor(actor, survivor)
    require_client_actor(actor, duplicate)
    check_version(survivor, survivor_version, "The client that stays")
    check_version(duplicate, duplicate_version, "The duplicate client")
    for client, what in ((survivor, "The client that stays"), (duplicate, "The duplicate")):
        if client.merged_into_id is not None:
            raise Invalid(
                f"{what} (#{client.id}) was already merged into client #{client.merged_into_id}: "
                "merge with that one instead.",
                "duplicate",
            )
    diffs = client_differences(survivor, duplicate)
    taken = _taken(diffs, choices)
    for name in taken:
        value = getattr(duplicate, name)
        allowed = {"status": CLIENT_STATUS, "report_cadence": CADENCES}.get(name)
        if allowed is not None and value not in allowed:
            raise Invalid(f"The duplicate's {name.replace('_', ' ')} is not one this app knows.", name)
        if name == "name" and _blank(value):
            raise Invalid("The client needs a name.", "name")
        setattr(survivor, name, value)

    leads = session.scalars(sa.select(Lead).where(Lead.client_id == duplicate.id).order_by(Lead.id)).all()
    for lead in leads:
        lead.client_id = survivor.id
    for project in session.scalars(sa.select(Project).where(Project.client_id == duplicate.id)):
        project.client_id = survivor.id
    moved = {}
    for model in (User, Message, Task, Report, Proposal):
        moved[model.__tablename__] = session.execute(
            sa.update(model)
            .where(model.client_id == duplicate.id)
            .values(client_id=survivor.id)
            .execution_options(synchronize_session="fetch")
        ).rowcount
    duplicate.merged_into_id = survivor.id
    stamp = f"{utcnow():%Y-%m-%d %H:%M} UTC"
    said = f"Merged into client #{survivor.id} ({survivor.name}) by {actor.name}, {stamp}."
    duplicate.notes = "\n".join(filter(None, [duplicate.notes, said]))
    session.flush()
    for lead in leads:
        record_event(
            session,
            lead,
            "merged",
            actor,
            client_merged_from=duplicate.id,
            client_merged_into=survivor.id,
            client_name=survivor.name,
            fields_taken=taken,
            contacts_moved=moved["users"],
        )
    session.flush()
    return survivor
