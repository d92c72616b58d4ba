"""Reminders: driven by tasks and deadlines, never by memory.

`sweep(session, now)` sends each owner one reminder per due window: a task due today, a task
overdue (once per ISO week while it stays open), a decision deadline coming up, a proposal sent and
not viewed, or not decided, after the configured number of days. Each reminder is a Message with a
unique key (emailed by a job when SMTP is configured), so two sweeps at once or a sweep after a long
outage still send it exactly once. Paused leads and leads without granted consent get none, and the
tasks of such leads are not reminded either. Lost leads whose reactivation date has come are
reactivated, and their owner gets a win-back task.

Rows are read in keyset batches of plain columns; `checkpoint()` runs after each batch (the job
commits there), so memory stays flat over millions of tasks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from ..models import Lead, Message, Proposal, Task, User
from . import pipeline
from .cadence import attempt_once
from .messaging import log_message, render_message
from .trail import ensure_task


@dataclass(frozen=True)
class Reminder:
    """What one reminder is about; the template renders it (no internal notes travel with it)."""

    kind: str  # task_due, task_overdue, decision_deadline, not_viewed, not_decided
    key: str
    owner_id: int
    title: str
    lead_id: int | None = None
    project_id: int | None = None
    company: str | None = None
    due: date | None = None
    days: int | None = None


def _contactable():
    """The lead may be followed up: not paused and consent granted."""
    return sa.and_(Lead.paused_at.is_(None), Lead.consent == "granted")


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def sweep(session: Session, now: datetime, *, batch_size: int | None = None,
          checkpoint: Callable[[], None] | None = None) -> Counter:
    """Send every reminder due at `now` that was not sent yet; reactivate leads whose date has come."""
    cfg = current_app.config
    batch = batch_size or cfg.get("REMINDER_BATCH", 500)
    counts: Counter = Counter()
    day = now.date()
    for batch_of in (_task_reminders(session, day, batch),
                     _deadline_reminders(session, day, batch, cfg["REMINDER_DEADLINE_DAYS"]),
                     _proposal_reminders(session, now, batch, "not_viewed", cfg["REMINDER_NOT_VIEWED_DAYS"]),
                     _proposal_reminders(session, now, batch, "not_decided", cfg["REMINDER_NOT_DECIDED_DAYS"])):
        for reminders in batch_of:
            _deliver(session, reminders, counts)
            if checkpoint is not None:
                checkpoint()
    for ids in _keyset(session, sa.select(Lead.id).where(Lead.stage == "lost", Lead.reactivation_never.is_(False),
                                                         Lead.reactivation_date <= day), Lead.id, batch):
        for lead_id in ids:
            counts["reactivated"] += _reactivate(session, lead_id, day)
        if checkpoint is not None:
            checkpoint()
    return counts


def _keyset(session: Session, query, id_column, batch: int):
    """Yield lists of rows of `query` in id order, `batch` at a time (the first column is the id)."""
    last = 0
    while True:
        rows = session.execute(query.where(id_column > last).order_by(id_column).limit(batch)).all()
        if not rows:
            return
        last = rows[-1][0]
        yield rows if len(rows[0]) > 1 else [r[0] for r in rows]


def _task_reminders(session: Session, day: date, batch: int):
    query = (sa.select(Task.id, Task.title, Task.due, Task.owner_id, Task.lead_id, Task.project_id, Lead.company)
             .outerjoin(Lead, Lead.id == Task.lead_id)
             .where(Task.done_at.is_(None), Task.due <= day, sa.or_(Task.lead_id.is_(None), _contactable())))
    week = iso_week(day)
    for rows in _keyset(session, query, Task.id, batch):
        yield [Reminder(kind="task_due" if r.due == day else "task_overdue",
                        key=f"reminder:task:{r.id}:{r.due}" if r.due == day else f"reminder:task:{r.id}:overdue:{week}",
                        owner_id=r.owner_id, title=r.title, lead_id=r.lead_id, project_id=r.project_id,
                        company=r.company, due=r.due, days=(day - r.due).days) for r in rows]


def _deadline_reminders(session: Session, day: date, batch: int, within_days: int):
    query = (sa.select(Lead.id, Lead.company, Lead.title, Lead.decision_deadline, Lead.owner_id)
             .where(Lead.stage == "contract", Lead.owner_id.is_not(None), Lead.decision_deadline >= day,
                    Lead.decision_deadline <= day + timedelta(days=within_days), _contactable()))
    for rows in _keyset(session, query, Lead.id, batch):
        yield [Reminder(kind="decision_deadline", key=f"reminder:deadline:{r.id}:{r.decision_deadline}",
                        owner_id=r.owner_id, title=r.title, lead_id=r.id, company=r.company,
                        due=r.decision_deadline, days=(r.decision_deadline - day).days) for r in rows]


def _proposal_reminders(session: Session, now: datetime, batch: int, kind: str, after_days: int):
    query = (sa.select(Proposal.id, Proposal.title, Proposal.number, Proposal.sent_at, Lead.id.label("lead_id"),
                       Lead.company, Lead.owner_id)
             .join(Lead, Lead.id == Proposal.lead_id)
             .where(Proposal.status == "sent", Proposal.sent_at <= now - timedelta(days=after_days),
                    Lead.owner_id.is_not(None), _contactable()))
    if kind == "not_viewed":
        query = query.where(Proposal.viewed_at.is_(None))
    for rows in _keyset(session, query, Proposal.id, batch):
        yield [Reminder(kind=kind, key=f"reminder:{kind}:{r.id}", owner_id=r.owner_id,
                        title=f"{r.title} (version {r.number})", lead_id=r.lead_id, company=r.company,
                        due=r.sent_at.date(), days=(now - r.sent_at).days) for r in rows]


def _deliver(session: Session, reminders: list[Reminder], counts: Counter) -> None:
    """Record (and queue the email of) each reminder not sent yet: one query for the keys already
    sent, one for the owners, then one message per new reminder."""
    if not reminders:
        return
    sent = set(session.scalars(sa.select(Message.key).where(Message.key.in_([r.key for r in reminders]))))
    todo = [r for r in reminders if r.key not in sent]
    counts["already_sent"] += len(reminders) - len(todo)
    owners = {u.id: u for u in session.scalars(sa.select(User).where(User.id.in_({r.owner_id for r in todo})))}
    for r in todo:
        owner = owners.get(r.owner_id)
        if owner is None or not owner.active:
            counts["no_active_owner"] += 1
            continue
        subject, body = render_message("reminder", owner=owner, r=r)
        made = attempt_once(session, lambda r=r, owner=owner, subject=subject, body=body: log_message(
            session, subject=subject, body=body, direction="internal", lead_id=r.lead_id, project_id=r.project_id,
            to_email=owner.email, key=r.key))
        counts[r.kind if made is not None else "lost_race"] += 1


def _reactivate(session: Session, lead_id: int, day: date) -> int:
    """Bring a lost lead back to qualified on its reactivation date; its owner gets a win-back task."""

    def go():
        lead = session.get(Lead, lead_id)
        if lead is None or lead.stage != "lost" or lead.reactivation_date is None:
            return None
        window, reason = lead.reactivation_date, lead.lost_reason
        pipeline.reactivate(session, lead, None, lead.version, next_action=f"Win-back: re-qualify {lead.company}",
                            next_action_due=day)
        promised = session.execute(sa.select(Task.id).where(  # mark_lost already dated a win-back task
            Task.lead_id == lead.id, Task.kind == "reactivation", Task.due == window).limit(1)).first()
        if promised is not None:
            return lead
        owner_id = lead.owner_id or session.execute(
            sa.select(User.id).where(User.role == "admin", User.active.is_(True)).order_by(User.id).limit(1)
        ).scalar_one_or_none()
        if owner_id is not None:
            note = None if lead.consent == "granted" else \
                "Consent to contact is not granted: confirm it before any outreach."
            ensure_task(session, key=f"lead:{lead.id}:winback:{window}", kind="reactivation",
                        title=f"Win-back: re-qualify {lead.company} (lost: {(reason or 'other').replace('_', ' ')})",
                        owner_id=owner_id, due=day, lead_id=lead.id, notes=note)
        return lead

    return 1 if attempt_once(session, go) is not None else 0
