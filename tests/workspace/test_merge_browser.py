"""Merging two leads in a real browser (Chromium via Playwright): the lead page's duplicates box
offers the twin, the merge screen compares them field by field, and after confirming the survivor's
timeline shows both histories; the merged lead's page points at the survivor. Desktop and iPhone 13
widths, no sideways scroll, the strict CSP holds (no console errors)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.builders import PASSWORD, Make
from zarts.domain import pipeline
from zarts.extensions import db
from zarts.models import today

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [(1366, 800), (390, 844)], ids=["desktop", "phone"])
def test_open_a_lead_with_a_duplicate_merge_and_see_both_histories(browser, live_server, viewport):
    with live_server.app_context():
        make = Make()
        owner = make.user("growth_ops", name="Olga Owner")
        survivor = make.lead(
            owner=owner,
            title="Acme website",
            company="Acme GmbH",
            contact_email="ana@acme.de",
            contact_phone=None,
        )
        duplicate = make.lead(
            owner=owner,
            title="Acme SEO",
            company="ACME",
            contact_email="ana@acme.de",
            contact_phone="+49 30 1234",
        )
        pipeline.set_next_action(db.session, duplicate, owner, None, "Send the SEO deck", today())
        owner_email, survivor_id, duplicate_id = owner.email, survivor.id, duplicate.id
        db.session.commit()
        db.session.remove()
    problems: list[str] = []
    context = browser.new_context(
        base_url=live_server.config["BASE_URL"], viewport={"width": viewport[0], "height": viewport[1]}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on(
        "console", lambda msg: problems.append(f"{msg.text} {msg.location}") if msg.type == "error" else None
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto("/login")
    page.get_by_label("Email").fill(owner_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.goto(f"/workspace/leads/{survivor_id}")
    box = page.locator("#duplicates")
    expect(box).to_contain_text(f"#{duplicate_id} Acme SEO")  # loaded by its own request
    expect(box).to_contain_text("same contact email")
    box.locator(f'a[href$="duplicate={duplicate_id}"]', has_text="Merge…").click()

    expect(page.get_by_role("heading", name="Merge two leads")).to_be_visible()
    phone_row = page.locator("tr", has_text="Contact phone")
    expect(phone_row.get_by_role("radio").nth(1)).to_be_checked()  # the survivor has none
    page.locator("tr", has_text="Title").get_by_role("radio").nth(1).check()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    page.get_by_role("button", name=f"Merge #{duplicate_id} into #{survivor_id}").click()

    expect(page).to_have_url(f"{live_server.config['BASE_URL']}/workspace/leads/{survivor_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme SEO")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(f"Lead #{duplicate_id} (Acme SEO) merged into this one")
    expect(timeline).to_contain_text(f"Merged into lead #{survivor_id}")
    expect(timeline).to_contain_text("Send the SEO deck")  # the duplicate's own history
    expect(page.locator("#duplicates")).to_contain_text("Merged into this lead")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1

    page.goto(f"/workspace/leads/{duplicate_id}")
    expect(page.locator(".merged-notice")).to_contain_text(f"lead #{survivor_id}")
    page.locator(".merged-notice").get_by_role("link").click()
    expect(page).to_have_url(f"{live_server.config['BASE_URL']}/workspace/leads/{survivor_id}")
    assert not [p for p in problems if "favicon.ico" not in p], problems  # no CSP refusal, no JS error
    context.close()
