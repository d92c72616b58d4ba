"""The outbox relay: hands committed outbox rows to RQ, or runs them in-process when there is no Redis.

It runs right after each commit that wrote outbox rows (for the keys that commit wrote) and on a
schedule (`sweep`: every pending row whose time has come, and every dispatched row whose lease
expired without the job finishing). Several relays may run at once: on PostgreSQL each takes rows
with `SELECT … FOR UPDATE SKIP LOCKED`; on SQLite a compare-and-set claims each row (one writer at
a time). Handing a row to RQ twice is harmless too: its job id comes from its key and is enqueued
with `unique=True`. If Redis is down the row stays pending with the error recorded.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from ..models import Outbox, utcnow
from .queue import connection, enqueue_unique, job_id, queue, redis_url
from .runner import SWEEPS, execute, new_session

log = logging.getLogger("zarts.jobs")

RUN_OUTBOX = "zarts.jobs.runner.run_outbox"
_state = threading.local()
_installed = False


# --- after commit ----------------------------------------------------------------------------------


def install() -> None:
    """Listen to every session's commits (once per process)."""
    global _installed
    if _installed:
        return
    sa.event.listen(Session, "after_commit", _after_commit)
    sa.event.listen(Session, "after_soft_rollback", _after_soft_rollback)
    _installed = True


def _after_soft_rollback(session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop("outbox_keys", None)


def _after_commit(session) -> None:
    """Relay the keys this commit wrote. The committed session itself is never used again here:
    the relay and the inline jobs open sessions of their own. A failure never reaches the caller,
    whose change is already committed; the scheduled sweep picks the rows up."""
    if session.in_nested_transaction():
        return  # a savepoint was released: the rows are not committed yet
    keys = session.info.pop("outbox_keys", None)
    if not keys or not has_app_context():
        return
    app = current_app
    if "zarts.jobs" not in app.extensions or not app.config.get("JOBS_RELAY_AFTER_COMMIT", True):
        return
    pending = getattr(_state, "pending", None)
    if pending is None:
        pending = _state.pending = []
    pending.extend(keys)
    if getattr(_state, "draining", False):
        return  # an inline job committed more rows: the loop below takes them next
    _state.draining = True
    try:
        while pending:
            batch = list(dict.fromkeys(pending))
            pending.clear()
            try:
                relay(keys=batch)
            except Exception:
                log.exception("relay after commit failed; the scheduled relay will retry %s", batch)
    finally:
        _state.draining = False


# --- relay -----------------------------------------------------------------------------------------


def _claim(session: Session, query) -> list[Outbox]:
    """Rows of `query` this relay may hand on, protected from other relays until commit."""
    if session.get_bind().dialect.name == "postgresql":
        return list(session.scalars(query.with_for_update(skip_locked=True)))
    rows = []
    for row in session.scalars(query).all():
        won = session.execute(
            sa.update(Outbox)
            .where(Outbox.id == row.id, Outbox.status == row.status)
            .values(status="dispatched")
        ).rowcount
        session.expire(row, ["status"])
        if won == 1:
            rows.append(row)
    return rows


def relay(*, keys: list[str] | None = None, limit: int | None = None) -> Counter:
    """Hand pending rows (those of `keys`, else those due) to RQ, or run them inline without Redis."""
    cfg = current_app.config
    out: Counter = Counter()
    query = (
        sa.select(Outbox)
        .where(Outbox.status == "pending")
        .order_by(Outbox.id)
        .limit(limit or cfg["JOBS_RELAY_BATCH"])
    )
    query = query.where(Outbox.key.in_(keys)) if keys else query.where(Outbox.available_at <= utcnow())
    inline_ids: list[int] = []
    session = new_session()
    try:
        rows = _claim(session, query)
        out["claimed"] = len(rows)
        now = utcnow()
        lease = now + timedelta(seconds=cfg["JOBS_LEASE_SECONDS"])
        if rows and redis_url() is None:
            for row in rows:
                row.status, row.dispatched_at, row.available_at = "dispatched", now, lease
            inline_ids = [row.id for row in rows]
        elif rows:
            _enqueue(rows, now, lease, out)
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
    for outbox_id in inline_ids:
        result = execute(outbox_id, inline=True)
        out["ran"] += 1
        out["run_failed"] += result == "failed" or result.startswith("refused")
    return out


def _enqueue(rows: list[Outbox], now: datetime, lease: datetime, out: Counter) -> None:
    import redis

    error = None
    try:
        q = queue()
    except redis.RedisError as exc:
        error = exc
    for row in rows:
        if error is None:
            try:
                fresh = enqueue_unique(q, RUN_OUTBOX, row.id, job_key=row.key)
                out["enqueued" if fresh else "already_queued"] += 1
                row.status, row.dispatched_at, row.available_at = "dispatched", now, lease
                continue
            except redis.RedisError as exc:
                error = exc
        row.status = "pending"
        row.last_error = f"relay: Redis unreachable ({error})"[:4000]
        row.available_at = now + timedelta(seconds=current_app.config["JOBS_RELAY_RETRY_SECONDS"])
        out["redis_down"] += 1


# --- scheduled sweep -------------------------------------------------------------------------------


def sweep(max_batches: int = 20) -> Counter:
    """Re-drive expired leases, then relay every due pending row (in batches)."""
    out = redrive()
    batch = current_app.config["JOBS_RELAY_BATCH"]
    for _ in range(max_batches):
        got = relay()
        out.update(got)
        if got["claimed"] < batch or got["redis_down"]:
            break
    return out


def redrive() -> Counter:
    """Dispatched rows whose run's heartbeat is stale (older than JOBS_STALE_SECONDS) or whose lease
    expired: find out from RQ what became of their job.

    Queued, scheduled or running with a recent heartbeat: wait longer. Finished without marking the
    row, gone (Redis lost it) or started by a worker that stopped sending heartbeats (killed): the
    row goes back to pending and is enqueued again. Failed for good: the row is marked failed.

    So a job whose worker died mid-run is queued again on the first pass (every JOBS_RELAY_SECONDS)
    after its heartbeat went stale: within JOBS_STALE_SECONDS + JOBS_RELAY_SECONDS of the death.
    Without Redis only the lease applies (the in-process run cannot be asked about).
    """
    cfg = current_app.config
    out: Counter = Counter()
    now = utcnow()
    due = Outbox.available_at <= now
    if redis_url() is not None:
        due = sa.or_(due, Outbox.heartbeat_at <= now - timedelta(seconds=cfg["JOBS_STALE_SECONDS"]))
    query = (
        sa.select(Outbox)
        .where(Outbox.status == "dispatched", due)
        .order_by(Outbox.id)
        .limit(cfg["JOBS_RELAY_BATCH"])
    )
    session = new_session()
    try:
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(session.scalars(query))
        if rows and redis_url() is None:
            for row in rows:  # in-process runs that never finished: the process died
                _back_to_pending(row, now, "lease expired without the job finishing (process stopped?)")
                out["redriven"] += 1
        elif rows:
            _redrive_from_rq(rows, now, out)
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
    return out


def _back_to_pending(row: Outbox, now: datetime, why: str) -> None:
    row.status, row.available_at, row.heartbeat_at = "pending", now, None
    row.last_error = f"re-driven: {why}"[:4000]


def _redrive_from_rq(rows: list[Outbox], now: datetime, out: Counter) -> None:
    import redis
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    cfg = current_app.config
    try:
        conn = connection()
        for row in rows:
            try:
                job = Job.fetch(job_id(row.key), connection=conn)
                status = job.get_status(refresh=False)
            except NoSuchJobError:
                job, status = None, None
            if status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.CREATED):
                row.available_at = now + timedelta(seconds=cfg["JOBS_LEASE_SECONDS"])
                row.heartbeat_at = None  # not running now: its next run beats afresh
                out["waiting"] += 1
            elif status == JobStatus.STARTED and not _lost(job, cfg["JOBS_STALE_SECONDS"]):
                row.available_at = now + timedelta(seconds=cfg["JOBS_LEASE_SECONDS"])
                row.heartbeat_at = _naive(job.last_heartbeat or job.started_at)  # looked at again once stale
                out["waiting"] += 1
            elif status == JobStatus.FAILED:
                row.status = "failed"
                row.last_error = (row.last_error or f"failed in RQ: {_exc_tail(job)}")[:4000]
                out["failed"] += 1
            else:
                if job is not None:
                    job.delete()
                why = (
                    "worker lost (no heartbeat)"
                    if status == JobStatus.STARTED
                    else f"job {'missing from Redis' if job is None else status.value} but the row is not done"
                )
                _back_to_pending(row, now, why)
                out["redriven"] += 1
    except redis.RedisError as exc:
        out["redis_down"] += 1
        log.warning("re-drive skipped, Redis unreachable: %s", exc)


