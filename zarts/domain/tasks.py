"""Ticking tasks off: staff tasks in the workspace, client-owned checklist items in the portal."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Lead, Project, Task, User, utcnow
from .errors import Forbidden, Invalid
from .trail import check_version, record_event, require_staff


def set_task_done(session: Session, task: Task, actor: User, expected_version: int | None, done: bool) -> Task:
    """Staff mark a task done (or not done again). Client-owned checklist items are the client's to tick."""
    require_staff(actor, action="complete tasks")
    check_version(task, expected_version, "This task")
    if task.client_visible:
        raise Forbidden("This checklist item belongs to the client: they tick it in the portal.")
    if done == task.is_done:
        return task
    task.done_at, task.done_by_id = (utcnow(), actor.id) if done else (None, None)
    if task.lead_id is not None:
        record_event(session, session.get(Lead, task.lead_id), "task_done", actor, task_id=task.id, done=done)
    session.flush()
    return task


def tick_checklist_item(session: Session, task: Task, client_user: User, expected_version: int | None,
                        done: bool = True) -> Task:
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
        record_event(session, session.get(Lead, lead_id), "checklist_ticked", client_user, task_id=task.id,
                     done=done)
    session.flush()
    return task
