"""/jobs/: admins see the outbox by status and RQ's failed jobs, and re-drive a row."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from zarts.extensions import db
from zarts.jobs.queue import job_id
from zarts.models import Outbox

from .conftest import outbox_row, run_burst
from .test_handoff import expected_for, handoff_records


def test_only_admins_open_the_jobs_page(app, client, auth, make):
    assert client.get("/jobs/").status_code == 302
    auth.login_as(make.user("growth_ops"))
    db.session.commit()
    assert client.get("/jobs/").status_code == 403
    assert auth.post("/jobs/outbox/1/retry").status_code == 403


def test_an_admin_retries_a_failed_handoff_and_it_completes(app, client, auth, make, deals):
    app.config["JOBS_FAULT"] = "handoff:packet:raise"
    deal = deals.won()
    key = f"handoff:{deal.lead_id}"
    db.session.execute(sa.update(Outbox).where(Outbox.key == key).values(status="failed"))  # retries used up
    admin = make.user("admin")
    db.session.commit()
    auth.login_as(admin)
    page = client.get("/jobs/?status=failed").get_data(as_text=True)
    assert key in page and "injected fault" in page and "Retry" in page
    app.config["JOBS_FAULT"] = None
    row = outbox_row(key)
    response = auth.post(f"/jobs/outbox/{row.id}/retry", data={"status": "failed"})
    assert response.status_code == 302
    assert outbox_row(key).status == "done"
    assert handoff_records(deal.lead_id) == expected_for()
    done = db.session.scalar(sa.select(sa.func.count()).select_from(Outbox).where(Outbox.status == "done"))
    assert done > 1  # the handoff and the notify jobs of the deal (zarts.jobs.notify)
    assert f"Done ({done})" in client.get("/jobs/?status=done").get_data(as_text=True)


@pytest.mark.pg
@pytest.mark.redis
def test_jobs_rq_gave_up_on_are_listed_for_admins(rq_app, make, deals):
    rq_app.config.update(JOBS_FAULT="handoff:client:raise", JOBS_RETRY_INTERVALS=[0])
    deal = deals.won()
    run_burst(rq_app)
    admin = make.user("admin")
    db.session.commit()
    page = rq_app.test_client()
    with page.session_transaction() as sess:
        sess["_user_id"], sess["_fresh"] = admin.get_id(), True
    html = page.get("/jobs/").get_data(as_text=True)
    assert job_id(f"handoff:{deal.lead_id}") in html and "injected fault" in html
