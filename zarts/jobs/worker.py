"""Process entries: `zarts worker` (an RQ worker with its scheduler) and `zarts schedule` (the sweeps)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from datetime import UTC, datetime

from rq import SimpleWorker, Worker

from ..extensions import db
from ..runtime import JOB_THRESHOLD, freeze_start_up
from .queue import connection, enqueue_unique, queue, redis_url
from .runner import bind_app, run_sweep

log = logging.getLogger("zarts.jobs")

# (sweep, config key of its interval in seconds). The relay runs in the scheduler process itself:
# it is what hands work to RQ; the others are enqueued as RQ jobs (run inline without Redis).
PERIODIC = (
    ("relay", "JOBS_RELAY_SECONDS"),
    ("reminders", "REMINDER_SWEEP_SECONDS"),
    ("cadence", "REPORT_CADENCE_SECONDS"),
    ("pipeline_weekly", "PIPELINE_REPORT_SECONDS"),
    ("dashboard", "DASHBOARD_REFRESH_SECONDS"),
)


class NoRedis(RuntimeError):
    pass


def run_worker(app, *, queue_name: str | None = None, burst: bool = False, heartbeat: int | None = None,
               name: str | None = None, fork: bool = False) -> None:
    """An RQ worker on the app's queue, with RQ's scheduler (needed for retries with backoff).

    By default jobs run in the worker process itself (RQ's SimpleWorker), with warm caches (compiled
    SQL, templates) and a pooled database connection: several times the throughput of forking for
    short jobs such as handoffs. A worker that dies mid-job loses nothing: a handoff is one
    transaction with its outbox row, every job is safe to run again, and the relay re-drives an
    unfinished row once its lease expires (a job still running keeps sending heartbeats, so it is not taken for lost).
    `fork=True` runs each job in a forked work-horse (RQ's Worker) instead: a job
    that crashes or leaks cannot harm the next one, but every job starts cold.
    """
    if redis_url() is None:
        raise NoRedis("REDIS_URL is not set: without Redis, jobs run in-process right after commit and "
                      "`zarts schedule` runs the sweeps; no worker is needed.")
    bind_app(app)
    warm_up(app)
    db.engine.dispose()  # work-horses are forked: they must not inherit pooled connections
    # What start-up made lives as long as the worker: keep the garbage collector from walking it
    # again and again (and work-horses from touching, and so copying, the pages it sits on); and
    # collect young objects every 20,000 allocations, not every 700 (zarts/runtime.py).
    freeze_start_up(JOB_THRESHOLD)
    conn = connection()
    worker = (ForkingWorker if fork else InProcessWorker)(
        [queue(conn, queue_name)], connection=conn, name=name,
        job_monitoring_interval=heartbeat or app.config["JOBS_HEARTBEAT_SECONDS"])
    worker.work(burst=burst, with_scheduler=True)


# How long a stopping worker waits for its RQ scheduler child to end before killing it.
SCHEDULER_STOP_SECONDS = 10


class SchedulerStops:
    """A stopping worker ends within seconds, whatever its helpers are doing.

    RQ stops its scheduler child with SIGTERM and then waits for it without a limit: here the wait is
    bounded, then the child is killed. And RQ's pub/sub thread reads with a 60 s timeout; at shutdown
    RQ gives it one second to stop and then closes its connection, which waits for that read (seen in
    the full suite: a burst worker logged "unsubscribing" and hung for a minute). Here the thread
    reads for at most a second at a time, and a thread still reading is left to close its own
    connection (it is a daemon thread: it does not keep the process alive)."""

    PUBSUB_READ_SECONDS = 1

    def subscribe(self):
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=self.PUBSUB_READ_SECONDS, daemon=True, exception_handler=self._pubsub_exception_handler)

    def unsubscribe(self):
        if not self.pubsub_thread:
            return
        self.log.info("Worker %s: unsubscribing from channel %s", self.name, self.pubsub_channel_name)
        with contextlib.suppress(Exception):  # the process is stopping: Redis may already be away
            self.pubsub.unsubscribe()
        self.pubsub_thread.stop()
        self.pubsub_thread.join(timeout=self.PUBSUB_READ_SECONDS + 1)
        if not self.pubsub_thread.is_alive():
            self.pubsub.close()

    def stop_scheduler(self):
        process = self.scheduler._process if self.scheduler else None
        if process is None or not process.pid:
            return
        with contextlib.suppress(OSError):
            os.kill(process.pid, signal.SIGTERM)
        process.join(SCHEDULER_STOP_SECONDS)
        if process.is_alive():
            log.warning("RQ scheduler process %s did not stop in %s s: killed", process.pid,
                        SCHEDULER_STOP_SECONDS)
            with contextlib.suppress(OSError):
                os.kill(process.pid, signal.SIGKILL)
            process.join(5)


class ForkingWorker(SchedulerStops, Worker):
    """RQ's forking worker (`zarts worker --fork`)."""


class InProcessWorker(SchedulerStops, SimpleWorker):
    """RQ's SimpleWorker, plus what the forking worker's monitor loop does for a running job: a
    heartbeat every `job_monitoring_interval` seconds, so the relay tells a long job from one whose
    worker died. The heartbeats come from one thread for the worker's life (the job holds the main
    thread): a thread started and joined for each job cost about a millisecond a job, a few per cent
    of a handoff."""

    _beat_lock: threading.Lock | None = None
    _beat_job = None

    def _start_beating(self) -> None:
        self._beat_lock = threading.Lock()

        def beat():
            while True:
                time.sleep(self.job_monitoring_interval)
                with self._beat_lock:
                    job = self._beat_job
                    if job is None:
                        continue
                    try:
                        job.heartbeat(datetime.now(UTC), self.get_heartbeat_ttl(job))
                    except Exception:  # Redis away: the relay looks again later
                        log.warning("heartbeat of job %s failed", job.id, exc_info=True)

        threading.Thread(target=beat, name=f"heartbeats-{self.name}", daemon=True).start()

    def execute_job(self, job, queue):
        if self._beat_lock is None:
            self._start_beating()
        with self._beat_lock:
            self._beat_job = job
        try:
            return super().execute_job(job, queue)
        finally:
            # Under the lock: once the job is done, no heartbeat for it is on its way.
            with self._beat_lock:
                self._beat_job = None


def warm_up(app) -> None:
    """Compile every template and configure the mappers once, in the worker itself: forked
    work-horses inherit them instead of each doing it again for its one job."""
    from sqlalchemy.orm import configure_mappers

    configure_mappers()
    env = app.jinja_env
    for name in env.list_templates(filter_func=lambda n: n.endswith((".html", ".txt"))):
        try:
            env.get_template(name)
        except Exception:  # noqa: BLE001 - a template that does not compile fails where it is used
            log.warning("warm-up: template %s does not compile", name)


class Scheduler:
    """Runs each periodic sweep on its interval. With Redis, only the holder of a Redis lock runs
    them (others wait as stand-bys); without Redis there is one process and the sweeps run inline."""

    LOCK_TTL = 60

    def __init__(self, app, *, queue_name: str | None = None):
        self.app = app
        self.queue_name = queue_name
        self.next_due = {sweep: 0.0 for sweep, _ in PERIODIC}
        self.lock = None
        self.stopping = False

    def _lock_key(self) -> str:
        return f"zarts:scheduler:{self.queue_name or self.app.config['RQ_QUEUE']}"

    def lead(self) -> bool:
        """True while this process holds (or just took) the scheduler lock."""
        import redis
        from redis.exceptions import LockError

        if redis_url() is None:
            return True
        try:
            if self.lock is not None:
                self.lock.reacquire()
                return True
            lock = connection().lock(self._lock_key(), timeout=self.LOCK_TTL, blocking=False)
            if lock.acquire(blocking=False):
                self.lock = lock
                log.info("scheduler: took the lock, running the sweeps")
                return True
        except LockError:
            log.warning("scheduler: lost the lock; standing by")
            self.lock = None
        except redis.RedisError as exc:
            log.warning("scheduler: Redis unreachable (%s)", exc)
            self.lock = None
        return False

    def tick(self, now: float | None = None) -> list[str]:
        """Run (or enqueue) every sweep that is due. Returns their names."""
        now = time.monotonic() if now is None else now
        ran = []
        for sweep, setting in PERIODIC:
            if now < self.next_due[sweep]:
                continue
            self.next_due[sweep] = now + self.app.config[setting]
            try:
                self.dispatch(sweep)
                ran.append(sweep)
            except Exception:
                log.exception("scheduler: %s failed; it runs again next interval", sweep)
        return ran

    def dispatch(self, sweep: str) -> None:
        if sweep == "relay" or redis_url() is None:
            log.info("scheduler: %s -> %s", sweep, run_sweep(sweep))
            return
        interval = self.app.config[dict(PERIODIC)[sweep]]
        bucket = int(time.time() // max(interval, 1))
        # One job per sweep and interval, whoever enqueues it.
        enqueue_unique(queue(name=self.queue_name), "zarts.jobs.runner.run_sweep", sweep,
                       job_key=f"sweep:{sweep}:{bucket}")

    def run(self, *, once: bool = False, tick_seconds: float = 1.0) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        try:
            while not self.stopping:
                if self.lead():
                    self.tick()
                    if once:
                        return
                time.sleep(tick_seconds)
        finally:
            self.release()

    def _stop(self, *_):
        self.stopping = True

    def release(self) -> None:
        if self.lock is not None:
            from redis.exceptions import LockError, RedisError

            try:
                self.lock.release()
            except (LockError, RedisError) as exc:  # expired or unreachable: it frees itself
                log.info("scheduler: lock not released (%s)", exc)
            self.lock = None
