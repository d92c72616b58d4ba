"""The workspace in a real browser (Chromium via Playwright) on desktop and on an iPhone 13 viewport.

Each scenario signs in through the login form against a real server thread and checks that the
strict CSP holds (no violation reported in the console). Screenshots land in
test-artifacts/screenshots/.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.builders import PASSWORD, Journey, Make
from zarts.domain import proposals
from zarts.extensions import db
from zarts.models import Task, today

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
VIEWPORTS = ["desktop", "iphone"]


@pytest.fixture(params=VIEWPORTS)
def viewport(request, playwright):
    if request.param == "desktop":
        return request.param, {"viewport": {"width": 1280, "height": 800}}
    device = {k: v for k, v in playwright.devices["iPhone 13"].items() if k != "default_browser_type"}
    return request.param, device


@pytest.fixture
def open_as(browser, live_server, viewport):
    """A signed-in page for a user, in its own browser context (cookies), on the chosen viewport."""
    contexts = []
    problems: list[str] = []

    def _open(user):
        context = browser.new_context(base_url=live_server.config["BASE_URL"], **viewport[1])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.goto("/login")
        page.get_by_label("Email").fill(user["email"])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Pipeline")).to_be_visible()
        # The heading shows before the deferred scripts (htmx, board.js, search.js) have run; "load"
        # fires after them, so a key pressed next is the page's, not a plain form's.
        page.wait_for_load_state("load")
        return page

    yield _open
    for context in contexts:
        context.close()
    csp = [p for p in problems if "Content Security Policy" in p or "Refused to" in p]
    assert not csp, csp


@pytest.fixture
def seed(live_server):
    """Run a set-up function against the live database; returns what it returns (plain values)."""

    def _seed(fn):
        with live_server.app_context():
            result = fn(Make(), Journey(Make()))
            db.session.commit()
            db.session.remove()
            return result

    return _seed


def shot(page, name, viewport):
    """Save the screenshot, and check the page fits its width (the board scrolls inside itself)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{viewport[0]}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{name} is {overflow}px wider than the {viewport[0]} viewport"


def user_dict(user):
    return {"id": user.id, "email": user.email}


def test_move_a_card_see_the_gate_refusal_fix_it_and_move(open_as, seed, viewport):
    def data(make, journey):
        owner = make.user("growth_ops", name="Olga Owner")
        ready = make.lead(owner=owner, title="Ready to qualify", company="Northwind")
        blocked = make.lead(
            owner=owner, title="No decision owner yet", company="Contoso", decision_owner=None
        )
        return user_dict(owner), ready.id, blocked.id

    owner, ready, blocked = seed(data)
    page = open_as(owner)
    page.goto("/workspace/?owner=me")

    card = page.locator(f"#card-{ready}")
    card.locator("select[name=stage]").select_option("qualified")
    card.get_by_role("button", name="Move").click()
    moved = page.locator(f"#cards-qualified #card-{ready}")
    expect(moved).to_contain_text("Moved to Qualified")
    expect(page.locator(f"#cards-new #card-{ready}")).to_have_count(0)

    card = page.locator(f"#card-{blocked}")
    card.locator("select[name=stage]").select_option("qualified")
    card.get_by_role("button", name="Move").click()
    expect(card).to_contain_text("Decision owner is missing")
    shot(page, "board", viewport)

    card.get_by_role("link", name="Decision owner is missing").click()
    expect(page).to_have_url(f"{page.url.split('/workspace')[0]}/workspace/leads/{blocked}#qualification")
    section = page.locator("#qualification")
    section.get_by_label("Decision owner").fill("Head of marketing")
    section.get_by_role("button", name="Save qualification").click()
    expect(page.locator("#qualification")).to_contain_text("Qualification saved.")
    expect(page.locator("#qualification")).to_contain_text("Met")
    shot(page, "lead", viewport)

    page.goto("/workspace/?owner=me")
    card = page.locator(f"#card-{blocked}")
    card.locator("select[name=stage]").select_option("qualified")
    card.get_by_role("button", name="Move").click()
    expect(page.locator(f"#cards-qualified #card-{blocked}")).to_contain_text("Moved to Qualified")


