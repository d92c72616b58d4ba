"""Tasks: made and changed by staff (with a change record on the lead's timeline), ticked off by the
person they are assigned to, the opportunity's owner or an admin; client checklist items reach the
portal only once an approver has approved their wording; the client ticks their own items."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Approval, Client, Lead, Project, Task, User, utcnow
from ..models.vocab import TASK_KINDS
from .approval_requests import request_approval, withdraw
from .errors import Forbidden, Invalid
from .notifications import notify
from .trail import (
    check_version,
    record_changes,
    record_event,
    require_lead_actor,
    require_staff,
    snapshot_fields,
)

# Kinds only the domain makes: a review task belongs to an approval request and closes with its decision.
SYSTEM_KINDS = ("proposal_review",)
REVIEW_KEY = re.compile(r"approval:(\d+):review")
# What an edit may change, and what its change record lists.
TRACKED = ("title", "notes", "kind", "owner_id", "due", "lead_id", "client_id", "project_id")
LINKS = ("lead_id", "client_id", "project_id")


def create_task(
    session: Session,
    actor: User,
    *,
    title: str,
    owner_id: int | None,
    due: date | None,
    kind: str = "follow_up",
    notes: str | None = None,
    lead_id: int | None = None,
    client_id: int | None = None,
    project_id: int | None = None,
    via: str | None = None,
) -> Task:
    """A task a staff member sets (for themselves or a colleague), on the lead's timeline as a change
    record from nothing. Never a client checklist item: `propose_client_task` asks an approver first."""
    require_staff(actor, "growth_ops", "delivery", action="create tasks")
    if kind in SYSTEM_KINDS:
        raise Invalid("Review tasks are made by approval requests: choose another kind.", "kind")
    task = Task(client_visible=False)
    lead = _apply(
        session,
        task,
        actor,
        title=title,
        notes=notes,
        kind=kind,
        owner_id=owner_id,
        due=due,
        lead_id=lead_id,
        client_id=client_id,
        project_id=project_id,
    )
    session.add(task)
    session.flush()
    record_changes(session, lead, actor, task, dict.fromkeys(TRACKED), via=via)
    notify(session, "task_assigned", f"{task.id}:{task.version}", task.owner_id, actor, task_id=task.id)
    return task


def update_task(
    session: Session,
    task: Task,
    actor: User,
    expected_version: int | None,
    *,
    title: str,
    notes: str | None,
    kind: str,
    owner_id: int | None,
    due: date | None,
    lead_id: int | None,
    client_id: int | None,
    project_id: int | None,
    via: str | None = None,
) -> Task:
    """Edit a task's words, owner, due date and links: a change record on the lead's timeline.

    A task the system made keeps its kind and links (its key ties it to what promised it). New wording
    for a client checklist item (or one waiting for approval), or another client, takes it off the
    client's checklist until an approver approves it again."""
    _require_task_actor(session, task, actor, "change this task")
    check_version(task, expected_version, "This task")
    if kind != task.kind and (kind in SYSTEM_KINDS or task.kind in SYSTEM_KINDS):
        raise Invalid("Review tasks are made by approval requests: their kind stays as it is.", "kind")
    if task.key is not None and (kind, lead_id, client_id, project_id) != (task.kind, *_links(task)):
        raise Invalid(
            "This task was made by the system for what it is linked to: its kind and links stay "
            "as they are (change its title, notes, owner or due date).",
            "kind",
        )
    before = snapshot_fields(task, TRACKED)
    lead = _apply(
        session,
        task,
        actor,
        title=title,
        notes=notes,
        kind=kind,
        owner_id=owner_id,
        due=due,
        lead_id=lead_id,
        client_id=client_id,
        project_id=project_id,
    )
    if task.title != before["title"] or task.client_id != before["client_id"]:
        _withdraw(session, task)
    if lead is None and before["lead_id"] is not None:  # unlinked: the change is on the former lead's
        lead = session.get(Lead, before["lead_id"])
    record_changes(session, lead, actor, task, before, via=via)
    session.flush()
    if task.owner_id != before["owner_id"]:  # (its version is new now: a key for this very reassignment)
        notify(session, "task_assigned", f"{task.id}:{task.version}", task.owner_id, actor, task_id=task.id)
    return task


