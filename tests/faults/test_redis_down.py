"""Redis stopped (REDIS_URL points at a port where nothing listens, so the shared Redis stays up):
every page keeps working, signing in keeps working (the sign-in limits fall back to memory), and
jobs wait in the outbox as pending rows with the error noted.

That they then run once Redis is back, exactly once, is proved in tests/jobs/test_relay.py
(test_a_deal_won_while_redis_is_down_keeps_its_job_until_redis_is_back).
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from tests.conftest import csrf_token
from tests.security.conftest import DEMO_PASSWORD, Scenario, scenario_app
from tests.security.test_headers import crawl
from zarts.domain import contracts, proposals, unit
from zarts.domain.gates import live_proposal
from zarts.extensions import db
from zarts.models import Lead, Outbox, User, today

REDIS_DOWN = "redis://127.0.0.1:6391/0"


def outbox(key_prefix: str) -> list[Outbox]:
    return list(db.session.scalars(sa.select(Outbox).where(Outbox.key.like(f"{key_prefix}%"))))


def signed_contract_lead(scenario) -> Lead:
    """A contract-stage lead whose proposal the client accepted and whose contract is signed."""
    from datetime import timedelta

    s = db.session
    lead = s.scalar(sa.select(Lead).where(Lead.stage == "contract").order_by(Lead.id))
    contact = s.scalar(sa.select(User).where(User.client_id == lead.client_id))
    with unit(s):
        p = live_proposal(s, lead.id)
        add_on = next(i["id"] for i in p.snapshot["items"] if i["kind"] == "add_on")
        proposals.accept_proposal(s, p, contact, p.version, add_on_ids=[add_on])
        contracts.update_contract(
            s,
            lead,
            lead.owner,
            None,
            state="signed",
            payment_state="invoiced",
            kickoff_date=today() + timedelta(days=7),
            onboarding_owner_id=lead.owner_id,
        )
    return lead


def test_with_redis_down_pages_and_sign_in_work_and_jobs_wait_in_the_outbox(seeded_db, tmp_path):
    app = scenario_app(
        seeded_db, tmp_path, REDIS_URL=REDIS_DOWN, RATELIMIT_ENABLED=True, SMTP_URL="smtp://127.0.0.1:2599"
    )
    with app.app_context():
        scenario = Scenario(app)

        # Signing in through the form: the limiter's Redis storage is down, it counts in memory.
        browser = app.test_client()
        resp = browser.post(
            "/login",
            data={
                "email": scenario.admin.email,
                "password": DEMO_PASSWORD,
                "csrf_token": csrf_token(browser),
            },
        )
        assert resp.status_code == 302 and resp.headers["Location"] == "/workspace/"

        # Every page (one per route, each as its role) answers. The bound is far above any
        # machine's noise: it only catches a page that hangs on Redis connect timeouts.
        hung, seen = [], set()
        pages = crawl(scenario, one_per_endpoint=seen)
        while True:
            started = time.monotonic()
            try:
                page, resp = next(pages)
            except StopIteration:
                break
            assert resp.status_code < 500, (page.url, resp.status_code)
            if time.monotonic() - started > 15:
                hung.append(page.url)
        assert len(seen) > 60 and not hung, hung

        jobs = browser.get("/jobs/?status=pending").get_data(as_text=True)
        assert "Redis is unreachable" in jobs

        # A password reset e-mail waits in the outbox.
        staff = scenario.owner
        before = {row.id for row in outbox("email:")}
        resp = browser.post("/reset", data={"email": staff.email, "csrf_token": csrf_token(browser)})
        assert resp.status_code == 302
        waiting = [row for row in outbox("email:") if row.id not in before]
        assert waiting and all(
            row.status == "pending" and "Redis unreachable" in row.last_error for row in waiting
        )

        # Winning a deal commits, and its handoff waits in the outbox.
        lead = signed_contract_lead(scenario)
        resp = browser.post(
            f"/workspace/leads/{lead.id}/won",
            data={"version": lead.version, "csrf_token": csrf_token(browser)},
        )
        assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
        db.session.expire_all()
        assert db.session.get(Lead, lead.id).stage == "won"
        (handoff,) = outbox(f"handoff:{lead.id}")
        assert (
            handoff.status == "pending"
            and handoff.attempts == 0
            and "Redis unreachable" in handoff.last_error
        )
        db.session.remove()
