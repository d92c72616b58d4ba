"""PostgreSQL going away while requests run: the requests caught by it get a clear 503 page (never a
500 or a dropped connection), nothing is half-saved, and the app recovers by itself (the pool's checkout
check in zarts.statements replaces dead pooled connections) — nobody restarts the app.

Two faults: this run's own database connections killed again and again mid-request (only this test
run is affected), and one real restart of the cluster (everyone using it notices for about a second,
so it runs once per test run).
"""

from __future__ import annotations

import gc
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from tests.conftest import PG_ADMIN_URL
from tests.faults.conftest import Answer, Http, browser_session
from zarts.extensions import db
from zarts.models import Event, Lead, today

pytestmark = [pytest.mark.pg, pytest.mark.serial]

CLEAR_503 = "The database is not answering right now."


@dataclass
class Traffic:
    """Staff reading three pages and saving a lead's next action, in four threads, until stopped."""

    http: Http
    lead_id: int
    token: str
    start_version: int
    answers: list[tuple[str, Answer]] = field(default_factory=list)

    def __post_init__(self):
        self.stop, self.lock = threading.Event(), threading.Lock()
        pages = ("/workspace/", f"/workspace/leads/{self.lead_id}", "/workspace/tasks")
        self.threads = [threading.Thread(target=self._read, args=(p,)) for p in pages]
        self.threads.append(threading.Thread(target=self._write))

    def _keep(self, kind, answer):
        with self.lock:
            self.answers.append((kind, answer))

    def _read(self, path):
        while not self.stop.is_set():
            self._keep("GET", self.http.request("GET", path))

    def _write(self):
        due, n = (today() + timedelta(days=3)).isoformat(), 0
        while not self.stop.is_set():
            n += 1
            body = urlencode(
                {"next_action": f"Call back #{n}", "next_action_due": due, "csrf_token": self.token}
            )
            self._keep(
                "POST", self.http.request("POST", f"/workspace/leads/{self.lead_id}/next-action", body)
            )

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)

    def wait_for_recovery(self, since: float, timeout: float = 20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                recent = [a for _, a in self.answers if a.started > since]
            if len(recent) >= 20 and all(a.status in (200, 303) for a in recent[-12:]):
                return
            time.sleep(0.2)

    def check(self, recovered_after: float):
        statuses = {a.status for _, a in self.answers}
        assert statuses <= {200, 303, 503}, sorted(map(str, statuses))
        failed = [a for _, a in self.answers if a.status == 503]
        assert failed, "no request was caught by the fault (it was too quick to observe)"
        for a in failed:
            assert CLEAR_503 in a.body and a.headers.get("Retry-After") == "5", a.body[:300]
        after = [a for _, a in self.answers if a.started > recovered_after]
        assert after and all(a.status in (200, 303) for a in after), "the app did not recover by itself"

    def check_nothing_half_saved(self):
        """Every version the lead moved on has its event, and no more; every 303 was saved."""
        db.session.expire_all()
        lead = db.session.get(Lead, self.lead_id)
        events = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Event)
            .where(Event.lead_id == lead.id, Event.kind == "next_action_set")
        )
        saved = sum(1 for kind, a in self.answers if kind == "POST" and a.status == 303)
        refused = sum(1 for kind, a in self.answers if kind == "POST" and a.status == 503)
        assert lead.version - self.start_version == events
        assert saved <= events <= saved + refused


@pytest.fixture
def traffic(pg_app, make, serve):
    owner = make.user("growth_ops")
    lead = make.lead(owner=owner)
    db.session.commit()
    start_version = lead.version
    cookie, token = browser_session(pg_app, owner)
    db.session.close()  # the test's own connection must not be the one a fault kills
    http = Http(serve(pg_app), cookie)
    assert http.request("GET", f"/workspace/leads/{lead.id}").status == 200
    return Traffic(http, lead.id, token, start_version)


def forget_dead_connections():
    """The engines of this process pool connections the restart closed: drop them, so later tests
    (and the run's database cleanup) start with fresh ones."""
    for obj in gc.get_objects():
        if isinstance(obj, sa.engine.Engine) and obj.dialect.name == "postgresql":
            obj.dispose()


def test_connections_killed_mid_request_give_503s_and_the_app_recovers(traffic, pg_url):
    name = pg_url.rsplit("/", 1)[1]
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with traffic:
        time.sleep(0.5)
        with admin.connect() as conn:
            for _ in range(8):
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :n AND pid <> pg_backend_pid()"
                    ),
                    {"n": name},
                )
                time.sleep(0.3)
        done = time.monotonic()
        traffic.wait_for_recovery(done)
    admin.dispose()
    traffic.check(recovered_after=done)
    traffic.check_nothing_half_saved()


def restart_postgres() -> float:
    version = max(os.listdir("/etc/postgresql"))
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        timeout=120,
        capture_output=True,
    )
    for _ in range(100):  # accepting connections again
        if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False).returncode == 0:
            break
        time.sleep(0.1)
    return time.monotonic()


def test_a_postgres_restart_gives_503s_and_the_app_recovers(traffic):
    try:
        with traffic:
            time.sleep(1.0)
            up = restart_postgres() + 0.5
            traffic.wait_for_recovery(up)
    finally:
        forget_dead_connections()
    traffic.check(recovered_after=up)
    traffic.check_nothing_half_saved()