def delete_task(session: Session, task: Task, actor: User) -> None:
    """Admins remove a task set by mistake. A pending approval's review and an item approvals refer to
    stay (they are part of a decision's record); the deletion is on the lead's timeline."""
    require_staff(actor, action="delete tasks")
    if actor.role != "admin":
        raise Forbidden("Only an admin can delete a task: mark it done instead.")
    _refuse_open_review(
        session,
        task,
        "This review closes when the approval is decided: approve or reject it instead of deleting its task.",
    )
    if session.scalar(sa.select(sa.func.count(Approval.id)).where(Approval.task_id == task.id)):
        raise Forbidden(
            "Approvals of this item's wording are kept as a record, so the item stays: "
            "change its wording to take it off the client's checklist, then mark it done."
        )
    if task.lead_id is not None:
        record_event(
            session,
            session.get(Lead, task.lead_id),
            "fields_changed",
            actor,
            table="tasks",
            row=task.id,
            deleted=True,
            changes=[{"field": "title", "old": task.title, "new": None}],
        )
    session.delete(task)
    session.flush()


def propose_client_task(
    session: Session,
    actor: User,
    *,
    title: str,
    owner_id: int | None,
    due: date | None,
    kind: str = "onboarding",
    notes: str | None = None,
    lead_id: int | None = None,
    client_id: int | None = None,
    project_id: int | None = None,
    via: str | None = None,
) -> Task:
    """A new item for the client's portal checklist: made as a team task and put on the checklist only
    when an approver approves its wording (zarts.domain.publication.on_approval_decided)."""
    if client_id is None and project_id is not None:
        project = session.get(Project, project_id)
        client_id = project.client_id if project is not None else None
    if client_id is None and lead_id is not None:
        lead = session.get(Lead, lead_id)
        client_id = lead.client_id if lead is not None else None
    task = create_task(
        session,
        actor,
        title=title,
        owner_id=owner_id,
        due=due,
        kind=kind,
        notes=notes,
        lead_id=lead_id,
        client_id=client_id,
        project_id=project_id,
        via=via,
    )
    _request_checklist_approval(session, task, actor)
    return task


def request_checklist_approval(session: Session, task: Task, actor: User) -> Approval:
    """Ask an approver to back this task's title as an item of its client's checklist."""
    _require_task_actor(session, task, actor, "propose this task to the client")
    return _request_checklist_approval(session, task, actor)


def _request_checklist_approval(session: Session, task: Task, actor: User) -> Approval:
    if task.client_id is None:
        raise Invalid(
            "Link the task to a client first: a checklist item is on one client's checklist.", "client"
        )
    if task.client_visible:
        raise Invalid("This item is already on the client's checklist.")
    if task.is_done:
        raise Invalid("This task is done: a checklist item is something the client still has to do.")
    if task.kind in SYSTEM_KINDS:
        raise Invalid("A review task is the team's: it is never on a client's checklist.", "kind")
    lead_id = task.lead_id
    if lead_id is None and task.project_id is not None:
        lead_id = session.get(Project, task.project_id).lead_id
    lead = session.get(Lead, lead_id) if lead_id is not None else None
    return request_approval(session, actor, kind="client_text", content=task.title, lead=lead, task=task)


def set_task_done(
    session: Session, task: Task, actor: User, expected_version: int | None, done: bool
) -> Task:
    """Mark a task done (or not done again): the person it is assigned to, the opportunity's owner or
    an admin. Client-owned checklist items are the client's to tick; an approval's review closes with
    the decision."""
    require_staff(actor, action="complete tasks")
    check_version(task, expected_version, "This task")
    if task.client_visible:
        raise Forbidden("This checklist item belongs to the client: they tick it in the portal.")
    _require_task_actor(session, task, actor, "mark it done" if done else "reopen it")
    if done == task.is_done:
        return task
    if done:
        _refuse_open_review(
            session,
            task,
            "This review closes when the approval is decided: approve or reject it in the approvals queue.",
        )
    elif REVIEW_KEY.fullmatch(task.key or ""):
        raise Invalid("A review is not reopened: request the approval again for a new review.")
    task.done_at, task.done_by_id = (utcnow(), actor.id) if done else (None, None)
    if task.lead_id is not None:
        kind = "task_done" if done else "task_reopened"
        record_event(session, session.get(Lead, task.lead_id), kind, actor, task_id=task.id, done=done)
    session.flush()
    return task


