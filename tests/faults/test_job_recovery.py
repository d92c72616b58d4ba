"""Recovery in seconds (issue 23), with real `zarts worker` and `zarts schedule` processes on
PostgreSQL and Redis: a worker killed with SIGKILL mid-job, a job's database connection dropped, the
leading scheduler killed. Each recovery time is asserted as an upper bound a slow CI machine meets
(small JOBS_* settings keep the whole file well under two minutes), and the handoff notice email is
delivered exactly once every time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import PG_ADMIN_URL
from tests.jobs.conftest import deals, outbox_row, rq_app  # noqa: F401  (fixtures)
from tests.jobs.test_email import smtp  # noqa: F401  (fixture: a real SMTP server, aiosmtpd)
from tests.jobs.test_handoff import expected_for, handoff_records
from zarts.domain.trail import ensure_task
from zarts.extensions import db
from zarts.models import Message, today

pytestmark = [pytest.mark.pg, pytest.mark.redis, pytest.mark.serial]

ZARTS = str(Path(sys.executable).with_name("zarts"))

# Small settings for the processes: a worker beats every second, a run without a beat for 3 s lost
# its worker, the relay passes every second, a stand-by scheduler takes over 5 s after the leader died.
FAST = {
    "JOBS_HEARTBEAT_SECONDS": "1",
    "JOBS_STALE_SECONDS": "3",
    "JOBS_RELAY_SECONDS": "1",
    "JOBS_MAINTENANCE_SECONDS": "2",
    "JOBS_SCHEDULER_LOCK_SECONDS": "5",
}


class Processes:
    def __init__(self, app, pg_url, redis_url, tmp_path):
        self.app, self.tmp_path, self.started = app, tmp_path, []
        self.env = dict(
            os.environ,
            DATABASE_URL=pg_url,
            REDIS_URL=redis_url,
            SECRET_KEY="test-secret",
            ZARTS_ENV="development",
            RQ_QUEUE=app.config["RQ_QUEUE"],
            SMTP_URL=app.config.get("SMTP_URL") or "",
            **FAST,
        )

    def start(self, *args, name: str, **env) -> subprocess.Popen:
        log = (self.tmp_path / f"{name}.log").open("w")
        process = subprocess.Popen(
            [ZARTS, *args],
            env=dict(self.env, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()  # the process writes through its own copy of the file
        self.started.append(process)
        return process

    def worker(self, name: str, **env) -> subprocess.Popen:
        return self.start("worker", "--queue", self.app.config["RQ_QUEUE"], name=name, **env)

    def stop_all(self) -> None:
        for process in self.started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")[-3000:]


@pytest.fixture
def procs(rq_app, pg_url, redis_url, tmp_path):
    p = Processes(rq_app, pg_url, redis_url, tmp_path)
    yield p
    p.stop_all()


def wait_for(predicate, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
    return out


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def status_of(key: str) -> str:
    db.session.rollback()
    return outbox_row(key).status


def notices(smtp_inbox, deal) -> list[str]:
    """Message-IDs of the handoff notice emails the onboarding owner received."""
    return [
        mail["Message-ID"]
        for rcpt, mail in smtp_inbox.messages
        if rcpt == [deal.delivery.email] and mail["Subject"].startswith("Handoff:")
    ]


def test_a_worker_killed_mid_job_leaves_nothing_behind_and_the_job_is_done_within_a_minute(
    rq_app, deals, procs, smtp, tmp_path
):  # noqa: F811
    rq_app.config["SMTP_URL"] = procs.env["SMTP_URL"] = smtp.url
    deal = deals.won()  # the relay put its handoff on the queue
    key = f"handoff:{deal.lead_id}"
    pidfile = tmp_path / "doomed.pid"
    doomed = procs.worker(
        "doomed", ZARTS_JOBS_FAULT="handoff:checklist:sleep:120", ZARTS_JOBS_FAULT_PIDFILE=str(pidfile)
    )
    wait_for(lambda: pidfile.exists() and pidfile.read_text(), 60, "the handoff to reach its checklist")
    helpers = wait_for(lambda: children(doomed.pid), 10, "the worker's RQ scheduler child")

    os.kill(doomed.pid, signal.SIGKILL)  # the worker alone (in-process: the job dies with it)
    killed = time.monotonic()
    wait_for(lambda: not any(alive(pid) for pid in helpers), 10, "the worker's children to die with it")

    procs.start("schedule", name="schedule")
    procs.worker("survivor")  # what a supervisor (systemd, k8s) would start again
    wait_for(lambda: status_of(key) == "done", 60, f"the handoff to be done\n{procs.log('survivor')}")
    recovered = time.monotonic() - killed
    assert recovered <= 60, recovered
    assert handoff_records(deal.lead_id) == expected_for()
    wait_for(lambda: notices(smtp, deal), 30, "the handoff notice email")
    time.sleep(2)  # a second email would come now
    assert len(notices(smtp, deal)) == 1
    print(f"\nFAULT kill -9 mid-handoff: done {recovered:.1f} s after the kill")


def _drop_connections(application_name: str) -> int:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            return len(
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :n"
                    ),
                    {"n": application_name},
                ).all()
            )
    finally:
        admin.dispose()


def test_a_job_whose_database_connection_drops_is_done_within_30_seconds(
    rq_app, deals, procs, smtp, pg_url, tmp_path
):  # noqa: F811
    rq_app.config["SMTP_URL"] = procs.env["SMTP_URL"] = smtp.url
    deal = deals.won()
    key = f"handoff:{deal.lead_id}"
    pidfile = tmp_path / "worker.pid"
    sep = "&" if "?" in pg_url else "?"
    # The default retry intervals (10 s, 60 s, 300 s): the first retry must run on time.
    procs.worker(
        "worker",
        DATABASE_URL=f"{pg_url}{sep}application_name=zarts-fault-worker",
        ZARTS_JOBS_FAULT="handoff:checklist:sleep:2",
        ZARTS_JOBS_FAULT_PIDFILE=str(pidfile),
    )
    wait_for(lambda: pidfile.exists() and pidfile.read_text(), 60, "the handoff to reach its checklist")
    assert _drop_connections("zarts-fault-worker") >= 1  # mid-transaction
    dropped = time.monotonic()
    wait_for(lambda: status_of(key) == "done", 30, f"the handoff to be done\n{procs.log('worker')}")
    recovered = time.monotonic() - dropped
    assert recovered <= 30, recovered
    assert outbox_row(key).attempts >= 2
    assert handoff_records(deal.lead_id) == expected_for()
    wait_for(lambda: notices(smtp, deal), 30, "the handoff notice email")
    time.sleep(2)
    assert len(notices(smtp, deal)) == 1
    print(f"\nFAULT dropped DB connection mid-handoff: done {recovered:.1f} s after the drop")


def test_after_the_leading_scheduler_is_killed_the_reminders_due_go_out_within_90_seconds(
    rq_app, make, procs, redis_url
):
    import redis

    # One sweep an hour: only a takeover's first tick can send what comes due in between.
    slow = {"REMINDER_SWEEP_SECONDS": "3600"}
    leader = procs.start("schedule", name="leader", **slow)
    lock = f"zarts:scheduler:{rq_app.config['RQ_QUEUE']}"
    conn = redis.Redis.from_url(redis_url)
    wait_for(lambda: conn.exists(lock), 60, "the first scheduler to lead")
    time.sleep(2)  # it has enqueued this hour's reminder sweep
    procs.start("schedule", name="standby", **slow)
    procs.worker("worker")

    owner = make.user("growth_ops")
    task = ensure_task(
        db.session,
        key="fault:reminder:1",
        kind="follow_up",
        title="Call back the CFO",
        owner_id=owner.id,
        due=today(),
    )
    db.session.commit()
    os.killpg(leader.pid, signal.SIGKILL)
    killed = time.monotonic()

    reminder_key = f"reminder:task:{task.id}:{today()}"

    def sent():
        db.session.rollback()
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(Message).where(Message.key == reminder_key)
        )

    wait_for(sent, 90, f"the reminder after the takeover\n{procs.log('standby')}")
    late = time.monotonic() - killed
    assert late <= 90, late
    print(f"\nFAULT scheduler killed: reminder sent {late:.1f} s after the kill")
