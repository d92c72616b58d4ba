"""Outbox retention: done rows older than JOBS_OUTBOX_RETENTION_DAYS are pruned in id batches, and
nothing still owed is; /jobs/ shows the outbox's size."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from zarts.domain import trail
from zarts.extensions import db
from zarts.jobs.runner import run_sweep
from zarts.models import Outbox, utcnow


def _rows(n: int, *, status: str, age_days: int, prefix: str) -> None:
    then = utcnow() - timedelta(days=age_days)
    db.session.execute(
        sa.insert(Outbox),
        [
            {
                "job": "notify",
                "key": f"{prefix}:{i}",
                "payload": {},
                "status": status,
                "attempts": 1,
                "available_at": then,
                "created_at": then,
                "done_at": then if status == "done" else None,
            }
            for i in range(n)
        ],
    )
    db.session.commit()


def _count(*where) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Outbox).where(*where))


def test_done_rows_past_the_retention_are_pruned_in_batches_and_nothing_owed_is(app):
    app.config.update(JOBS_OUTBOX_RETENTION_DAYS=30, JOBS_PRUNE_BATCH=7, JOBS_RELAY_AFTER_COMMIT=False)
    _rows(40, status="done", age_days=45, prefix="old-done")
    _rows(3, status="failed", age_days=45, prefix="old-failed")  # visible until someone retries it
    _rows(2, status="pending", age_days=45, prefix="old-pending")  # still owed
    _rows(5, status="done", age_days=3, prefix="recent-done")

    from zarts.jobs.retention import prune_outbox

    got = prune_outbox(db.session)
    assert got["pruned"] == 40 and got["batches"] >= 40 // 7
    assert _count(Outbox.key.like("old-done:%")) == 0
    assert _count(Outbox.key.like("old-failed:%")) == 3 and _count(Outbox.key.like("old-pending:%")) == 2
    assert _count(Outbox.key.like("recent-done:%")) == 5
    assert "0 done rows pruned" in run_sweep("prune_outbox")  # the scheduler's sweep: nothing left


def test_a_pruned_handoff_key_enqueued_again_does_not_hand_off_twice(app, deals):
    """`enqueue` dedupes by the outbox key, which pruning frees; the handoff itself is once-only."""
    from tests.jobs.test_handoff import expected_for, handoff_records

    deal = deals.won()
    key = f"handoff:{deal.lead_id}"
    assert handoff_records(deal.lead_id) == expected_for()
    db.session.execute(
        sa.update(Outbox)
        .where(Outbox.status == "done")
        .values(done_at=utcnow() - timedelta(days=31), created_at=utcnow() - timedelta(days=31))
    )
    db.session.commit()
    from zarts.jobs.retention import prune_outbox

    assert prune_outbox(db.session)["pruned"] >= 1 and _count(Outbox.key == key) == 0
    trail.enqueue(db.session, "handoff", key, lead_id=deal.lead_id)  # as if the win were queued again
    db.session.commit()  # its relay runs it inline
    assert _count(Outbox.key == key, Outbox.status == "done") == 1
    assert handoff_records(deal.lead_id) == expected_for()


def test_the_jobs_page_shows_the_outbox_size(app, client, auth, make):
    app.config["JOBS_RELAY_AFTER_COMMIT"] = False
    _rows(3, status="done", age_days=1, prefix="d")
    _rows(2, status="failed", age_days=1, prefix="f")
    admin = make.user("admin")
    db.session.commit()
    auth.login_as(admin)
    page = client.get("/jobs/").get_data(as_text=True)
    assert "Outbox size: 5 jobs" in page and "done 3" in page and "failed 2" in page
    assert "pruned after 30 days" in page
