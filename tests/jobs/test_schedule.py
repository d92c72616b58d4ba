"""The scheduler (`zarts schedule`) and worker entry (`zarts worker`)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from zarts.extensions import db
from zarts.jobs.queue import queue
from zarts.jobs.worker import Scheduler
from zarts.models import Report


def test_without_redis_the_scheduler_runs_each_sweep_inline_on_its_interval(app):
    s = Scheduler(app)
    assert s.lead()  # no Redis: the one process leads
    assert s.tick(now=0) == ["relay", "reminders", "cadence", "pipeline_weekly", "dashboard", "prune_outbox"]
    assert s.tick(now=5) == []
    assert s.tick(now=app.config["JOBS_RELAY_SECONDS"] + 1) == ["relay"]
    db.session.expire_all()
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Report).where(Report.kind == "pipeline_weekly")
        )
        == 1
    )


def test_zarts_schedule_once_and_worker_without_redis(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["schedule", "--once"]).exit_code == 0
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL is not set" in result.output
    relayed = runner.invoke(args=["relay"])
    assert relayed.exit_code == 0 and "nothing to relay" in relayed.output


def _sweep_jobs(name: str) -> list[str]:
    return [j for j in queue().job_ids if f"sweep_{name}_" in j]


@pytest.mark.pg
@pytest.mark.redis
def test_only_one_scheduler_leads_and_a_takeover_runs_every_sweep_on_its_first_tick(rq_app):
    """The reminder sweep's job id is per interval; a scheduler that takes over in an interval whose
    sweep the previous leader already ran still runs it on its first tick (it is due now), and then
    once per interval."""
    rq_app.config["REMINDER_SWEEP_SECONDS"] = 3600  # one wall-clock interval for the whole test
    first, second = Scheduler(rq_app), Scheduler(rq_app)
    try:
        assert first.lead() and not second.lead()
        assert "reminders" in first.tick(now=0)
        assert first.lead()  # renewing its lock
        assert "reminders" not in first.tick(now=1)
        assert len(_sweep_jobs("reminders")) == 1
        first.release()  # the leader stops (or its lock expired after it died)

        assert second.lead()
        assert "reminders" in second.tick(now=2)  # the takeover's first tick: not skipped
        assert len(_sweep_jobs("reminders")) == 2
        assert "reminders" not in second.tick(now=3)
        assert len(_sweep_jobs("reminders")) == 2
        assert "reminders" in second.tick(now=3602)  # an interval later, under that interval's id
        second.dispatch("reminders")  # a stand-by that briefly thought it led: no second job
        assert len(_sweep_jobs("reminders")) == 3
    finally:
        first.release()
        second.release()


def test_rq_job_ids_come_from_the_outbox_key_sanitised(app):
    from zarts.jobs.queue import job_id

    assert job_id("handoff:12", "zarts") == "zarts-handoff_12"
    assert job_id("reminder:task:5:2026-03-02 x/y", "q.1") == "q_1-reminder_task_5_2026-03-02_x_y"