def tick_checklist_item(
    session: Session, task: Task, client_user: User, expected_version: int | None, done: bool = True
) -> Task:
    """A client ticks one of their own onboarding items; each tick is an event."""
    if client_user is None or not client_user.is_client:
        raise Forbidden("Only a client contact ticks checklist items.")
    if not task.client_visible or task.client_id != client_user.client_id:
        raise Forbidden("This item is not on your checklist.")
    check_version(task, expected_version, "This checklist item")
    if done == task.is_done:
        raise Invalid("This item is already ticked." if done else "This item is not ticked.")
    task.done_at, task.done_by_id = (utcnow(), client_user.id) if done else (None, None)
    lead_id = task.lead_id
    if lead_id is None and task.project_id is not None:
        lead_id = session.execute(sa.select(Project.lead_id).where(Project.id == task.project_id)).scalar()
    if lead_id is not None:
        record_event(
            session, session.get(Lead, lead_id), "checklist_ticked", client_user, task_id=task.id, done=done
        )
    session.flush()
    return task


# -- rules --------------------------------------------------------------------------------------------


def _require_task_actor(session: Session, task: Task, actor: User | None, action: str) -> None:
    """A task is acted on by the person it is assigned to, its opportunity's owner or an admin."""
    require_staff(actor, action="work on tasks")
    lead = session.get(Lead, task.lead_id) if task.lead_id is not None else None
    lead_owner = lead.owner_id if lead is not None else None
    if actor.role != "admin" and actor.id not in (task.owner_id, lead_owner):
        raise Forbidden(
            f"Only the person this task is assigned to, the owner of its opportunity or an admin "
            f"can {action}."
        )


def _refuse_open_review(session: Session, task: Task, message: str) -> None:
    match = REVIEW_KEY.fullmatch(task.key or "")
    approval = session.get(Approval, int(match.group(1))) if match else None
    if approval is not None and approval.state == "pending":
        raise Invalid(message)


def _withdraw(session: Session, task: Task) -> None:
    """Take an item off the client's checklist: what an approver backed no longer matches it."""
    task.client_visible = False
    for approval in session.scalars(
        sa.select(Approval).where(Approval.task_id == task.id, Approval.state.in_(("pending", "approved")))
    ):
        withdraw(session, approval)


def _links(task: Task) -> tuple:
    return tuple(getattr(task, name) for name in LINKS)


def _apply(
    session: Session,
    task: Task,
    actor: User,
    *,
    title,
    notes,
    kind,
    owner_id,
    due,
    lead_id,
    client_id,
    project_id,
) -> Lead | None:
    """Check and set a task's fields: words, kind, an active staff owner, a due date and links that
    exist and agree (a project's opportunity and client; an opportunity's client). Returns its lead."""
    title = (title or "").strip()
    if not title:
        raise Invalid("Give the task a title.", "title")
    if len(title) > 300:
        raise Invalid("Keep the title under 300 characters.", "title")
    if kind not in TASK_KINDS:
        raise Invalid("Choose the kind of task.", "kind")
    owner = session.get(User, owner_id) if owner_id is not None else None
    if owner is None or not owner.is_staff or not owner.active:
        raise Invalid("Choose an active staff member to own this task.", "owner")
    if due is None:
        raise Invalid("Give the task a due date.", "due")
    lead = _existing(session, Lead, lead_id, "lead", "That opportunity does not exist.")
    client = _existing(session, Client, client_id, "client", "That client does not exist.")
    project = _existing(session, Project, project_id, "project", "That project does not exist.")
    if project is not None:
        if lead is None:
            lead = session.get(Lead, project.lead_id)  # a project's task is on its opportunity's timeline
        if project.lead_id != lead.id:
            raise Invalid("This project belongs to another opportunity.", "project")
        if client is not None and project.client_id != client.id:
            raise Invalid("This project belongs to another client.", "project")
    if lead is not None and client is not None and lead.client_id != client.id:
        raise Invalid("This opportunity is not this client's: choose the client's own opportunity.", "lead")
    if lead is not None and lead.id != task.lead_id:
        require_lead_actor(actor, lead, "growth_ops", "delivery", action="add tasks to this opportunity")
    notes = (notes or "").strip() or None
    task.title, task.notes, task.kind, task.owner_id, task.due = title, notes, kind, owner.id, due
    task.lead_id, task.client_id, task.project_id = (
        row.id if row else None for row in (lead, client, project)
    )
    return lead


def _existing(session: Session, model, row_id: int | None, field: str, message: str):
    if row_id is None:
        return None
    row = session.get(model, row_id)
    if row is None:
        raise Invalid(message, field)
    return row
