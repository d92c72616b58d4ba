"""The client conversation end to end in Chromium, on desktop and on an iPhone 13 viewport: the client
writes in the portal, staff see it in the inbox and reply, the client sees the reply with the unread
badge on the portal navigation. The strict CSP holds throughout (no violation in the console)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.builders import PASSWORD, Make
from zarts.extensions import db

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(params=["desktop", "iphone"])
def viewport(request, playwright):
    if request.param == "desktop":
        return request.param, {"viewport": {"width": 1280, "height": 800}}
    device = {k: v for k, v in playwright.devices["iPhone 13"].items() if k != "default_browser_type"}
    return request.param, device


@pytest.fixture
def sign_in_as(browser, live_server, viewport):
    """A page signed in through the login form, each user in their own browser context."""
    contexts, problems = [], []

    def _sign_in(email: str):
        context = browser.new_context(base_url=live_server.config["BASE_URL"], **viewport[1])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        return page

    yield _sign_in
    for context in contexts:
        context.close()
    csp = [p for p in problems if "Content Security Policy" in p or "Refused to" in p]
    assert not csp, csp


def shot(page, name, viewport):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"conversation-{name}-{viewport[0]}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{name} is {overflow}px wider than the {viewport[0]} viewport"


def test_client_writes_staff_replies_from_the_inbox_client_sees_it(live_server, sign_in_as, viewport):
    with live_server.app_context():
        make = Make()
        owner = make.user("growth_ops", name="Olga Owner")
        client = make.client(f"Wingtip Toys {viewport[0]}")
        contact = make.user("client", client=client, name="Carla Contact")
        make.lead(owner=owner, client_id=client.id, title="Wingtip SEO", company=client.name)
        emails, client_name = (owner.email, contact.email), client.name
        db.session.commit()
        db.session.remove()
    question = f"Can we move the kickoff to Monday? ({viewport[0]})"
    answer = f"Monday at 10 works for us. ({viewport[0]})"

    # The client writes in the portal.
    portal = sign_in_as(emails[1])
    portal.goto("/portal/messages")
    portal.get_by_label("Message to the team").fill(question)
    portal.get_by_role("button", name="Send").click()
    portal.locator(".thread .msg-in").filter(has_text=question).wait_for()
    expect(portal.locator(".unread-badge")).to_have_count(0)

    # Staff find it in the inbox (linked from the nav) and reply in place.
    staff = sign_in_as(emails[0])
    staff.goto("/workspace/")
    staff.get_by_role("link", name="Inbox").click()
    item = staff.locator(".inbox-item").filter(has_text=question)
    expect(item).to_contain_text(client_name)
    expect(item).to_contain_text("Wingtip SEO")
    shot(staff, "inbox", viewport)
    item.get_by_label(f"Reply to {client_name}").fill(answer)
    item.get_by_role("button", name="Send reply").click()
    expect(staff.locator("#inbox")).to_contain_text(f"Reply sent to {client_name}")
    expect(staff.locator(".inbox-item").filter(has_text=question)).to_have_count(0)

    # The client sees the unread badge, then the reply; opening the thread reads it.
    portal.goto("/portal/")
    expect(portal.locator(".nav-messages .unread-badge")).to_contain_text("1")
    shot(portal, "badge", viewport)
    portal.locator(".nav-messages").click()
    expect(portal.locator(".thread .msg-out").filter(has_text=answer)).to_be_visible()
    expect(portal.locator(".unread-badge")).to_have_count(0)
    shot(portal, "reply", viewport)
