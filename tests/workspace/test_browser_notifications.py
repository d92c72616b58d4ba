# ruff: noqa: F811  (the imported fixtures are the test's arguments)
"""The bell in a real browser: an approval is requested, and the approver's bell shows it after the
next poll (the page's clock is fast-forwarded past htmx's 30 s trigger), without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from zarts.domain import approvals
from zarts.extensions import db
from zarts.models import Lead, Proposal, User

# The fixtures of the workspace's browser tests (pytest finds them by name in this module).
from .test_browser import open_as, seed, shot, viewport  # noqa: F401

pytestmark = pytest.mark.browser


def test_the_approvers_bell_shows_a_requested_approval_after_the_poll(open_as, seed, viewport, live_server):
    def setup(make, journey):
        approver = make.user("approver", name="Ada Approver")
        owner = make.user("growth_ops", name="Olga Owner")
        lead = journey.to(make.lead(owner=owner, company="Bellwether Ltd"), "proposal")
        proposal = journey.draft(lead)
        return {"email": approver.email, "owner_id": owner.id, "lead_id": lead.id, "proposal_id": proposal.id}

    data = seed(setup)
    page = open_as(data)
    page.clock.install()
    page.goto("/workspace/tasks")
    bell = page.get_by_role("link", name="Notifications")
    expect(bell).to_be_visible()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#bell-count")).to_have_count(0)  # nothing yet

    with live_server.app_context():  # the owner asks; the notify job runs after that commit
        owner = db.session.get(User, data["owner_id"])
        approvals.request_approval(
            db.session,
            owner,
            kind="summary",
            content="A 3-month plan",
            lead=db.session.get(Lead, data["lead_id"]),
            proposal=db.session.get(Proposal, data["proposal_id"]),
        )
        db.session.commit()
        db.session.remove()

    page.clock.run_for(31_000)
    expect(page.locator("#bell-count")).to_have_text("1 unread")
    expect(page.locator("#approvals-count")).to_contain_text("pending")  # the queue's, across both viewports
    shot(page, "notifications-bell", viewport)

    bell.click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    title = "Olga Owner asks you to review the proposal summary for Bellwether Ltd"
    page.get_by_role("button", name=title).click()
    expect(page.get_by_role("button", name="Approve").first).to_be_visible()  # the approval, to decide
    expect(page.locator("#bell-count")).to_have_count(0)  # opened: read
