"""Report cadence: a draft client report per period (weekly or monthly) for every onboarding or active
client, with a task for its owner to complete, approve and publish it; and the notice that tells a
client a report was published. (The weekly pipeline report is zarts.domain.weekly.)"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..models import Client, Message, Project, Report, Task, User, today, utcnow
from .errors import Invalid
from .messaging import log_message, render_message
from .trail import ensure_task

REPORTING_STATUSES = ("onboarding", "active")


def attempt_once(session: Session, make: Callable[[], object]):
    """Run `make` (which adds rows under unique keys) so that losing a race to a concurrent run
    skips just this record: on PostgreSQL inside a savepoint; SQLite has a single writer."""
    if session.get_bind().dialect.name != "postgresql":
        result = make()
        session.flush()
        return result
    try:
        with session.begin_nested():
            result = make()
            session.flush()
        return result
    except (IntegrityError, StaleDataError):
        return None


def period_for(cadence: str, day: date) -> tuple[date, date]:
    """The reporting period containing `day`: its ISO week (Monday-Sunday) or its calendar month."""
    if cadence == "weekly":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    start = day.replace(day=1)
    return start, day.replace(day=calendar.monthrange(day.year, day.month)[1])


def period_label(cadence: str, start: date) -> str:
    if cadence == "weekly":
        return f"week of {start:%d %B %Y}"
    return f"{start:%B %Y}"


def _fallback_owner(session: Session) -> int | None:
    return session.execute(
        sa.select(User.id).where(User.role == "admin", User.active.is_(True)).order_by(User.id).limit(1)
    ).scalar_one_or_none()


def ensure_client_report(
    session: Session,
    client: Client,
    start: date,
    end: date,
    *,
    owner_id: int | None,
    project_id: int | None = None,
    lead_id: int | None = None,
    client_is_new: bool = False,
    pending_tasks: list[dict] | None = None,
) -> Report:
    """The client's draft report for the period starting `start` (key report:<client>:<start>), made
    once, with a task for its owner to complete, approve and publish it.

    `client_is_new`: the client was made in this transaction, so it has no report to look up.
    `pending_tasks`: the task is appended there (as `ensure_task` arguments) for the caller to
    ensure with its other tasks, instead of being ensured here."""
    key = f"report:{client.id}:{start.isoformat()}"
    if not client_is_new:
        report = session.execute(sa.select(Report).where(Report.key == key)).scalar_one_or_none()
        if report is not None:
            return report
    owner_id = owner_id or _fallback_owner(session)
    label = period_label(client.report_cadence, start)
    report = Report(
        kind="client_report",
        key=key,
        title=f"{client.name}: {label}"[:200],
        client_id=client.id,
        project_id=project_id,
        lead_id=lead_id,
        owner_id=owner_id,
        cadence=client.report_cadence,
        period_start=start,
        period_end=end,
        status="draft",
        figures={},
    )
    session.add(report)
    if owner_id is not None:
        task = {
            "key": prepare_task_key(key),
            "kind": "report",
            "title": f"Complete, approve and publish the {label} report for {client.name}"[:300],
            "owner_id": owner_id,
            "due": max(end, today()),
            "project_id": project_id,
            "lead_id": lead_id,
        }
        if pending_tasks is not None:
            pending_tasks.append(task)
        else:
            ensure_task(session, **task)
    session.flush()
    return report


def prepare_task_key(report_key: str) -> str:
    """The key of the task to complete, approve and publish the report keyed `report_key`."""
    return f"{report_key}:prepare"


def close_prepare_task(session: Session, report: Report, actor: User) -> Task | None:
    """Publishing a cadence report is what its "complete, approve and publish" task asked for: the
    task is done (by whoever published), so it neither stays open in My tasks nor counts as overdue."""
    if report.key is None:
        return None
    task = session.execute(
        sa.select(Task).where(Task.key == prepare_task_key(report.key), Task.done_at.is_(None))
    ).scalar_one_or_none()
    if task is not None:
        task.done_at, task.done_by_id = utcnow(), actor.id
    return task


def report_overdue(day: date):
    """SQL condition: a client report that is not published although its period ended before `day`,
    or whose open "approve and publish" task was due before `day` (the cadence has fallen behind)."""
    task_late = sa.exists().where(Task.key == Report.key + ":prepare", Task.done_at.is_(None), Task.due < day)
    return sa.and_(
        Report.kind == "client_report",
        Report.status != "published",
        sa.or_(Report.period_end < day, task_late),
    )


def prepare_reports(
    session: Session, day: date, *, batch_size: int = 200, checkpoint: Callable[[], None] | None = None
) -> int:
    """Every onboarding or active client gets its draft report for the period containing `day`, from
    the period its first kickoff falls in. Clients are read in keyset batches. Returns how many were new."""
    made, last_id = 0, 0
    while True:
        clients = session.scalars(
            sa.select(Client)
            .where(Client.status.in_(REPORTING_STATUSES), Client.id > last_id)
            .order_by(Client.id)
            .limit(batch_size)
        ).all()
        if not clients:
            return made
        last_id = clients[-1].id
        firsts = {
            cid: (kickoff, pid)
            for cid, kickoff, pid in session.execute(
                sa.select(Project.client_id, sa.func.min(Project.kickoff_date), sa.func.min(Project.id))
                .where(Project.client_id.in_([c.id for c in clients]))
                .group_by(Project.client_id)
            )
        }
        for client in clients:
            start, end = period_for(client.report_cadence, day)
            kickoff, project_id = firsts.get(client.id, (None, None))
            if kickoff is not None and kickoff > end:
                continue  # reporting starts with the period of the kickoff
            key = f"report:{client.id}:{start.isoformat()}"
            if session.execute(sa.select(Report.id).where(Report.key == key)).first():
                continue
            owner_id = client.owner_id or _project_owner(session, project_id)
            if (
                attempt_once(
                    session,
                    lambda c=client, s=start, e=end, o=owner_id, p=project_id: ensure_client_report(
                        session, c, s, e, owner_id=o, project_id=p
                    ),
                )
                is not None
            ):
                made += 1
        if checkpoint is not None:
            checkpoint()


def _project_owner(session: Session, project_id: int | None) -> int | None:
    if project_id is None:
        return None
    return session.scalar(sa.select(Project.onboarding_owner_id).where(Project.id == project_id))


def send_report_notice(session: Session, report: Report) -> list[Message]:
    """Tell each client contact that a report was published in their portal (once per contact)."""
    if report.kind != "client_report" or report.status != "published":
        raise Invalid("Only a published client report is announced to the client.")
    client = session.get(Client, report.client_id)
    out = []
    for user in session.scalars(
        sa.select(User)
        .where(User.client_id == client.id, User.role == "client", User.active.is_(True))
        .order_by(User.id)
    ):
        subject, body = render_message("report_notice", user=user, client=client, report=report)
        out.append(
            log_message(
                session,
                subject=subject,
                body=body,
                client_id=client.id,
                to_email=user.email,
                client_visible=True,
                lead_id=report.lead_id,
                project_id=report.project_id,
                key=f"report:{report.id}:notice:{user.id}",
            )
        )
    return out
