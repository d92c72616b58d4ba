"""The admin in Chromium under the app's Content-Security-Policy (zarts.web): Flask-Admin's scripts
run with the page's nonce, its few inline handlers by their hashes, so deleting still asks first,
bulk actions (and the domain actions with their form pages) run and relationship look-ups answer,
and nothing else is blocked."""

from __future__ import annotations

import pytest

from tests.admin.rows import add_row
from tests.builders import PASSWORD
from zarts.extensions import db
from zarts.models import Lead, Task

# Console errors that are known and harmless; any other error (a blocked script or handler, a script
# exception) fails the test.
NOISE = (
    "Failed to load resource",  # /favicon.ico: the layouts have none
    "fonts.googleapis.com",  # the Bootswatch theme imports a web font; the policy blocks it (system font)
    "Running the JavaScript URL",  # Flask-Admin's href="javascript:void(0)" menu toggles: no-ops anyway
)


@pytest.fixture
def admin_page(page, live_server, make):
    admin = make.user("admin")
    email = admin.email
    db.session.commit()
    page.problems = []
    page.on(
        "console",
        lambda msg: msg.type == "error"
        and not any(n in msg.text for n in NOISE)
        and page.problems.append(msg.text),
    )
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    page.goto(f"{live_server}/login?next=/admin/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/admin/")
    page.base = live_server
    return page


def task_ids() -> set[int]:
    db.session.expire_all()
    return set(db.session.execute(db.select(Task.id)).scalars())


@pytest.mark.browser
def test_deleting_a_row_asks_first_and_nothing_is_blocked(admin_page):
    page = admin_page
    kept, doomed = add_row("tasks").id, add_row("tasks").id
    db.session.commit()
    page.goto(f"{page.base}/admin/tasks/")
    delete = f"form:has(input[name=id][value='{doomed}']) button"

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click(delete)
    page.wait_for_timeout(300)
    assert task_ids() == {kept, doomed}

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click(delete)
    assert "Record was successfully deleted." in page.inner_text(".alert")
    assert task_ids() == {kept}
    assert page.problems == []


@pytest.mark.browser
def test_a_bulk_action_runs_from_the_with_selected_menu(admin_page):
    page = admin_page
    first, second = add_row("tasks").id, add_row("tasks").id
    db.session.commit()
    page.goto(f"{page.base}/admin/tasks/")

    page.check(f"input.action-checkbox[value='{first}']")
    page.click("text=With selected")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click(".dropdown-menu >> text=Delete")

    assert task_ids() == {second}
    assert page.problems == []


@pytest.mark.browser
def test_list_and_forms_open_without_blocked_scripts(admin_page):
    page = admin_page
    lead_id = add_row("leads").id
    db.session.commit()
    page.goto(f"{page.base}/admin/leads/")
    page.click("text=Add Filter")
    page.click(".field-filters >> text=Stage")
    assert page.locator(".filter-val").count() > 0  # Flask-Admin's filter script ran
    page.goto(f"{page.base}/admin/leads/edit/?id={lead_id}")  # the owner is shown there, not chosen
    page.goto(f"{page.base}/admin/leads/new/")
    page.click("#s2id_owner")
    page.keyboard.type("Bulk")
    page.wait_for_selector(".select2-result-label", timeout=5000)  # the look-up answered
    assert page.problems == []


@pytest.mark.browser
def test_a_domain_action_runs_from_the_with_selected_menu_through_its_form_page(admin_page, make):
    page = admin_page
    lead_id = make.lead().id
    db.session.commit()
    page.goto(f"{page.base}/admin/leads/")

    page.check(f"input.action-checkbox[value='{lead_id}']")
    page.click("text=With selected")
    with page.expect_navigation():
        page.click(".dropdown-menu >> text=Move to stage…")
    page.select_option("select[name=stage]", "qualified")
    with page.expect_navigation():
        page.click("button[type=submit]")

    assert f"Lead {lead_id}: moved to Qualified." in page.inner_text(".alert")
    db.session.expire_all()
    assert db.session.get(Lead, lead_id).stage == "qualified"
    assert page.problems == []
