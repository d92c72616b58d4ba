"""Writing the trail: events, promised tasks and outbox jobs. Used by every other domain module."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Event, Lead, Outbox, Task, User, utcnow
from .errors import Conflict, Forbidden


# Called with (session, event) for every event recorded: modules above the trail that react to events
# (zarts.domain.webhooks) register here when they are imported, so the trail imports none of them.
EVENT_LISTENERS: list = []


def on_event(listener):
    """Register `listener(session, event)` for every event recorded (a decorator)."""
    EVENT_LISTENERS.append(listener)
    return listener


def record_event(session: Session, lead: Lead, kind: str, actor: User | None, **payload) -> Event:
    """Append one event capturing the lead's owner, stage and next action at this moment."""
    event = Event(
        lead_id=lead.id,
        kind=kind,
        actor_id=actor.id if actor is not None else None,
        owner_id=lead.owner_id,
        stage=lead.stage,
        next_action=lead.next_action,
        next_action_due=lead.next_action_due,
        payload=_jsonable(payload),
        created_at=utcnow(),
    )
    session.add(event)
    for listener in EVENT_LISTENERS:
        listener(session, event)
    return event


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def ensure_tasks(session: Session, tasks: list[dict], known_new: Collection[str] = ()) -> list[Task]:
    """`ensure_task` for several tasks at once (each a dict of its arguments): one query for the keys
    that exist, then the missing tasks added together (flushed as one batch). `known_new`: keys the
    caller knows no task has yet (keys of a record made in this transaction), not looked up."""
    keys = [t["key"] for t in tasks if t["key"] not in known_new]
    found = {}
    if keys:
        with session.no_autoflush:
            found = {task.key: task for task in session.scalars(sa.select(Task).where(Task.key.in_(keys)))}
    out = []
    for spec in tasks:
        task = found.get(spec["key"])
        if task is None:
            task = found[spec["key"]] = Task(**{"client_visible": False, **spec})
            session.add(task)
        out.append(task)
    return out


def ensure_task(
    session: Session,
    *,
    key: str,
    kind: str,
    title: str,
    owner_id: int,
    due: date,
    lead_id: int | None = None,
    client_id: int | None = None,
    project_id: int | None = None,
    client_visible: bool = False,
    notes: str | None = None,
) -> Task:
    """Create the task for a promise once: a second call with the same key returns the first task."""
    task = session.execute(sa.select(Task).where(Task.key == key)).scalar_one_or_none()
    if task is None:
        task = Task(
            key=key,
            kind=kind,
            title=title,
            owner_id=owner_id,
            due=due,
            lead_id=lead_id,
            client_id=client_id,
            project_id=project_id,
            client_visible=client_visible,
            notes=notes,
        )
        session.add(task)
    return task


def next_action_key(lead_id: int) -> str:
    """The key of the lead's next-action task: one open task per lead, found by this key."""
    return f"lead:{lead_id}:next_action"


def sync_next_action_task(
    session: Session, lead: Lead, actor: User | None, kind: str = "follow_up"
) -> Task | None:
    """Make the lead's next action a task its owner is reminded of (the sweep reads tasks, not leads).

    The open task keyed `lead:<id>:next_action` takes the lead's next action as title and its due
    date; a task of that key already done keeps its history under a key of its own and a new one is
    opened. No next action (or nobody to own it): the open task, if any, is closed.
    """
    key = next_action_key(lead.id)
    task = session.execute(sa.select(Task).where(Task.key == key)).scalar_one_or_none()
    owner_id = lead.owner_id or (actor.id if actor is not None else None)
    if not (lead.next_action or "").strip() or lead.next_action_due is None or owner_id is None:
        if task is not None and task.done_at is None:
            _close(task, actor, "the opportunity has no next action any more")
        return None
    if task is not None and task.done_at is not None:
        task.key = f"{key}:{task.id}"  # the done one stays as it was; the key goes to the new one
        session.flush()
        task = None
    if task is None:
        task = Task(
            key=key,
            kind=kind,
            lead_id=lead.id,
            client_visible=False,
            owner_id=owner_id,
            title=lead.next_action,
            due=lead.next_action_due,
        )
        session.add(task)
    else:
        task.kind, task.owner_id = kind, owner_id
        task.title, task.due = lead.next_action, lead.next_action_due
    return task


