"""RQ job functions. Thin: open the app context, call the domain with a fresh session, commit.

`run_outbox(outbox_id)` runs one outbox row (the relay enqueues it, or calls `execute` inline);
`run_sweep(name)` runs one periodic sweep. Both are safe to run twice: the domain ensures each
record once by its unique key, and a row already done is skipped.
"""

from __future__ import annotations

import logging
import os
import traceback
from contextlib import contextmanager, nullcontext
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from ..domain.errors import DomainError
from ..extensions import db
from ..models import Message, Outbox, utcnow
from .errors import Permanent
from .faults import _fault_spec, fault  # noqa: F401  (fault: the hook the jobs call)

log = logging.getLogger("zarts.jobs")

_bound_app = None
_engine_pid: int | None = None


def bind_app(app) -> None:
    """The app jobs run in when no app context is active (the `zarts worker` process)."""
    global _bound_app, _engine_pid
    _bound_app = app
    _engine_pid = os.getpid()


def _app():
    if has_app_context():
        return current_app._get_current_object()
    if _bound_app is None:
        from .. import create_app

        bind_app(create_app())
    return _bound_app


@contextmanager
def job_context():
    """The app context for one job; a forked work-horse never reuses its parent's DB connections."""
    global _engine_pid
    app = _app()
    with nullcontext() if has_app_context() else app.app_context():
        if _engine_pid is not None and _engine_pid != os.getpid():
            db.engine.dispose(close=False)
        _engine_pid = os.getpid()
        yield app


def new_session(**options) -> Session:
    """A session of its own: jobs never share (or run inside the commit of) the request's session."""
    return Session(bind=db.engine, **options)


# --- outbox jobs ---------------------------------------------------------------------------------


def _handoff(session: Session, payload: dict) -> str:
    from ..domain.handoff import run_handoff

    # One transaction: execute() commits the handoff together with its outbox row marked done.
    result = run_handoff(
        session,
        int(payload["lead_id"]),
        checkpoint=(lambda step: fault("handoff", step)) if _fault_spec() else None,
    )
    if result == "done":  # its tasks are the onboarding owner's: the bell tells them (zarts.jobs.notify)
        from ..domain.trail import enqueue

        enqueue(
            session,
            "notify",
            f"notify:handoff:{payload['lead_id']}",
            kind="task_assigned",
            cause="handoff",
            lead_id=int(payload["lead_id"]),
        )
    return f"handoff of lead {payload['lead_id']}: {result}"


def _deliver_email(session: Session, payload: dict) -> str:
    from .mail import deliver

    return deliver(session, int(payload["message_id"]))


def _email_failed(session: Session, payload: dict) -> None:
    msg = session.get(Message, int(payload.get("message_id", 0)))
    if msg is not None and msg.email_status != "sent":
        msg.email_status = "failed"


def _notify(session: Session, payload: dict) -> str:
    from .notify import notify

    return notify(session, payload)


def _webhook(session: Session, payload: dict) -> str:
    from .webhook import deliver

    return deliver(session, payload)


HANDLERS = {"handoff": _handoff, "deliver_email": _deliver_email, "notify": _notify}
HANDLERS["webhook"] = _webhook


def _import(session: Session, payload: dict) -> str:
    """A confirmed spreadsheet import (zarts.domain.imports); commits per batch, resumes when re-run."""
    from ..domain.imports import run_import
    from .notify import _path

    import_id = int(payload["import_id"])
    return run_import(
        session,
        import_id,
        folder=current_app.config["IMPORT_FOLDER"],
        link=_path("workspace.import_page", import_id=import_id),
    )


HANDLERS["import"] = _import
# What a job leaves behind when it finally gives up.
ON_FINAL_FAILURE = {"deliver_email": _email_failed}


def run_outbox(outbox_id: int) -> str:
    """The RQ entry point for an outbox row."""
    with job_context():
        return execute(outbox_id, inline=False)