def _lost(job, stale_seconds: int) -> bool:
    beat = job.last_heartbeat or job.started_at
    if beat is None:
        return True
    if beat.tzinfo is None:
        beat = beat.replace(tzinfo=UTC)
    return (datetime.now(UTC) - beat).total_seconds() > stale_seconds


def _naive(moment: datetime) -> datetime:
    """An RQ time (aware, UTC) as the database stores times (naive UTC)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _exc_tail(job) -> str:
    try:
        result = job.latest_result()
        text = (result.exc_string if result is not None else None) or job.exc_info or ""
    except Exception:  # noqa: BLE001 - only to describe an error; RQ may have kept nothing
        text = ""
    return text.strip().splitlines()[-1] if text.strip() else "unknown error"


# --- admin re-drive --------------------------------------------------------------------------------


def retry(outbox_id: int) -> bool:
    """Re-drive one row now (admin action): drop its old RQ job, make it pending, relay it."""
    session = new_session()
    try:
        row = session.get(Outbox, outbox_id)
        if row is None or row.status == "done":
            return False
        key = row.key
        if redis_url() is not None:
            _drop_job(key)
        row.status, row.available_at, row.heartbeat_at = "pending", utcnow(), None
        session.commit()
    finally:
        session.close()
    relay(keys=[key])
    return True


def _drop_job(key: str) -> None:
    import redis
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        Job.fetch(job_id(key), connection=connection()).delete()
    except (NoSuchJobError, redis.RedisError):
        pass


def _relay_sweep(session) -> str:
    """The scheduler's "relay" sweep (zarts.jobs.runner.SWEEPS): one relay pass."""
    return str(sweep())


SWEEPS["relay"] = _relay_sweep
