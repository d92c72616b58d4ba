"""The `notify` outbox job: writes one Notification for the bell (zarts.domain.notifications.notify
queued it with the change that caused it).

Idempotent: the row's key is unique and the INSERT skips a key that exists, so a job run twice (a
retry, a re-drive, two relays) still leaves one notification. A record gone meanwhile, or a recipient
no longer active, leaves none: there is nothing left to point at, or nobody to tell.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from ..domain import notifications
from ..models import Approval, Client, Contract, Lead, Message, Proposal, Task, User
from ..models.vocab import APPROVAL_KIND_LABELS
from .errors import Permanent


def notify(session: Session, payload: dict) -> str:
    """Write the notification the payload describes (see `_describe`)."""
    if payload.get("cause") == "handoff":
        payload = _handoff_recipient(session, payload)
        if payload is None:
            return "notify: the onboarding owner is the opportunity's owner, who won it"
    user = session.get(User, int(payload["user_id"]))
    if user is None or not user.is_staff or not user.active:
        return "notify: nobody to tell"
    described = _describe(session, payload)
    if described is None:
        return "notify: the record is gone"
    title, url, lead_id = described
    made = notifications.record(
        session, user, kind=payload["kind"], title=title, url=url, lead_id=lead_id, key=payload["note_key"]
    )
    return f"notify: {payload['kind']} for user {user.id}" + ("" if made else " (already there)")


def _path(endpoint: str, **values) -> str:
    """An app path (no host): notifications are read in the workspace, on whatever host serves it."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def _lead_path(lead_id: int | None, fallback: str) -> str:
    return _path("workspace.lead", lead_id=lead_id) if lead_id is not None else fallback


def _name(session: Session, user_id) -> str:
    user = session.get(User, int(user_id)) if user_id is not None else None
    return (user.name or user.email) if user is not None else "Someone"


def _describe(session: Session, p: dict) -> tuple[str, str, int | None] | None:
    """(title, path, lead id) of the notification, from the records as they are now."""
    kind = p["kind"]
    if kind in ("approval_requested", "approval_decided"):
        approval = session.get(Approval, int(p["approval_id"]))
        if approval is None:
            return None
        lead = session.get(Lead, approval.lead_id) if approval.lead_id is not None else None
        what = APPROVAL_KIND_LABELS.get(approval.kind, approval.kind).lower()
        what += f" for {lead.company}" if lead else ""
        if kind == "approval_requested":
            title = f"{_name(session, approval.requested_by_id)} asks you to review the {what}"
            return title, _path("workspace.approval_item", approval_id=approval.id), approval.lead_id
        state = p.get("state") or approval.state
        title = f"{_name(session, p.get('actor_id'))} {state} the {what}"
        if state == "rejected" and approval.comment:
            title += f": {approval.comment}"
        fallback = (
            _path("workspace.task_row", task_id=approval.task_id)
            if approval.task_id
            else _path("workspace.my_tasks")
        )
        return title, _lead_path(approval.lead_id, fallback), approval.lead_id
    if kind == "client_message":
        msg = session.get(Message, int(p["message_id"]))
        if msg is None:
            return None
        client = session.get(Client, msg.client_id) if msg.client_id is not None else None
        author = _name(session, msg.author_id)
        title = f"{author} ({client.name}) wrote to the team" if client else f"{author} wrote to the team"
        task_id = session.execute(sa.select(Task.id).where(Task.key == f"message:{msg.id}:reply")).scalar()
        fallback = _path("workspace.task_row", task_id=task_id) if task_id else _path("workspace.my_tasks")
        return title, _lead_path(msg.lead_id, fallback), msg.lead_id
    if kind in ("proposal_viewed", "proposal_accepted", "proposal_declined"):
        proposal = session.get(Proposal, int(p["proposal_id"]))
        if proposal is None:
            return None
        lead = session.get(Lead, proposal.lead_id)
        verb = kind.removeprefix("proposal_")
        title = f"{lead.company} {verb} proposal v{proposal.number}"
        if kind == "proposal_declined" and proposal.decline_reason:
            title += f": {proposal.decline_reason}"
        return title, _path("workspace.lead", lead_id=lead.id), lead.id
    if kind == "task_assigned" and p.get("cause") == "handoff":
        lead = session.get(Lead, int(p["lead_id"]))
        title = f"{lead.company} is won: its onboarding tasks are yours"
        return title, _path("workspace.my_tasks"), lead.id
    if kind == "task_assigned":
        task = session.get(Task, int(p["task_id"]))
        if task is None or task.owner_id != int(p["user_id"]) or task.is_done:
            return None  # reassigned again, done or deleted before the job ran: nothing to do any more
        title = f"{_name(session, p.get('actor_id'))} assigned you: {task.title}"
        return title, _path("workspace.task_row", task_id=task.id), task.lead_id
    if kind == "reactivation_due":
        lead = session.get(Lead, int(p["lead_id"]))
        if lead is None:
            return None
        return f"Win-back due: re-qualify {lead.company}", _path("workspace.lead", lead_id=lead.id), lead.id

    raise Permanent(f"unknown notification kind {kind!r}")


def _handoff_recipient(session: Session, payload: dict) -> dict | None:
    """The handoff's tasks go to the contract's onboarding owner: told unless they won the deal."""
    row = session.execute(
        sa.select(Contract.onboarding_owner_id, Lead.owner_id)
        .join(Lead, Lead.id == Contract.lead_id)
        .where(Contract.lead_id == int(payload["lead_id"]))
    ).first()
    if row is None or row.onboarding_owner_id is None or row.onboarding_owner_id == row.owner_id:
        return None
    return {
        **payload,
        "user_id": row.onboarding_owner_id,
        "note_key": f"task_assigned:handoff:{payload['lead_id']}:{row.onboarding_owner_id}",
    }
