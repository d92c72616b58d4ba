"""What a dead worker leaves in Redis, cleared by the next worker with RQ's own APIs.

A worker killed with `kill -9` leaves three things behind: its RQ scheduler lock (while the lock
stands, no other worker runs RQ's scheduler, so retries with backoff wait), its entries in the
queue's StartedJobRegistry (its jobs look "started" until their heartbeat TTL runs out), and its
registration. A worker clears them when it starts and on every maintenance pass
(JOBS_MAINTENANCE_SECONDS), for every worker it can tell is dead:

- on this host, a worker (or RQ scheduler) whose process is gone is dead at once;
- anywhere, one whose last heartbeat is older than JOBS_STALE_SECONDS is dead (a live worker beats
  every JOBS_HEARTBEAT_SECONDS, idle or busy; a live RQ scheduler refreshes its lock every second).

A dead worker's started jobs are expired in the registry and handed to
`StartedJobRegistry.cleanup`, which retries each (RQ's Retry: after 10 s, 60 s, 300 s) or files it as
failed, as RQ's own maintenance would minutes later. Every job is safe to run twice, and the outbox
relay re-drives a row whose run stopped beating regardless (zarts.jobs.relay.redrive).
"""

from __future__ import annotations

import logging
import os
import socket
from collections import Counter
from datetime import UTC, datetime

from rq import Worker
from rq.exceptions import SchedulerNotFound
from rq.executions import Execution
from rq.scheduler import RQScheduler
from rq.scripts import release_lock
from rq.utils import as_text
from rq.worker_registration import clean_worker_registry

log = logging.getLogger("zarts.jobs")


def process_gone(hostname: str | None, pid: int | None) -> bool:
    """True when `pid` ran on this host and is no longer alive."""
    if not pid or hostname != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _older_than(moment: datetime | None, seconds: float) -> bool:
    if moment is None:
        return True
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (datetime.now(UTC) - moment).total_seconds() > seconds


def clear_dead_scheduler_lock(conn, queue_name: str, stale_seconds: float) -> bool:
    """Release the RQ scheduler lock of `queue_name` when its holder is dead. True if released."""
    key = RQScheduler.get_locking_key(queue_name)
    holder = conn.get(key)
    if holder is None:
        return False
    name = as_text(holder)
    try:
        scheduler = RQScheduler.fetch(name, conn)
        dead = process_gone(scheduler.hostname, scheduler.pid) or _older_than(
            scheduler.last_heartbeat, stale_seconds
        )
    except SchedulerNotFound:
        # Its hash is written just after the lock is taken: a live holder without one is starting
        # up, and refreshes the lock (to interval + 60 s) every second. A lock not refreshed for
        # `stale_seconds` has no live holder.
        ttl = conn.ttl(key)
        dead = ttl is not None and 0 <= ttl < 61 - stale_seconds
    if dead and release_lock(conn, key, name):
        log.warning("RQ scheduler lock of %s held by dead scheduler %s: released", queue_name, name)
        return True
    return False


def _worker_dead(conn, name: str, stale_seconds: float, cache: dict) -> bool:
    if name not in cache:
        worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + name, connection=conn)
        if worker is None:
            cache[name] = True  # its key expired: no heartbeat for worker_ttl + 60 s
        else:
            dead = process_gone(worker.hostname, worker.pid) or _older_than(
                worker.last_heartbeat, stale_seconds
            )
            if dead and worker.death_date is None:
                worker.register_death()  # off `rq info` and the registry at once
            cache[name] = dead
    return cache[name]


def clear_dead_workers_jobs(queue, stale_seconds: float) -> int:
    """Expire the StartedJobRegistry entries of dead workers and let RQ's cleanup retry (or fail)
    their jobs. Returns how many entries were expired."""
    conn = queue.connection
    registry = queue.started_job_registry
    dead_entries, cache = [], {}
    for composite in conn.zrange(registry.key, 0, -1):
        composite = as_text(composite)
        execution = Execution.from_composite_key(composite, conn)
        try:
            execution.refresh()
        except ValueError:
            continue  # its record expired with its heartbeat TTL: RQ's cleanup takes it anyway
        if execution.worker_name and _worker_dead(conn, execution.worker_name, stale_seconds, cache):
            dead_entries.append(composite)
    if dead_entries:
        conn.zadd(registry.key, dict.fromkeys(dead_entries, 0), xx=True)
        registry.cleanup()
        log.warning(
            "queue %s: %d started job(s) of dead workers handed back to RQ", queue.name, len(dead_entries)
        )
    return len(dead_entries)


def recover(queues, stale_seconds: float) -> Counter:
    """Everything dead workers left on `queues`: scheduler locks, started jobs, registrations."""
    out: Counter = Counter()
    for queue in queues:
        out["scheduler_locks"] += clear_dead_scheduler_lock(queue.connection, queue.name, stale_seconds)
        out["started_jobs"] += clear_dead_workers_jobs(queue, stale_seconds)
        clean_worker_registry(queue)
    return out
