"""A client on an iPhone 13 reads each promise of their proposal with the audit evidence it rests on."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.links import fresh_link
from zarts.domain import approvals, evidence, gates
from zarts.extensions import db

from .test_browser import PASSWORD, phone, shot, sign_in_by_invite  # noqa: F401 (fixtures)


@pytest.mark.browser
def test_a_client_reads_the_promise_and_its_evidence_on_a_phone(phone, live_server, make, journey):  # noqa: F811
    lead = journey.to(make.lead(contact_email="buyer@client.test"), "proposal")
    approver = journey._approver()
    for item in gates.completed_audit(db.session, lead.id).items:
        approvals.decide(
            db.session,
            evidence.request_item_approval(db.session, item, lead.owner),
            approver,
            None,
            approve=True,
        )
    p = journey.draft(lead)
    journey.approve_all(p)
    journey.send(p)
    contact = journey.contact(lead)
    db.session.commit()
    scenario = {"invite": live_server + fresh_link(contact, "invite")}

    page = phone
    sign_in_by_invite(page, scenario, live_server)
    page.goto(f"{live_server}/portal/proposals/{p.id}")
    promise = page.locator("dd", has_text="CPL down 20% in 90 days")
    expect(promise).to_contain_text("Based on your audit: About 40 % of mobile visitors leave the form.")
    expect(promise).to_contain_text("Your cost per lead was 84 EUR in September.")
    expect(page.locator("body")).not_to_contain_text("Raw: form drops on iOS Safari")
    expect(page.locator("body")).not_to_contain_text("Google Ads export")
    shot(page, "promise-evidence")
    assert not page.problems, page.problems
