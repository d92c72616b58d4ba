"""The global search in Chromium: "/" from the board focuses the search box, a misspelt company
still finds its lead (the lexicon's correction), ArrowDown makes the first result active and Enter
opens the lead's page; the strict CSP holds throughout."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.builders import PASSWORD, Journey, Make
from zarts.extensions import db

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1366, "height": 800}}


@pytest.fixture
def seed(live_server):
    def _seed(fn):
        with live_server.app_context():
            result = fn(Make(), Journey(Make()))
            db.session.commit()
            db.session.remove()
            return result

    return _seed


@pytest.fixture
def signed_in(browser, live_server):
    contexts, problems = [], []

    def _open(email):
        context = browser.new_context(base_url=live_server.config["BASE_URL"], **DESKTOP)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.goto("/login")
        page.get_by_label("Email").fill(email)
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
    bad = [p for p in problems if "Content Security Policy" in p or "Refused to" in p or "Error" in p]
    assert not bad, bad


def test_slash_a_misspelt_company_arrow_down_and_enter_open_the_lead(signed_in, seed):
    def data(make, journey):
        owner = make.user("growth_ops", name="Olga Owner")
        lead = make.lead(owner=owner, title="Warehouse SEO retainer", company="Northwind Logistics")
        make.lead(owner=owner, title="Paid media pilot", company="Bluepeak Dental")
        return owner.email, lead.id

    email, lead_id = seed(data)
    page = signed_in(email)
    box = page.locator("#global-search-q")

    page.locator("body").click(position={"x": 5, "y": 5})  # focus on the page, not in a field
    page.keyboard.press("/")
    expect(box).to_be_focused()
    page.keyboard.type("Nortwind", delay=30)

    options = page.locator("#global-search-panel [role=option]")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Warehouse SEO retainer")
    expect(options.first).to_contain_text("Northwind Logistics")
    expect(page.locator("#global-search-panel")).to_be_visible()

    page.keyboard.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "search-option-1")

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/workspace/leads/{lead_id}$"))
    expect(page.get_by_role("heading", name=re.compile("Warehouse SEO retainer"))).to_be_visible()
