"""A client report on phones (iPhone 13 viewport, Chromium): the owner publishes the approved report from
the workspace, the client opens it from the portal's Reports and reads the approved note only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.builders import PASSWORD
from tests.portal.test_browser import shot
from zarts.domain import approvals, cadence, publication
from zarts.extensions import db
from zarts.models import today


@pytest.fixture
def phones(browser, playwright, live_server):
    device = {k: v for k, v in playwright.devices["iPhone 13"].items() if k != "default_browser_type"}
    contexts, problems = [], []

    def _open(email):
        context = browser.new_context(base_url=live_server, **device)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on(
            "console",
            lambda msg: msg.type == "error"
            and not msg.text.startswith("Failed to load resource")
            and problems.append(msg.text),
        )
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        return page

    yield _open
    for context in contexts:
        context.close()
    assert problems == [], problems


@pytest.fixture
def approved_report(make):
    """Last month's cadence report: summary and one client-safe note approved, one internal note."""
    owner, approver = make.user("growth_ops", name="Olga Owner"), make.user("approver")
    client = make.client(name="Harbour Bakery", status="active")
    contact = make.user("client", client=client)
    start, end = cadence.period_for("monthly", today().replace(day=1) - timedelta(days=1))
    report = cadence.ensure_client_report(db.session, client, start, end, owner_id=owner.id)
    publication.update_report(
        db.session,
        report,
        owner,
        report.version,
        client_summary="Leads up 12% on last month, cost per lead down to 61 EUR.",
    )
    note = publication.add_note(
        db.session,
        owner,
        body="In June we test the new booking page.",
        visibility="client_safe",
        report=report,
    )
    publication.add_note(
        db.session, owner, body="Internal: renegotiate the ads budget.", visibility="internal", report=report
    )
    for a in (
        publication.request_report_approval(db.session, report, owner),
        publication.request_note_approval(db.session, note, owner),
    ):
        approvals.decide(db.session, a, approver, a.version, approve=True)
    db.session.commit()
    return {"report": report.id, "title": report.title, "owner": owner.email, "contact": contact.email}


@pytest.mark.browser
def test_owner_publishes_and_the_client_reads_the_report_on_a_phone(phones, approved_report, live_server):
    r = approved_report
    staff = phones(r["owner"])
    staff.get_by_role("link", name="Reports", exact=True).click()
    staff.get_by_role("link", name=r["title"]).click()
    staff.wait_for_url(re.compile(rf"/workspace/reports/{r['report']}$"))
    staff.get_by_role("button", name="Publish").click()
    staff.get_by_text("Published: the client can read it in the portal.").wait_for()
    shot(staff, "report-published-staff")

    phone = phones(r["contact"])
    phone.wait_for_url(f"{live_server}/portal/")
    phone.get_by_role("link", name="Reports", exact=True).click()
    phone.get_by_role("link", name=r["title"]).click()
    phone.wait_for_url(re.compile(rf"/portal/reports/{r['report']}$"))
    body = phone.locator("article.report")
    assert "Leads up 12% on last month, cost per lead down to 61 EUR." in body.inner_text()
    assert "In June we test the new booking page." in body.inner_text()
    assert "renegotiate" not in phone.content()
    shot(phone, "report")
