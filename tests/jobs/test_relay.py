"""The outbox relay against the real PostgreSQL and Redis: nothing lost, nothing done twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from zarts.domain import trail
from zarts.extensions import db
from zarts.jobs.queue import connection, job_id, queue
from zarts.jobs.relay import sweep
from zarts.jobs.runner import run_outbox
from zarts.models import Outbox, Project, utcnow

from .conftest import outbox_row, run_burst
from .test_handoff import expected_for, handoff_records

pytestmark = [pytest.mark.pg, pytest.mark.redis]

CLOSED_PORT = "redis://127.0.0.1:6390/0"


def make_due(key: str) -> None:
    """Let the scheduled relay look at the row now (instead of after its backoff or lease)."""
    db.session.execute(
        sa.update(Outbox).where(Outbox.key == key).values(available_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


def test_a_deal_won_while_redis_is_down_keeps_its_job_until_redis_is_back(rq_app, deals, redis_url):
    # The deal's other jobs (notifications) wait an hour: only the handoff is made due below.
    rq_app.config.update(REDIS_URL=CLOSED_PORT, JOBS_RELAY_RETRY_SECONDS=3600)
    deal = deals.won()  # the commit succeeds although the relay cannot reach Redis
    key = f"handoff:{deal.lead_id}"
    row = outbox_row(key)
    assert row.status == "pending" and "Redis unreachable" in row.last_error and row.attempts == 0
    assert handoff_records(deal.lead_id)["projects"] == 0

    rq_app.config["REDIS_URL"] = redis_url
    make_due(key)
    assert sweep()["enqueued"] == 1
    assert outbox_row(key).status == "dispatched"
    run_burst(rq_app)
    assert outbox_row(key).status == "done"
    assert handoff_records(deal.lead_id) == expected_for()

    make_due(key)  # the schedule keeps running: nothing is enqueued or created again
    assert sweep()["enqueued"] == 0
    run_burst(rq_app)
    assert handoff_records(deal.lead_id) == expected_for()


def test_the_same_handoff_delivered_twice_or_at_once_creates_each_record_once(rq_app, deals):
    rq_app.config["JOBS_RELAY_AFTER_COMMIT"] = False
    first, second = deals.won(), deals.won()
    row = outbox_row(f"handoff:{first.lead_id}")
    q = queue()
    q.enqueue(run_outbox, row.id)  # delivered twice (RQ is at least once with retries)
    q.enqueue(run_outbox, row.id)
    run_burst(rq_app)
    assert handoff_records(first.lead_id) == expected_for()

    other = outbox_row(f"handoff:{second.lead_id}").id
    barrier, errors = threading.Barrier(3), []

    def deliver():
        with rq_app.app_context():
            barrier.wait()
            try:
                run_outbox(other)
            except Exception as exc:  # noqa: BLE001 - a loser may retry; what matters is the records
                errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if errors:  # a run that lost a race is retried by RQ: do the same
        run_outbox(other)
    assert outbox_row(f"handoff:{second.lead_id}").status == "done"
    assert handoff_records(second.lead_id) == expected_for()


def test_two_relays_at_once_hand_each_row_to_rq_exactly_once(rq_app, deals, make):
    rq_app.config.update(JOBS_RELAY_AFTER_COMMIT=False, JOBS_RELAY_BATCH=3)
    won = [deals.won(revise=False), deals.won(revise=False)]
    stray = make.lead()  # rows of a lead that is not won: the relay moves them all the same
    for i in range(30):
        trail.enqueue(db.session, "handoff", f"handoff:{stray.id}:probe:{i}", lead_id=stray.id)
    db.session.commit()
    # The two handoffs, the 30 probes and the notify jobs the two deals queued (zarts.jobs.notify)
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(Outbox).where(Outbox.status == "pending")
    )
    assert total > 32
    barrier, results = threading.Barrier(2), []

    def run_relay():
        with rq_app.app_context():
            barrier.wait()
            results.append(sweep())

    threads = [threading.Thread(target=run_relay) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(r["enqueued"] for r in results) == total
    assert sum(r["already_queued"] for r in results) == 0  # SKIP LOCKED: disjoint rows
    assert queue().count == total
    statuses = db.session.execute(sa.select(Outbox.status, sa.func.count()).group_by(Outbox.status)).all()
    assert dict(statuses) == {"dispatched": total}
    run_burst(rq_app)
    for deal in won:
        assert handoff_records(deal.lead_id) == expected_for()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Project)) == 2


def test_a_job_redis_lost_is_redriven_when_its_lease_expires(rq_app, deals):
    deal = deals.won()
    key = f"handoff:{deal.lead_id}"
    assert outbox_row(key).status == "dispatched"
    connection().delete(f"rq:job:{job_id(key)}")  # Redis restarted without its data
    queue().empty()
    make_due(key)
    got = sweep()
    assert got["redriven"] == 1 and got["enqueued"] == 1
    run_burst(rq_app)
    assert outbox_row(key).status == "done"
    assert handoff_records(deal.lead_id) == expected_for()


def test_a_job_that_keeps_failing_ends_failed_in_the_outbox_and_in_rqs_failed_registry(rq_app, deals):
    rq_app.config.update(JOBS_FAULT="handoff:client:raise", JOBS_RETRY_INTERVALS=[0])
    deal = deals.won()
    key = f"handoff:{deal.lead_id}"
    run_burst(rq_app)  # first attempt fails, the retry (interval 0) runs at once and fails again
    row = outbox_row(key)
    assert row.status == "failed" and row.attempts == 2 and "injected fault" in row.last_error
    assert job_id(key) in queue().failed_job_registry.get_job_ids()
