"""A real `zarts worker` killed with SIGKILL in the middle of a handoff: its transaction dies with it,
recovery re-drives the job from the outbox and another worker completes it, with exactly one of
everything."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from zarts.jobs.relay import sweep

from .conftest import outbox_row
from .test_handoff import expected_for, handoff_records
from .test_relay import make_due

pytestmark = [pytest.mark.pg, pytest.mark.redis]

ZARTS = str(Path(sys.executable).with_name("zarts"))


def worker_env(app, pg_url, redis_url, **extra) -> dict:
    return dict(
        os.environ,
        DATABASE_URL=pg_url,
        REDIS_URL=redis_url,
        SECRET_KEY="test-secret",
        ZARTS_ENV="development",
        **extra,
    )


def stop(worker: subprocess.Popen) -> None:
    """Kill the worker's whole process group: RQ runs its scheduler in a child process, which a
    kill of the worker alone would leave running."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(10)


def wait_for(predicate, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("mode", [[], ["--fork"]], ids=["in-process", "fork"])
def test_a_worker_killed_midway_through_a_handoff_leaves_exactly_one_of_everything(
    rq_app, deals, pg_url, redis_url, tmp_path, mode
):
    rq_app.config.update(JOBS_STALE_SECONDS=2)
    queue_name = rq_app.config["RQ_QUEUE"]
    deal = deals.won()  # committed; the relay put the handoff on the queue
    key = f"handoff:{deal.lead_id}"
    assert outbox_row(key).status == "dispatched"

    pidfile = tmp_path / "horse.pid"
    log = (tmp_path / "worker.log").open("w")
    env = worker_env(
        rq_app,
        pg_url,
        redis_url,
        ZARTS_JOBS_FAULT="handoff:checklist:sleep:120",
        ZARTS_JOBS_FAULT_PIDFILE=str(pidfile),
    )
    worker = subprocess.Popen(
        [
            ZARTS,
            "worker",
            "--queue",
            queue_name,
            "--heartbeat",
            "1",
            *mode,
            "--name",
            f"doomed-{uuid.uuid4().hex[:6]}",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()  # the worker writes through its own copy of the file
    try:
        horse = int(
            wait_for(
                lambda: pidfile.exists() and pidfile.read_text(), 60, "the handoff to reach its checklist"
            )
        )
        partial = handoff_records(deal.lead_id)  # one transaction, not committed: nothing shows yet
        assert (partial["projects"], partial["checklist"], partial["started"]) == (0, 0, 0)
        os.kill(horse, signal.SIGKILL)  # kill -9 the work-horse (or the in-process worker itself)
        os.killpg(worker.pid, signal.SIGKILL)  # and the worker with its RQ scheduler process
    finally:
        stop(worker)
    assert outbox_row(key).status == "dispatched"  # nobody will finish it: RQ still thinks it started

    time.sleep(2.5)  # the heartbeats have stopped for longer than JOBS_STALE_SECONDS
    make_due(key)  # the lease expired
    got = sweep()
    assert got["redriven"] == 1 and got["enqueued"] == 1

    survivor = subprocess.run(
        [ZARTS, "worker", "--queue", queue_name, "--burst"],
        check=False,
        env=worker_env(rq_app, pg_url, redis_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert survivor.returncode == 0, survivor.stderr[-2000:]
    assert outbox_row(key).status == "done"
    assert handoff_records(deal.lead_id) == expected_for()


def test_a_long_job_in_the_in_process_worker_keeps_its_heartbeat_and_is_not_re_driven(
    rq_app, deals, pg_url, redis_url, tmp_path
):
    rq_app.config.update(JOBS_STALE_SECONDS=2)
    queue_name = rq_app.config["RQ_QUEUE"]
    deal = deals.won()
    key = f"handoff:{deal.lead_id}"
    pidfile = tmp_path / "worker.pid"
    env = worker_env(
        rq_app,
        pg_url,
        redis_url,
        ZARTS_JOBS_FAULT="handoff:checklist:sleep:6",
        ZARTS_JOBS_FAULT_PIDFILE=str(pidfile),
    )
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [ZARTS, "worker", "--queue", queue_name, "--heartbeat", "1", "--burst"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()  # the worker writes through its own copy of the file
    try:
        wait_for(lambda: pidfile.exists() and pidfile.read_text(), 60, "the handoff to reach its checklist")
        time.sleep(3.5)  # longer than JOBS_STALE_SECONDS: only heartbeats keep the job alive
        make_due(key)
        got = sweep()
        assert got["redriven"] == 0 and got["waiting"] == 1, got
        assert worker.wait(60) == 0
    finally:
        stop(worker)
    assert outbox_row(key).status == "done"
    assert handoff_records(deal.lead_id) == expected_for()


def _stubborn(ready):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # like a scheduler child that never handles it
    ready.set()
    time.sleep(60)


def test_a_scheduler_child_that_ignores_sigterm_does_not_hold_the_worker(monkeypatch):
    """RQ waits for its scheduler child without a limit after SIGTERM; the worker waits a bounded
    time and then kills it, so a stopping (or burst) worker always exits."""
    import multiprocessing
    from types import SimpleNamespace

    from zarts.jobs import worker as worker_module

    monkeypatch.setattr(worker_module, "SCHEDULER_STOP_SECONDS", 0.5)
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    child = context.Process(target=_stubborn, args=(ready,))
    child.start()
    assert ready.wait(10)
    stopping = SimpleNamespace(scheduler=SimpleNamespace(_process=child))
    started = time.monotonic()

    worker_module.SchedulerStops.stop_scheduler(stopping)

    assert not child.is_alive() and child.exitcode == -signal.SIGKILL
    assert time.monotonic() - started < 5


def test_a_pubsub_thread_still_reading_does_not_hold_a_stopping_worker():
    """At shutdown the worker gives its pub/sub thread a bounded time; a thread still blocked in its
    read is left to close its own connection instead of the worker waiting on it."""
    import logging
    import threading
    from types import SimpleNamespace

    from zarts.jobs.worker import SchedulerStops

    release = threading.Event()
    reading = threading.Thread(target=release.wait, daemon=True)  # a read that does not return
    reading.start()
    closed = []
    stopping = SimpleNamespace(
        name="w",
        pubsub_channel_name="c",
        log=logging.getLogger("test"),
        PUBSUB_READ_SECONDS=0.2,
        pubsub=SimpleNamespace(unsubscribe=lambda: None, close=lambda: closed.append(True)),
        pubsub_thread=SimpleNamespace(stop=lambda: None, join=reading.join, is_alive=reading.is_alive),
    )
    started = time.monotonic()

    SchedulerStops.unsubscribe(stopping)

    assert time.monotonic() - started < 3 and closed == []  # not waited on, not closed under it
    release.set()
    reading.join(5)
    stopping.pubsub_thread = SimpleNamespace(stop=lambda: None, join=reading.join, is_alive=reading.is_alive)
    SchedulerStops.unsubscribe(stopping)
    assert closed == [True]  # a thread that has stopped: its connection is closed as usual
