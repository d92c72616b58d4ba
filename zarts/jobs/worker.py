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
from rq.scheduler import RQScheduler

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
    ("prune_outbox", "JOBS_PRUNE_SECONDS"),
)


class NoRedis(RuntimeError):
    pass


def run_worker(
    app,
    *,
    queue_name: str | None = None,
    burst: bool = False,
    heartbeat: int | None = None,
    name: str | None = None,
    fork: bool = False,
) -> None:
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
        raise NoRedis(
            "REDIS_URL is not set: without Redis, jobs run in-process right after commit and "
            "`zarts schedule` runs the sweeps; no worker is needed."
        )
    bind_app(app)
    warm_up(app)
    db.engine.dispose()  # work-horses are forked: they must not inherit pooled connections
    # What start-up made lives as long as the worker: keep the garbage collector from walking it
    # again and again (and work-horses from touching, and so copying, the pages it sits on); and
    # collect young objects every 20,000 allocations, not every 700 (zarts/runtime.py).
    freeze_start_up(JOB_THRESHOLD)
    conn = connection()
    beat = heartbeat or app.config["JOBS_HEARTBEAT_SECONDS"]
    worker = (ForkingWorker if fork else InProcessWorker)(
        [queue(conn, queue_name)],
        connection=conn,
        name=name,
        job_monitoring_interval=beat,
        # An idle worker's heartbeat comes every `dequeue_timeout` = worker_ttl - 15 s: every `beat`.
        worker_ttl=beat + 15,
        maintenance_interval=app.config["JOBS_MAINTENANCE_SECONDS"],
    )
    worker.stale_seconds = app.config["JOBS_STALE_SECONDS"]
    # Before RQ's scheduler tries its lock: a dead worker's lock and started jobs are cleared first.
    worker.recover_dead()
    worker.work(burst=burst, with_scheduler=True)


# How long a stopping worker waits for its RQ scheduler child to end before killing it.
SCHEDULER_STOP_SECONDS = 10

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int, parent_pid: int) -> None:
    """This (forked) process gets `sig` when `parent_pid` dies, even by SIGKILL: Linux's
    prctl(PR_SET_PDEATHSIG); elsewhere a thread that watches the parent."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError):

        def watch():
            while os.getppid() == parent_pid:
                time.sleep(1)
            os.kill(os.getpid(), sig)

        threading.Thread(target=watch, name="parent-watch", daemon=True).start()
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os.kill(os.getpid(), sig)


class WorkerScheduler(RQScheduler):
    """RQ's scheduler child, stopped (SIGTERM: it releases its lock) when its worker dies."""

    parent_pid: int | None = None

    def start(self):
        self.parent_pid = os.getpid()
        return super().start()

    def work(self):
        if self.parent_pid is not None:
            die_with_parent(signal.SIGTERM, self.parent_pid)
        return super().work()


class Recovers:
    """A worker that clears what dead workers left (zarts.jobs.recovery) at start-up and on each
    maintenance pass, and whose RQ scheduler child dies with it."""

    stale_seconds: float = 30

    def recover_dead(self) -> None:
        import redis

        from .recovery import recover

        try:
            got = recover(self.queues, self.stale_seconds)
        except redis.RedisError as exc:  # Redis away: the next pass tries again
            log.warning("recovery of dead workers skipped: %s", exc)
            return
        if any(got.values()):
            log.warning("recovered from dead workers: %s", dict(got))

    def run_maintenance_tasks(self):
        self.recover_dead()  # a dead holder's lock released first: RQ then takes it (auto_start)
        super().run_maintenance_tasks()

    def _start_scheduler(self, burst: bool = False, logging_level="INFO", date_format=None, log_format=None):
        """RQ's own, with a scheduler child that dies with this worker (WorkerScheduler)."""
        from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT

        self.scheduler = WorkerScheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format or DEFAULT_LOGGING_DATE_FORMAT,
            log_format=log_format or DEFAULT_LOGGING_FORMAT,
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()


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
            sleep_time=self.PUBSUB_READ_SECONDS, daemon=True, exception_handler=self._pubsub_exception_handler
        )

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
            log.warning(
                "RQ scheduler process %s did not stop in %s s: killed", process.pid, SCHEDULER_STOP_SECONDS
            )
            with contextlib.suppress(OSError):
                os.kill(process.pid, signal.SIGKILL)
            process.join(5)


