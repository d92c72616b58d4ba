"""Reminders: driven by tasks and deadlines, never by memory.

`sweep(session, now)` sends each owner one reminder per due window: a task due today, a task
overdue (once per ISO week while it stays open), a decision deadline coming up, a proposal sent and
not viewed, or not decided, after the configured number of days. Each reminder is a Message with a
unique key (emailed by a job when SMTP is configured), so two sweeps at once or a sweep after a long
outage still send it exactly once. Paused leads and leads without granted consent get none, and the
tasks of such leads are not reminded either. Lost leads whose reactivation date has come are
reactivated, and their owner gets a win-back task.

Candidates are read in keyset pages of plain columns; `checkpoint()` runs after each batch sent
(the job commits there), so memory stays flat over millions of tasks. A task once reminded carries
the day its next reminder is due (`Task.remind_on`) and a proposal when it was reminded
(`not_viewed_reminder_at`, `not_decided_reminder_at`), so a sweep reads only what it has to send.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from ..models import Lead, Message, Outbox, Proposal, Task, User, utcnow
from . import pipeline
from .cadence import attempt_once
from .messaging import render_message
from .notifications import notify
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
    task_id: int | None = None  # a task's reminder: the day of its next one is written back on the task
    next_day: date | None = None
    proposal_id: int | None = None  # a proposal's reminder: written back on the proposal as sent


def _contactable():
    """The lead may be followed up: not paused and consent granted."""
    return sa.and_(Lead.paused_at.is_(None), Lead.consent == "granted")


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


SCAN_PAGES = (
    10  # candidates are read REMINDER_BATCH x this at a time; reminders are sent REMINDER_BATCH at a time
)


def sweep(
    session: Session,
    now: datetime,
    *,
    batch_size: int | None = None,
    checkpoint: Callable[[], None] | None = None,
) -> Counter:
    """Send every reminder due at `now` that was not sent yet; reactivate leads whose date has come.

    Tasks are read from the index of their next reminder day, sent proposals from the indexes of
    the versions still owed a reminder, so a sweep reads what it has to send (and the few of
    paused or unconsented leads). They are sent `batch` at a time. `already_sent` counts candidates
    whose reminder a sweep before (or one running at the same time) had sent.
    """
    cfg = current_app.config
    batch = batch_size or cfg.get("REMINDER_BATCH", 500)
    scan = batch * SCAN_PAGES
    counts: Counter = Counter()
    day = now.date()
    for pages in (
        _task_reminders(session, day, scan),
        _deadline_reminders(session, day, scan, cfg["REMINDER_DEADLINE_DAYS"]),
        _proposal_reminders(session, now, scan, "not_viewed", cfg["REMINDER_NOT_VIEWED_DAYS"]),
        _proposal_reminders(session, now, scan, "not_decided", cfg["REMINDER_NOT_DECIDED_DAYS"]),
    ):
        for already_sent, reminders in pages:
            counts["already_sent"] += already_sent
            for start in range(0, max(len(reminders), 1), batch):
                _deliver(session, reminders[start : start + batch], counts)
                if checkpoint is not None:
                    checkpoint()
    for ids in _winbacks_due(session, day, batch):
        for lead_id in ids:
            counts["reactivated"] += _reactivate(session, lead_id, day)
        if checkpoint is not None:
            checkpoint()
    return counts


def _winbacks_due(session: Session, day: date, batch: int):
    """Ids of lost leads whose win-back date has come, `batch` at a time, in the order of
    ix_leads_winback_due (reactivation date, id): a read of what is due, whatever the statistics."""
    last = None
    while True:
        query = sa.select(Lead.id, Lead.reactivation_date).where(
            Lead.stage == "lost", Lead.reactivation_never.is_(False), Lead.reactivation_date <= day
        )
        if last is not None:
            query = query.where(sa.tuple_(Lead.reactivation_date, Lead.id) > last)
        rows = session.execute(query.order_by(Lead.reactivation_date, Lead.id).limit(batch)).all()
        if not rows:
            return
        last = (rows[-1].reactivation_date, rows[-1].id)
        yield [r.id for r in rows]


def _keyset(session: Session, query, id_column, batch: int):
    """Yield lists of rows of `query` in id order, `batch` at a time (the first column is the id)."""
    last = 0
    while True:
        rows = session.execute(query.where(id_column > last).order_by(id_column).limit(batch)).all()
        if not rows:
            return
        last = rows[-1][0]
        yield rows if len(rows[0]) > 1 else [r[0] for r in rows]


def next_reminder_day(due: date, day: date) -> date:
    """After reminding a task due on `due` on `day`: the day its next window starts. The due-day
    reminder is followed by the first overdue one the next day; an overdue task is reminded once
    per ISO week, so its next reminder is due the Monday after."""
    if due >= day:
        return day + timedelta(days=1)
    return day + timedelta(days=7 - day.weekday())


def _task_reminders(session: Session, day: date, scan: int):
    """Open tasks whose next reminder is due (`Task.remind_day()` on or before `day`), in keyset
    pages on (remind day, id) read from ix_tasks_open_remind. A task reminded is moved on to its
    next window (`remind_on`); one of a lead that may not be contacted now (paused, consent not
    granted) is looked at again tomorrow, or as soon as the lead may be (models.pipeline resets it).
    So a sweep reads only what it has to send, however many tasks are overdue."""
    week = iso_week(day)
    remind_day = Task.remind_day()
    contactable = sa.or_(Task.lead_id.is_(None), _contactable())
    last = None
    while True:
        query = (
            sa.select(Task.id, remind_day.label("remind_day"), contactable.label("contactable"))
            .outerjoin(Lead, Lead.id == Task.lead_id)
            .where(Task.done_at.is_(None), remind_day <= day)
        )
        if last is not None:
            query = query.where(sa.tuple_(remind_day, Task.id) > last)
        page = session.execute(query.order_by(remind_day, Task.id).limit(scan)).all()
        if not page:
            return
        last = (page[-1].remind_day, page[-1].id)
        later = [r.id for r in page if not r.contactable]
        if later:
            _put_off(session, later, day + timedelta(days=1))
        todo = [r.id for r in page if r.contactable]
        rows = (
            session.execute(
                sa.select(
                    Task.id, Task.title, Task.due, Task.owner_id, Task.lead_id, Task.project_id, Lead.company
                )
                .outerjoin(Lead, Lead.id == Task.lead_id)
                .where(Task.id.in_(todo))
                .order_by(Task.due, Task.id)
            ).all()
            if todo
            else []
        )
        yield (
            0,
            [
                Reminder(
                    kind="task_due" if r.due == day else "task_overdue",
                    key=f"reminder:task:{r.id}:{r.due}"
                    if r.due == day
                    else f"reminder:task:{r.id}:overdue:{week}",
                    owner_id=r.owner_id,
                    title=r.title,
                    lead_id=r.lead_id,
                    project_id=r.project_id,
                    company=r.company,
                    due=r.due,
                    days=(day - r.due).days,
                    task_id=r.id,
                    next_day=next_reminder_day(r.due, day),
                )
                for r in rows
            ],
        )


def _put_off(session: Session, task_ids: list[int], until: date) -> None:
    """Tasks of leads that may not be contacted now: not looked at again before `until`."""
    for start in range(0, len(task_ids), 1000):
        _remind_from(session, task_ids[start : start + 1000], until)


def _remind_from(session: Session, task_ids: list[int], day: date) -> None:
    """Set the tasks' `remind_on` to `day` with a plain UPDATE (version and updated_at left alone),
    except for a task whose due date is `day` or later: its due date was changed meanwhile (which
    unset remind_on) and it is reminded for that date."""
    tasks = Task.__table__
    session.execute(
        tasks.update()
        .where(tasks.c.id.in_(task_ids), tasks.c.due < day)
        .values(remind_on=day, updated_at=tasks.c.updated_at)
    )


def _deadline_reminders(session: Session, day: date, scan: int, within_days: int):
    """Contract-stage leads whose decision deadline is near (few: each is checked when delivered)."""
    query = sa.select(Lead.id, Lead.company, Lead.title, Lead.decision_deadline, Lead.owner_id).where(
        Lead.stage == "contract",
        Lead.owner_id.is_not(None),
        Lead.decision_deadline >= day,
        Lead.decision_deadline <= day + timedelta(days=within_days),
        _contactable(),
    )
    for rows in _keyset(session, query, Lead.id, scan):
        yield (
            0,
            [
                Reminder(
                    kind="decision_deadline",
                    key=f"reminder:deadline:{r.id}:{r.decision_deadline}",
                    owner_id=r.owner_id,
                    title=r.title,
                    lead_id=r.id,
                    company=r.company,
                    due=r.decision_deadline,
                    days=(r.decision_deadline - day).days,
                )
                for r in rows
            ],
        )


REMINDED_AT = {"not_viewed": "not_viewed_reminder_at", "not_decided": "not_decided_reminder_at"}


def _proposal_reminders(session: Session, now: datetime, scan: int, kind: str, after_days: int):
    """Sent versions not viewed / not decided after their days, not reminded yet: read from the
    partial index of the versions still owed that reminder (ix_proposals_<kind>_owed)."""
    where = [
        Proposal.status == "sent",
        getattr(Proposal, REMINDED_AT[kind]).is_(None),
        Proposal.sent_at <= now - timedelta(days=after_days),
        Lead.owner_id.is_not(None),
        _contactable(),
    ]
    if kind == "not_viewed":
        where.append(Proposal.viewed_at.is_(None))
    query = (
        sa.select(
            Proposal.id,
            Proposal.title,
            Proposal.number,
            Proposal.sent_at,
            Lead.id.label("lead_id"),
            Lead.company,
            Lead.owner_id,
        )
        .join(Lead, Lead.id == Proposal.lead_id)
        .where(*where)
    )
    for rows in _keyset(session, query, Proposal.id, scan):
        yield (
            0,
            [
                Reminder(
                    kind=kind,
                    key=f"reminder:{kind}:{r.id}",
                    owner_id=r.owner_id,
                    title=f"{r.title} (version {r.number})",
                    lead_id=r.lead_id,
                    company=r.company,
                    due=r.sent_at.date(),
                    days=(now - r.sent_at).days,
                    proposal_id=r.id,
                )
                for r in rows
            ],
        )


def _deliver(session: Session, reminders: list[Reminder], counts: Counter) -> None:
    """Record (and queue the email of) each reminder not sent yet, a batch at a time: one query for
    the keys already sent, one for the owners, one INSERT ... ON CONFLICT (key) DO NOTHING for the
    new messages (a key another sweep took meanwhile is skipped: exactly once) and, with SMTP, one
    for their deliver_email jobs. Plain rows: nothing stays in the session."""
    if not reminders:
        return
    sent = set(session.scalars(sa.select(Message.key).where(Message.key.in_([r.key for r in reminders]))))
    todo = [r for r in reminders if r.key not in sent]
    counts["already_sent"] += len(reminders) - len(todo)
    _mark_reminded(session, [r for r in reminders if r.key in sent])
    owners = {
        u.id: u for u in session.scalars(sa.select(User).where(User.id.in_({r.owner_id for r in todo})))
    }
    email = bool(current_app.config.get("SMTP_URL"))
    now = utcnow()
    rows, kinds = [], {}
    for r in todo:
        owner = owners.get(r.owner_id)
        if owner is None or not owner.active:
            counts["no_active_owner"] += 1
            continue
        subject, body = render_message("reminder", owner=owner, r=r)
        rows.append(
            {
                "subject": subject[:300],
                "body": body,
                "channel": "email",
                "direction": "internal",
                "lead_id": r.lead_id,
                "client_id": None,
                "project_id": r.project_id,
                "to_email": owner.email,
                "client_visible": False,
                "author_id": None,
                "key": r.key,
                "sent_at": now,
                "read_at": None,
                "email_status": "pending" if email else "none",
                "created_at": now,
                "updated_at": now,
            }
        )
        kinds[r.key] = r.kind
    if not rows:
        return
    made = session.execute(
        _insert_new(session, Message, "key").returning(Message.id, Message.key), rows
    ).all()
    for _, key in made:
        counts[kinds[key]] += 1
    counts["lost_race"] += len(rows) - len(made)
    _mark_reminded(session, [r for r in todo if r.key in kinds])  # sent now, or by a sweep that won the race
    if email and made:
        jobs = [
            {
                "job": "deliver_email",
                "key": f"email:{message_id}",
                "payload": {"message_id": message_id},
                "status": "pending",
                "attempts": 0,
                "available_at": now,
                "created_at": now,
            }
            for message_id, _ in made
        ]
        session.execute(_insert_new(session, Outbox, "key"), jobs)
        session.info.setdefault("outbox_keys", []).extend(job["key"] for job in jobs)


def _mark_reminded(session: Session, reminders: list[Reminder]) -> None:
    """Write back what the next sweeps need to skip these (their reminder exists): a task's
    `remind_on` moves to the day its next window starts, a proposal's `<kind>_reminder_at` is set.
    Plain UPDATEs, leaving version and updated_at alone."""
    by_day: dict[date, list[int]] = {}
    by_kind: dict[str, list[int]] = {}
    for r in reminders:
        if r.task_id is not None:
            by_day.setdefault(r.next_day, []).append(r.task_id)
        elif r.proposal_id is not None and r.kind in REMINDED_AT:
            by_kind.setdefault(r.kind, []).append(r.proposal_id)
    for next_day, ids in by_day.items():
        _remind_from(session, ids, next_day)
    proposals, now = Proposal.__table__, utcnow()
    for kind, ids in by_kind.items():
        column = proposals.c[REMINDED_AT[kind]]
        session.execute(
            proposals.update()
            .where(proposals.c.id.in_(ids), column.is_(None))
            .values({column: now, proposals.c.updated_at: proposals.c.updated_at})
        )


def _insert_new(session: Session, model, unique: str):
    """An INSERT (executed with a list of rows: one round trip per page of rows) that skips a row
    whose `unique` value exists, on PostgreSQL and SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model).on_conflict_do_nothing(index_elements=[unique])


