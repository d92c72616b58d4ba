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
    assert s.tick(now=0) == ["relay", "reminders", "cadence", "pipeline_weekly", "dashboard"]
    assert s.tick(now=5) == []
    assert s.tick(now=app.config["JOBS_RELAY_SECONDS"] + 1) == ["relay"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)
                             .where(Report.kind == "pipeline_weekly")) == 1


def test_zarts_schedule_once_and_worker_without_redis(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["schedule", "--once"]).exit_code == 0
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL is not set" in result.output
    relayed = runner.invoke(args=["relay"])
    assert relayed.exit_code == 0 and "nothing to relay" in relayed.output


@pytest.mark.pg
@pytest.mark.redis
def test_only_one_scheduler_leads_and_a_sweep_is_enqueued_once_per_interval(rq_app):
    first, second = Scheduler(rq_app), Scheduler(rq_app)
    try:
        assert first.lead() and not second.lead()
        assert first.lead()  # renewing its lock
        first.dispatch("reminders")
        second.dispatch("reminders")  # a stand-by that briefly thought it led: still one job
        assert queue().count == 1
        first.release()
        assert second.lead()
    finally:
        first.release()
        second.release()


def test_rq_job_ids_come_from_the_outbox_key_sanitised(app):
    from zarts.jobs.queue import job_id

    assert job_id("handoff:12", "zarts") == "zarts-handoff_12"
    assert job_id("reminder:task:5:2026-03-02 x/y", "q.1") == "q_1-reminder_task_5_2026-03-02_x_y"
