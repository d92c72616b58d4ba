"""The admin and the workspace in Chromium under the app's Content-Security-Policy: not one console
error (no blocked web font, no javascript: URL, no missing favicon) on the admin home, a list, an
edit page and a workspace page; the dropdown toggles still open."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.admin.rows import add_row
from tests.builders import PASSWORD
from zarts.extensions import db


@pytest.fixture
def watched(page, live_server, make):
    admin = make.user("admin")
    email = admin.email
    lead_id = add_row("leads").id
    db.session.commit()
    page.problems = []
    page.on("console", lambda msg: msg.type == "error" and page.problems.append(msg.text))
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    page.on("response", lambda r: r.status >= 400 and page.problems.append(f"{r.status} {r.url}"))
    page.goto(f"{live_server}/login?next=/admin/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/admin/")
    page.base, page.lead_id = live_server, lead_id
    return page


def test_admin_and_workspace_pages_log_no_console_error(watched):
    page = watched
    for path in (
        "/admin/",
        "/admin/leads/",
        f"/admin/leads/edit/?id={page.lead_id}",
        f"/admin/leads/details/?id={page.lead_id}",
        f"/workspace/leads/{page.lead_id}",
        "/workspace/settings",
    ):
        page.goto(page.base + path)
        page.wait_for_load_state("networkidle")
    page.goto(page.base + "/admin/leads/")
    page.get_by_role("button", name="Add Filter").click()  # a former javascript:void(0) toggle
    expect(page.locator(".dropdown-menu.show").first).to_be_visible()
    page.get_by_role("button", name="With selected").click()
    page.get_by_role("button", name="With selected").click()
    assert page.problems == []


def test_the_favicon_is_served(watched):
    response = watched.request.get(watched.base + "/favicon.ico")
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert watched.locator('link[rel="icon"]').count() == 1