def _reactivate(session: Session, lead_id: int, day: date) -> int:
    """Bring a lost lead back to qualified on its reactivation date; its owner gets a win-back task."""

    def go():
        lead = session.get(Lead, lead_id)
        if lead is None or lead.stage != "lost" or lead.reactivation_date is None:
            return None
        window, reason = lead.reactivation_date, lead.lost_reason
        pipeline.reactivate(
            session,
            lead,
            None,
            lead.version,
            next_action=f"Win-back: re-qualify {lead.company}",
            next_action_due=day,
        )
        promised = session.execute(
            sa.select(Task.owner_id)
            .where(  # mark_lost already dated a win-back task
                Task.lead_id == lead.id, Task.kind == "reactivation", Task.due == window
            )
            .limit(1)
        ).first()
        if promised is not None:
            notify(session, "reactivation_due", f"{lead.id}:{window}", promised.owner_id, lead_id=lead.id)
            return lead
        owner_id = (
            lead.owner_id
            or session.execute(
                sa.select(User.id)
                .where(User.role == "admin", User.active.is_(True))
                .order_by(User.id)
                .limit(1)
            ).scalar_one_or_none()
        )
        if owner_id is not None:
            note = (
                None
                if lead.consent == "granted"
                else "Consent to contact is not granted: confirm it before any outreach."
            )
            ensure_task(
                session,
                key=f"lead:{lead.id}:winback:{window}",
                kind="reactivation",
                title=f"Win-back: re-qualify {lead.company} (lost: {(reason or 'other').replace('_', ' ')})",
                owner_id=owner_id,
                due=day,
                lead_id=lead.id,
                notes=note,
            )
            notify(session, "reactivation_due", f"{lead.id}:{window}", owner_id, lead_id=lead.id)
        return lead

    return 1 if attempt_once(session, go) is not None else 0


# ---------------------------------------------------------------- keeping remind_on true


@sa.event.listens_for(Session, "after_flush")
def _contactable_again(session, flush_context):
    """A lead resumed or given consent to contact: the reminders of its open tasks are due again at
    once (the reminder sweep puts them off a day at a time while the lead may not be contacted).
    A reminder already sent is not sent again: its message key exists."""
    ids = []
    for obj in session.dirty:
        if isinstance(obj, Lead) and obj.id is not None:
            attrs = sa.inspect(obj).attrs
            resumed = attrs.paused_at.history.deleted and obj.paused_at is None
            consented = attrs.consent.history.added and obj.consent == "granted"
            if resumed or consented:
                ids.append(obj.id)
    if ids:
        tasks = Task.__table__
        session.connection().execute(  # Core on the flush's connection: no second flush
            tasks.update()
            .where(tasks.c.lead_id.in_(ids), tasks.c.done_at.is_(None), tasks.c.remind_on.is_not(None))
            .values(remind_on=None, updated_at=tasks.c.updated_at)
        )


@sa.event.listens_for(Task.due, "set")
def _new_due_date_new_reminders(task, value, old, initiator):
    """A task moved to another day is reminded from that day, whatever was sent before."""
    if value != old:
        task.remind_on = None
