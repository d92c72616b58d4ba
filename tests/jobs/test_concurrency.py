"""Two runs at once, on PostgreSQL: one outbox row run by two threads hands off once and the second
says "already done" (no error); two "mark won" on one deal: one wins, the other is told the deal
changed meanwhile."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from zarts.domain import Conflict, DomainError, pipeline, unit
from zarts.extensions import db
from zarts.models import Lead, Outbox, User

from .conftest import outbox_row
from .test_handoff import expected_for, handoff_records

pytestmark = pytest.mark.pg


def _together(n: int, work):
    """Run `work(i)` in n threads started at once; their results (or exceptions) in order."""
    barrier, results = threading.Barrier(n), [None] * n

    def run(i):
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test looks at what each run met
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_one_outbox_row_run_twice_at_once_hands_off_once_and_the_second_says_already_done(
    pg_app, deals, caplog
):
    from zarts.jobs.runner import execute

    pg_app.config["JOBS_FAULT"] = "handoff:client:raise"
    deal = deals.won()  # its inline run failed before doing anything: the row waits for a retry
    row_id = outbox_row(f"handoff:{deal.lead_id}").id
    # The first run holds the lead's lock a while, so the second surely waits for it.
    pg_app.config.update(JOBS_FAULT="handoff:checklist:sleep:1", JOBS_RELAY_AFTER_COMMIT=False)

    def work(_):
        with pg_app.app_context():
            return execute(row_id, inline=True)

    caplog.clear()
    results = _together(2, work)
    assert sorted(results) == [
        f"handoff of lead {deal.lead_id}: already done",
        f"handoff of lead {deal.lead_id}: done",
    ], results
    assert "IntegrityError" not in caplog.text and " failed" not in caplog.text
    assert outbox_row(f"handoff:{deal.lead_id}").status == "done"
    assert handoff_records(deal.lead_id) == expected_for()


def test_two_wins_of_one_deal_at_once_one_wins_and_the_other_is_told_it_changed_meanwhile(
    pg_app, make, journey
):
    pg_app.config["JOBS_RELAY_AFTER_COMMIT"] = False
    lead = make.lead()
    journey.to(lead, "accepted")
    journey.sign(lead)
    db.session.commit()
    lead_id, owner_id, seen = lead.id, lead.owner_id, lead.version  # what both users' pages show

    def win(_):
        with pg_app.app_context():
            session = Session(bind=db.engine)
            try:
                mine = session.get(Lead, lead_id)
                with unit(session):
                    pipeline.mark_won(session, mine, session.get(User, owner_id), seen)
                return "won"
            except DomainError as exc:
                return exc
            finally:
                session.close()

    for _ in range(3):  # the interleaving differs from run to run: each must end the same way
        results = _together(2, win)
        assert results.count("won") <= 1
        if results.count("won") == 1:
            break
    loser = next(r for r in results if r != "won")
    assert isinstance(loser, Conflict), repr(loser)
    assert "changed by someone else" in str(loser) and "proposal first" not in str(loser)
    db.session.expire_all()
    assert db.session.get(Lead, lead_id).stage == "won"
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Outbox).where(Outbox.key == f"handoff:{lead_id}")
        )
        == 1
    )
