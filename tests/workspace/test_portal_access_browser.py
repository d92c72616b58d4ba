"""Invite → client signs in, in real browsers (Chromium via Playwright): staff on a desktop invite a
contact from the lead page with no email server, copy the one-time link with the Copy button, and the
client opens it on an iPhone 13 viewport, chooses a password and lands on the portal. The strict CSP
holds on both sides (no violation in the console)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.builders import PASSWORD, Make
from tests.workspace.test_browser import shot
from zarts.extensions import db

pytestmark = pytest.mark.browser

CLIENT_PASSWORD = "harbour lantern blue"


def watch(page, problems: list[str]):
    page.set_default_timeout(10_000)
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return page


def test_staff_invite_copy_the_link_and_the_client_signs_in_on_a_phone(browser, playwright, live_server):
    with live_server.app_context():
        make = Make()
        owner = make.user("growth_ops", name="Olga Owner")
        client = make.client(name="Northwind", owner_id=owner.id)
        lead = make.lead(owner=owner, client_id=client.id, title="Northwind retainer")
        owner_email, lead_id = owner.email, lead.id
        db.session.commit()
        db.session.remove()
    base = live_server.config["BASE_URL"]
    problems: list[str] = []

    desk = browser.new_context(base_url=base, viewport={"width": 1280, "height": 800})
    desk.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    staff = watch(desk.new_page(), problems)
    staff.goto("/login")
    staff.get_by_label("Email").fill(owner_email)
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Sign in").click()
    staff.goto(f"/workspace/leads/{lead_id}")

    access = staff.locator("#portal-access")
    expect(access.get_by_role("button", name="Invite")).to_be_visible()  # loaded by its own request
    access.get_by_label("Name").fill("Cleo Client")
    access.get_by_label("Email").fill("cleo@northwind.test")
    access.get_by_role("button", name="Invite").click()
    expect(access).to_contain_text("Copy it now: it is shown once and expires in 7 days")
    expect(access).to_contain_text("Invited, not signed in yet")
    access.get_by_role("button", name="Copy link").click()
    expect(access.get_by_role("button", name="Copied")).to_be_visible()
    link = staff.evaluate("navigator.clipboard.readText()")
    assert link.startswith(f"{base}/invite/")
    assert link == access.locator(".one-time-link input").input_value()
    shot(staff, "portal-access", ("desktop",))

    device = {k: v for k, v in playwright.devices["iPhone 13"].items() if k != "default_browser_type"}
    phone_context = browser.new_context(**device)
    phone = watch(phone_context.new_page(), problems)
    phone.goto(link)
    phone.get_by_label("New password").fill(CLIENT_PASSWORD)
    phone.get_by_label("Repeat it").fill(CLIENT_PASSWORD)
    phone.get_by_role("button", name="Save password").click()
    phone.wait_for_url(f"{base}/portal/")
    expect(phone.get_by_role("heading", name="Hello Cleo Client")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    staff.reload()  # the link is gone for good; the contact is now active
    expect(access).to_contain_text("last signed in")
    expect(staff.locator(".one-time-link")).to_have_count(0)

    phone_context.close()
    desk.close()
    csp = [p for p in problems if "Content Security Policy" in p or "Refused to" in p]
    assert not csp, csp