def test_approver_approves_the_parts_and_the_proposal_can_be_sent(open_as, seed, viewport):
    def data(make, journey):
        owner = make.user("growth_ops", name="Olga Owner")
        approver = make.user("approver", name="Ada Approver")
        lead = journey.to(make.lead(owner=owner, title="Growth retainer", company="Fabrikam"), "proposal")
        proposal = journey.draft(lead)
        parts = proposals.request_approvals(db.session, proposal, owner)
        return user_dict(owner), user_dict(approver), lead.id, [a.id for a in parts]

    owner, approver, lead_id, parts = seed(data)
    follow_up = (today() + timedelta(days=2)).isoformat()
    deadline = (today() + timedelta(days=14)).isoformat()

    seller = open_as(owner)
    seller.goto(f"/workspace/leads/{lead_id}#proposal")
    send_box = seller.locator("#proposal .send-box")
    send_box.get_by_label("Follow-up date").fill(follow_up)
    send_box.get_by_label("Decision deadline").fill(deadline)
    send_box.get_by_role("button", name="Send proposal").click()
    expect(seller.locator("#proposal")).to_contain_text("Pricing is not approved")

    reviewer = open_as(approver)
    reviewer.goto("/workspace/approvals")
    for approval_id in parts:
        item = reviewer.locator(f"#approval-{approval_id}")
        expect(item).to_contain_text("Forms lose 30% on mobile")  # the evidence beside the claim
        item.get_by_role("button", name="Approve").click()
        expect(reviewer.locator(f"#approval-{approval_id}")).to_have_count(0)
        expect(reviewer.locator(f"#decided-{approval_id}")).to_contain_text("Ada Approver")

    seller.reload()  # the seller's page was open all along: reload it to see the decisions
    expect(seller.locator("#approval")).to_contain_text("Met")
    send_box = seller.locator("#proposal .send-box")
    send_box.get_by_label("Follow-up date").fill(follow_up)
    send_box.get_by_label("Decision deadline").fill(deadline)
    send_box.get_by_role("button", name="Send proposal").click()
    expect(seller.locator("#proposal")).to_contain_text("Proposal sent.")
    expect(seller.locator("#stage")).to_contain_text("Contract (proposal sent)")


def test_tick_a_task_done_and_see_the_dashboard(open_as, seed, viewport):
    def data(make, journey):
        owner = make.user("growth_ops", name="Olga Owner")
        lead = make.lead(owner=owner, company="Litware")
        task = Task(
            kind="follow_up",
            title="Send the recap to Litware",
            owner_id=owner.id,
            due=today(),
            lead_id=lead.id,
        )
        db.session.add(task)
        journey.to(make.lead(owner=owner, company="Adatum"), "contract")
        db.session.flush()
        return user_dict(owner), task.id

    owner, task_id = seed(data)
    page = open_as(owner)
    page.get_by_role("link", name="My tasks").click()
    row = page.locator(f"#task-{task_id}")
    expect(row).to_contain_text("Send the recap to Litware")
    row.get_by_role("button", name="Mark done").click()
    expect(page.locator(f"#task-{task_id}")).to_have_class("task done")
    expect(page.locator(f"#task-{task_id}").get_by_role("button")).to_have_text("Undo")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Open pipeline by stage")).to_be_visible()
    expect(page.locator("svg.chart").first).to_be_visible()
    shot(page, "dashboard", viewport)


def test_after_a_win_my_tasks_shows_only_live_tasks(open_as, seed, viewport):
    """The owner wins a deal on the lead page; My tasks no longer lists its follow-up and contract
    steps (the win closed them), and the lead's next action is the kickoff."""
    from zarts.domain import contracts

    def data(make, journey):
        owner = make.user("growth_ops", name="Olga Owner")
        onboarding = make.user("delivery", name="Dora Delivery")
        lead = journey.to(make.lead(owner=owner, title="Retainer", company="Tailspin"), "accepted")
        contracts.update_contract(
            db.session,
            lead,
            owner,
            None,
            state="signed",
            payment_state="invoiced",
            kickoff_date=today() + timedelta(days=7),
            onboarding_owner_id=onboarding.id,
        )
        return user_dict(owner), lead.id

    owner, lead_id = seed(data)
    page = open_as(owner)
    page.goto("/workspace/tasks")
    open_tasks = page.locator("#tasks-overdue, #tasks-today, #tasks-upcoming")
    expect(open_tasks.filter(has_text="Follow up on proposal v1 with Tailspin")).not_to_have_count(0)

    page.goto(f"/workspace/leads/{lead_id}#handoff")
    page.locator("#handoff").get_by_role("button", name="Mark won").click()
    expect(page.locator("#stage")).to_contain_text("Won")
    expect(page.locator("main")).to_contain_text("Kickoff with Tailspin")  # the next action now

    page.goto("/workspace/tasks")
    for stale in (
        "Follow up on proposal v1 with Tailspin",
        "Confirm kickoff and onboarding owner with Tailspin",
    ):
        expect(open_tasks.filter(has_text=stale)).to_have_count(0)
    shot(page, "tasks-after-win", viewport)