class ForkingWorker(Recovers, SchedulerStops, Worker):
    """RQ's forking worker (`zarts worker --fork`); its work-horse dies with it."""

    def main_work_horse(self, job, queue):
        die_with_parent(signal.SIGKILL, self.pid)
        return super().main_work_horse(job, queue)


class InProcessWorker(Recovers, SchedulerStops, SimpleWorker):
    """RQ's SimpleWorker, plus what the forking worker's monitor loop does for a running job: a
    heartbeat (the worker's, its execution's and the job's) every `job_monitoring_interval` seconds,
    so the relay tells a long job from one whose worker died, and the job's started-registry entry
    lives `job_monitoring_interval` + 60 s past the last beat (SimpleWorker's own: the job timeout +
    60 s, 11 minutes). The heartbeats come from one thread for the worker's life (the job holds the
    main thread): a thread started and joined for each job cost about a millisecond a job, a few per
    cent of a handoff."""

    def get_heartbeat_ttl(self, job) -> int:
        return Worker.get_heartbeat_ttl(self, job)

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
                        execution = self.execution
                        if execution is not None and execution.job_id == job.id:
                            self.maintain_heartbeats(job)
                        else:
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
    them (others wait as stand-bys, and take over JOBS_SCHEDULER_LOCK_SECONDS after the holder
    died); without Redis there is one process and the sweeps run inline.

    Whoever holds the lock, every sweep runs on each tick it is due: a process that takes the lock
    (at start or in a takeover) runs every sweep on its first tick, whatever the previous holder
    ran, and then once per interval (see `dispatch`)."""

    def __init__(self, app, *, queue_name: str | None = None):
        self.app = app
        self.queue_name = queue_name
        self.next_due = {sweep: 0.0 for sweep, _ in PERIODIC}
        self.lock = None
        self.term: str | None = None  # this process's current hold of the lock
        self.first_of_term: set[str] = set()
        self.stopping = False

    @property
    def lock_ttl(self) -> int:
        return int(self.app.config["JOBS_SCHEDULER_LOCK_SECONDS"])

    def _new_term(self) -> None:
        """The lock was just taken: every sweep is due now, under keys no earlier holder used."""
        import uuid

        self.term = uuid.uuid4().hex[:8]
        self.next_due = dict.fromkeys(self.next_due, 0.0)
        self.first_of_term = set(self.next_due)

    def _lock_key(self) -> str:
        return f"zarts:scheduler:{self.queue_name or self.app.config['RQ_QUEUE']}"

    def lead(self) -> bool:
        """True while this process holds (or just took) the scheduler lock."""
        import redis
        from redis.exceptions import LockError

        if redis_url() is None:
            if self.term is None:
                self._new_term()
            return True
        try:
            if self.lock is not None:
                self.lock.reacquire()
                return True
            lock = connection().lock(self._lock_key(), timeout=self.lock_ttl, blocking=False)
            if lock.acquire(blocking=False):
                self.lock = lock
                self._new_term()
                log.info("scheduler: took the lock, running the sweeps")
                return True
        except LockError:
            log.warning("scheduler: lost the lock; standing by")
            self.lock = self.term = None
        except redis.RedisError as exc:
            log.warning("scheduler: Redis unreachable (%s)", exc)
            self.lock = self.term = None
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
        """Run the sweep (the relay, or every sweep without Redis) or enqueue it as an RQ job.

        Its job id is one per interval of the wall clock (`sweep:<name>:<bucket>`), so a stand-by
        that briefly believed it led adds nothing. The first dispatch of a term (a start or a
        takeover) carries the term too: the previous holder may have run this bucket's sweep minutes
        ago, and the sweep is due now (the id of a finished job stays taken for JOBS_RESULT_TTL).
        A sweep run twice is harmless: its records carry unique keys."""
        first = sweep in self.first_of_term
        self.first_of_term.discard(sweep)
        if sweep == "relay" or redis_url() is None:
            log.info("scheduler: %s -> %s", sweep, run_sweep(sweep))
            return
        interval = self.app.config[dict(PERIODIC)[sweep]]
        bucket = int(time.time() // max(interval, 1))
        key = f"sweep:{sweep}:{bucket}" + (f":{self.term}" if first and self.term else "")
        enqueue_unique(queue(name=self.queue_name), "zarts.jobs.runner.run_sweep", sweep, job_key=key)

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
            self.term = None