def execute(outbox_id: int, *, inline: bool) -> str:
    """Run one outbox row: count the attempt, call its handler, mark the row done (or record why not).

    Inline (no Redis) failures are recorded and the row is retried later with backoff; under RQ the
    exception is re-raised so RQ's Retry reschedules it and, at the end, files it as failed.
    """
    # Nothing is read from the session's objects after a commit here, so the commit need not expire
    # them (a handoff holds a few hundred).
    session = new_session(expire_on_commit=False)
    attempts, job, payload = 0, None, {}
    try:
        # The attempt is counted (and committed) before the handler runs, so a job that kills its
        # worker still uses up its attempts; its first heartbeat tells the relay a run is in progress
        # (zarts.jobs.relay.redrive). One statement: the row is not loaded as an object.
        claimed = session.execute(
            sa.update(Outbox)
            .where(Outbox.id == outbox_id, Outbox.status != "done")
            .values(attempts=Outbox.attempts + 1, heartbeat_at=utcnow())
            .returning(Outbox.attempts, Outbox.job, Outbox.payload),
            execution_options={"synchronize_session": False},
        ).first()
        if claimed is None:
            return "already done" if session.get(Outbox, outbox_id) is not None else "missing"
        attempts, job, payload = claimed.attempts, claimed.job, dict(claimed.payload or {})
        session.commit()
        handler = HANDLERS.get(job)
        if handler is None:
            raise Permanent(f"unknown job {job!r}")
        result = handler(session, payload)
        # Done in the handler's transaction: the handoff and its outbox row commit together.
        session.execute(
            sa.update(Outbox).where(Outbox.id == outbox_id).values(status="done", done_at=utcnow()),
            execution_options={"synchronize_session": False},
        )
        session.commit()
        return result or "done"
    except (DomainError, Permanent) as exc:
        session.rollback()
        _record_failure(session, outbox_id, job, payload, str(exc), attempts, final=True, inline=inline)
        return f"refused: {exc}"
    except Exception as exc:
        session.rollback()
        final = _final_attempt(attempts, inline)
        _record_failure(
            session, outbox_id, job, payload, _describe(exc), attempts, final=final, inline=inline
        )
        if inline:
            log.exception("job %s (outbox %s) failed", job, outbox_id)
            return "failed"
        raise
    finally:
        session.close()


def _final_attempt(attempts: int, inline: bool) -> bool:
    if inline:
        return attempts > len(current_app.config["JOBS_RETRY_INTERVALS"])
    from rq import get_current_job

    job = get_current_job()
    return job is None or not job.retries_left


def _backoff(attempts: int) -> int:
    intervals = current_app.config["JOBS_RETRY_INTERVALS"]
    return intervals[min(max(attempts, 1), len(intervals)) - 1]


def _record_failure(
    session: Session, outbox_id: int, job, payload, error: str, attempts: int, *, final: bool, inline: bool
) -> None:
    try:
        row = session.get(Outbox, outbox_id)
        if row is None or row.status == "done":
            return
        row.last_error = error[:4000]
        row.heartbeat_at = None  # this run is over: what follows is a retry's wait, not a lost worker
        now = utcnow()
        if final:
            row.status = "failed"
            if job in ON_FINAL_FAILURE:
                ON_FINAL_FAILURE[job](session, payload)
        elif inline:
            row.status, row.available_at = "pending", now + timedelta(seconds=_backoff(attempts))
        else:  # RQ retries it; the relay looks again only after the retry had its chance
            row.available_at = now + timedelta(
                seconds=_backoff(attempts) + current_app.config["JOBS_LEASE_SECONDS"]
            )
        session.commit()
    except Exception:  # the database itself may be what failed: the relay's lease covers it
        session.rollback()
        log.exception("could not record the failure of outbox %s", outbox_id)


def _describe(exc: BaseException) -> str:
    tail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-3:])
    return f"{type(exc).__name__}: {exc}\n{tail}"


# --- periodic sweeps -----------------------------------------------------------------------------


def _sweep_reminders(session: Session) -> str:
    from ..domain import reminders

    counts = reminders.sweep(session, utcnow(), checkpoint=session.commit)
    return "reminders: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def _sweep_cadence(session: Session) -> str:
    from ..domain import cadence

    made = cadence.prepare_reports(session, utcnow().date(), checkpoint=session.commit)
    return f"client reports prepared: {made}"


def _pipeline_weekly(session: Session) -> str:
    """The pipeline report of the last finished week (idempotent: checking daily builds it once)."""
    from ..domain import weekly

    report = weekly.build_weekly_report(session, utcnow().date() - timedelta(days=7))
    return f"pipeline report {report.key}"


def _dashboard(session: Session) -> str:
    """The dashboard's aggregates, recomputed into its snapshot (only at volumes where the page reads
    the snapshot: below DASHBOARD_LIVE_MAX_LEADS it computes them itself)."""
    from ..domain.reads import metrics

    estimate = metrics.estimated_leads(session)
    if estimate is None or estimate <= metrics.setting("DASHBOARD_LIVE_MAX_LEADS"):
        return "dashboard: computed per view at this volume"
    row = metrics.refresh_snapshot(session)
    return f"dashboard snapshot: {row.seconds:.1f} s"


def _prune_outbox(session: Session) -> str:
    from .retention import prune_outbox

    got = prune_outbox(session)
    return f"outbox: {got['pruned']} done rows pruned"


# "relay" is added by zarts.jobs.relay (imported by init_jobs with the app): it imports this module.
SWEEPS = {
    "reminders": _sweep_reminders,
    "cadence": _sweep_cadence,
    "pipeline_weekly": _pipeline_weekly,
    "dashboard": _dashboard,
    "prune_outbox": _prune_outbox,
}


def run_sweep(name: str) -> str:
    """The RQ entry point (and the inline call) of a periodic sweep."""
    with job_context():
        session = new_session()
        try:
            result = SWEEPS[name](session)
            session.commit()
            return result
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()
