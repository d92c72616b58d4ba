"""The portal on a phone (iPhone 13 viewport, Chromium): from the invite link to a sent message."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.links import fresh_link
from tests.portal.conftest import progress_of, safe_texts
from zarts.domain import proposals
from zarts.extensions import db
from zarts.models import Message, Proposal, Task, today

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "harbour lantern blue"


@pytest.fixture
def phone(browser, playwright):
    device = {k: v for k, v in playwright.devices["iPhone 13"].items() if k != "default_browser_type"}
    context = browser.new_context(**device)
    page = context.new_page()
    page.problems, page.refusals = [], []
    # Script errors and CSP violations; failed loads are judged by status below (the shared layout
    # has no favicon, which the browser asks for anyway).
    page.on(
        "console",
        lambda msg: msg.type == "error"
        and not msg.text.startswith("Failed to load resource")
        and page.problems.append(msg.text),
    )
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    page.on(
        "response",
        lambda r: r.status >= 400
        and not r.url.endswith("/favicon.ico")
        and page.refusals.append((r.status, r.url)),
    )
    yield page
    context.close()


@pytest.fixture
def scenario(live_server, builder):
    """A client with a won project (checklist) and a newly sent proposal; the contact is only invited."""
    client = builder.client("A")
    won = builder.lead(client)
    builder.sent_proposal(won, **safe_texts("A"))
    project = builder.won_project(won, "A")
    items = [
        builder.checklist_item(project, f"Share access to your analytics ({n})", due_days=n) for n in (1, 2)
    ]
    builder.staff_task(project, "Internal: chase HubSpot admin")
    open_lead = builder.lead(client)
    proposal = builder.sent_proposal(open_lead, **dict(safe_texts("A"), title="Growth plan for spring"))
    contact = builder.contact(client)
    db.session.commit()
    return {
        "invite": live_server + fresh_link(contact, "invite"),
        "proposal": proposal,
        "items": items,
        "project": project,
        "contact": contact,
    }


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"portal-{name}.png"), full_page=True)
    # Phone-first: nothing wider than the 390 px screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, f"{name} scrolls sideways"


def sign_in_by_invite(page, scenario, live_server):
    """Open the invite link (as the email carries it) and choose a password: the portal home opens."""
    page.goto(scenario["invite"])
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Repeat it").fill(PASSWORD)
    page.get_by_role("button", name="Save password").click()
    page.wait_for_url(f"{live_server}/portal/")


@pytest.mark.browser
def test_a_client_signs_in_by_invite_accepts_ticks_and_writes(phone, scenario, live_server):
    page = phone
    sign_in_by_invite(page, scenario, live_server)
    assert page.get_by_role("heading", name="Waiting for your decision").is_visible()
    shot(page, "home")

    # Open the proposal, tick an add-on: the server recomputes the total.
    page.get_by_role("link", name="Growth plan for spring").click()
    page.wait_for_url(re.compile(r"/portal/proposals/\d+$"))
    total = page.locator("#total")
    assert "EUR 4,500.00" in total.inner_text()
    shot(page, "proposal")
    page.get_by_label("SAFE-A-addon-1").check()
    # expect() polls from Playwright's side: a wait_for_function string would be eval'd in the page,
    # which the portal's CSP (no 'unsafe-eval') refuses whenever the first check comes too early.
    expect(page.locator("#total")).to_contain_text("EUR 5,400.00")
    shot(page, "proposal-add-on")

    # Accept: the decision section is replaced in place.
    page.get_by_role("button", name="Accept version 1").click()
    page.locator("#decision").get_by_text("you accepted this proposal").wait_for()
    assert "EUR 5,400.00" in page.locator("#decision").inner_text()
    shot(page, "accepted")

    # Tick a checklist item on the project page: the item and the progress update inline.
    page.goto(f"{live_server}/portal/projects/{scenario['project'].id}")
    first = scenario["items"][0]
    page.get_by_role("button", name=f"Mark as done: {first.title}").click()
    page.locator(f"#check-{first.id}.done").wait_for()
    _, total, _, _ = progress_of(scenario["project"])
    expect(page.locator(f"#progress-{scenario['project'].id}")).to_contain_text(f"1 of {total}")
    assert "chase HubSpot" not in page.content()
    shot(page, "checklist")

    # Send a message to the team.
    page.get_by_role("link", name="Messages").click()
    page.get_by_label("Message to the team").fill("Kickoff on Monday works for us.")
    page.get_by_role("button", name="Send").click()
    page.locator(".thread .msg-in").filter(has_text="Kickoff on Monday works for us.").wait_for()
    assert page.get_by_label("Message to the team").input_value() == ""
    shot(page, "messages")

    assert page.problems == [] and page.refusals == [], (page.problems, page.refusals)
    db.session.expire_all()
    proposal = db.session.get(Proposal, scenario["proposal"].id)
    add_on = next(i["id"] for i in proposal.snapshot["items"] if i["title"] == "SAFE-A-addon-1")
    assert proposal.status == "accepted" and proposal.accepted_add_on_ids == [add_on]
    assert db.session.get(Task, first.id).done_by_id == scenario["contact"].id
    assert (
        db.session.scalars(sa.select(Message).where(Message.body == "Kickoff on Monday works for us."))
        .one()
        .author_id
        == scenario["contact"].id
    )


@pytest.mark.browser
def test_a_refusal_shows_where_the_user_is(phone, scenario, live_server):
    """The team changes the proposal while it is open: accepting says so in place (409), nothing 500s."""
    page = phone
    sign_in_by_invite(page, scenario, live_server)
    page.goto(f"{live_server}/portal/proposals/{scenario['proposal'].id}")
    # Meanwhile staff extend the deadline (a new version of the row).
    p = db.session.get(Proposal, scenario["proposal"].id)
    db.session.refresh(p)
    proposals.update_forecast(
        db.session, p, p.lead.owner, p.version, probability=70, decision_deadline=today() + timedelta(days=20)
    )
    db.session.commit()
    page.get_by_role("button", name="Accept version 1").click()
    page.locator("#decision [role=alert]").get_by_text("changed by someone else").wait_for()
    new_deadline = (today() + timedelta(days=20)).strftime("%d %B %Y")
    assert page.locator("#decide-by").inner_text() == new_deadline  # the header follows, out of band
    shot(page, "conflict")
    # The refreshed form carries the new version: accepting now works.
    page.get_by_role("button", name="Accept version 1").click()
    page.locator("#decision").get_by_text("you accepted this proposal").wait_for()
    assert page.problems == [], page.problems
    assert [status for status, _ in page.refusals] == [409]
