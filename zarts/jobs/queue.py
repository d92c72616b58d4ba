"""Redis and RQ plumbing: one connection per URL, the app's queue, job ids derived from outbox keys."""

from __future__ import annotations

import os
import re

from flask import current_app

# The job ids RQ accepts.
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_connections: dict[tuple[int, str], object] = {}


def redis_url() -> str | None:
    return current_app.config.get("REDIS_URL") or None


def connection(url: str | None = None):
    """A Redis client for `url` (default: REDIS_URL) with short timeouts: a request never hangs on Redis."""
    import redis

    url = url or redis_url()
    if url is None:
        raise RuntimeError("REDIS_URL is not set: jobs run in-process")
    key = (os.getpid(), url)
    conn = _connections.get(key)
    if conn is None:
        conn = redis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=30
        )
        _connections[key] = conn
    return conn


def queue(conn=None, name: str | None = None):
    from rq import Queue

    return Queue(name or current_app.config["RQ_QUEUE"], connection=conn or connection())


def retry():
    from rq import Retry

    intervals = list(current_app.config["JOBS_RETRY_INTERVALS"])
    return Retry(max=len(intervals), interval=intervals)


def job_id(key: str, queue_name: str | None = None) -> str:
    """The RQ job id of an outbox key: the queue name and the key, sanitised to [A-Za-z0-9_-].

    The queue name keeps ids of several deployments (or test runs) sharing one Redis apart.
    """
    name = queue_name or current_app.config["RQ_QUEUE"]
    return _UNSAFE.sub("_", f"{name}-{key}")[:200]


def enqueue_unique(q, func: str, *args, job_key: str, description: str | None = None) -> bool:
    """Enqueue `func(*args)` under the id of `job_key` once. False when that job is already queued."""
    from rq.exceptions import DuplicateJobError

    try:
        q.enqueue(
            func,
            *args,
            job_id=job_id(job_key, q.name),
            unique=True,
            retry=retry(),
            description=description or job_key,
            result_ttl=current_app.config["JOBS_RESULT_TTL"],
            job_timeout=current_app.config["JOBS_TIMEOUT"],
        )
    except DuplicateJobError:
        return False
    return True