def close_next_action_task(session: Session, lead: Lead, actor: User | None, reason: str) -> int | None:
    """Close the lead's open next-action task when a task of its own now carries the next action
    (a sent proposal's follow-up): one task per promise in My tasks. Returns its id, if one was open."""
    task = session.execute(
        sa.select(Task).where(Task.key == next_action_key(lead.id), Task.done_at.is_(None))
    ).scalar_one_or_none()
    if task is None:
        return None
    _close(task, actor, reason)
    return task.id


def _close(task: Task, actor: User | None, reason: str) -> None:
    task.done_at = utcnow()
    task.done_by_id = actor.id if actor is not None else None
    task.notes = "\n".join(filter(None, [task.notes, f"Closed: {reason}."]))


def close_open_tasks(
    session: Session,
    lead: Lead,
    actor: User | None,
    reason: str,
    *,
    kinds: tuple[str, ...] | None = None,
    keep: tuple[int, ...] = (),
) -> list[int]:
    """Close the lead's open tasks the act superseded (of `kinds`, or all), saying why in their notes.

    Approval reviews close with their decision and a client's message with its reply, so they stay;
    so do the handoff's tasks (delivery's work) and the tasks in `keep`. Returns the ids closed.
    """
    query = sa.select(Task).where(
        Task.lead_id == lead.id,
        Task.done_at.is_(None),
        Task.kind.notin_(("proposal_review", "reply")),
        sa.or_(Task.key.is_(None), Task.key.notlike("handoff:%")),
    )
    if kinds is not None:
        query = query.where(Task.kind.in_(kinds))
    closed = []
    for task in session.execute(query.order_by(Task.id)).scalars():
        if task.id not in keep:
            _close(task, actor, reason)
            closed.append(task.id)
    return closed


def enqueue(session: Session, job: str, key: str, **payload) -> Outbox:
    """Queue a job in the same transaction as the change that needs it (at most one per key)."""
    row = session.execute(sa.select(Outbox).where(Outbox.key == key)).scalar_one_or_none()
    if row is None:
        row = Outbox(job=job, key=key, payload=_jsonable(payload))
        session.add(row)
        session.info.setdefault("outbox_keys", []).append(key)
    return row


def check_version(row, expected_version: int | None, what: str) -> None:
    """Refuse a change made against an old version of the row (optimistic locking)."""
    if expected_version is None:
        return
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise Conflict(what, row.version) from None
    if expected != row.version:
        raise Conflict(what, row.version)


# A tracked edit keeps at most this much of each old and new value in its event.
CHANGE_VALUE_LIMIT = 500


def change_value(value):
    """A field's value as a change record keeps it: JSON-able and short."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return text if len(text) <= CHANGE_VALUE_LIMIT else text[: CHANGE_VALUE_LIMIT - 1] + "…"


def snapshot_fields(row, fields) -> dict:
    """The current values of `fields` of `row` (take one before a change, pass it to record_changes)."""
    return {name: getattr(row, name) for name in fields}


def record_changes(
    session: Session, lead: Lead | None, actor: User | None, row, before: dict, *, via: str | None = None
) -> list[dict]:
    """A change record (who, when, field, old -> new) of every field in `before` whose value on `row`
    differs now, as one `fields_changed` event on the lead's timeline (like Odoo's tracked fields).
    Returns the changes (empty: nothing changed, no event)."""
    changes = [
        {"field": name, "old": change_value(old), "new": change_value(getattr(row, name))}
        for name, old in before.items()
        if getattr(row, name) != old
    ]
    if changes and lead is not None:
        record_event(
            session,
            lead,
            "fields_changed",
            actor,
            table=row.__tablename__,
            row=row.id,
            changes=changes,
            via=via,
        )
    return changes


def require_lead_actor(actor: User | None, lead: Lead, *roles: str, action: str = "do this") -> None:
    """Who may act on a lead (SECURITY.md's table): staff of `roles` (default growth ops), and a
    growth-ops user only on a lead they own or one nobody owns yet; admins on every lead."""
    require_staff(actor, *(roles or ("growth_ops",)), action=action)
    if actor.role == "growth_ops" and lead.owner_id not in (None, actor.id):
        raise Forbidden(f"Only the owner of this opportunity (or an admin) can {action}.")


def require_staff(actor: User | None, *roles: str, action: str = "do this") -> None:
    if actor is None or not actor.is_staff or not actor.is_active:
        raise Forbidden(f"Only staff can {action}.")
    if roles and actor.role not in roles and actor.role != "admin":
        names = " or ".join(r.replace("_", " ") for r in roles)
        raise Forbidden(f"Only {names} (or an admin) can {action}.")
