"""An approver approves a claim with its evidence shown beside it (Chromium, desktop)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.builders import Journey, Make
from zarts.domain import proposals
from zarts.extensions import db

from .test_browser import open_as, shot, user_dict, viewport  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture(params=["desktop"])
def viewport(request, playwright):  # noqa: F811 (desktop only here: the queue is an approver's desk)
    return request.param, {"viewport": {"width": 1280, "height": 800}}


def test_an_approver_approves_a_claim_beside_its_evidence(open_as, live_server, viewport):  # noqa: F811
    with live_server.app_context():
        make = Make()
        journey = Journey(make)
        owner = make.user("growth_ops", name="Olga Owner")
        approver = make.user("approver", name="Ada Approver")
        lead = journey.to(make.lead(owner=owner, title="Growth retainer", company="Fabrikam"), "proposal")
        parts = proposals.request_approvals(db.session, journey.draft(lead), owner)
        claim_id = next(a.id for a in parts if a.kind == "claim")
        approver = user_dict(approver)
        db.session.commit()
        db.session.remove()

    page = open_as(approver)
    page.goto("/workspace/approvals")
    item = page.locator(f"#approval-{claim_id}")
    pair = item.locator(".claim-pair")
    expect(pair).to_contain_text("CPL down 20% in 90 days")
    expect(pair).to_contain_text("About 40 % of mobile visitors leave the form.")
    expect(pair).to_contain_text("cost per lead 84 EUR, Sep 2026")
    expect(pair.locator(".internal-note").first).to_contain_text("Raw: form drops on iOS Safari")
    shot(page, "approval-claim-evidence", viewport)
    item.get_by_role("button", name="Approve").click()
    expect(page.locator(f"#approval-{claim_id}")).to_have_count(0)
    expect(page.locator(f"#decided-{claim_id}")).to_contain_text("Ada Approver")
