"""Import in a real browser: upload a CSV, map a column, preview, start, watch the progress bar reach
the end, download the error report. Desktop and iPhone 13; the strict CSP holds (open_as checks)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .test_browser import open_as, seed, shot, user_dict, viewport  # noqa: F401

pytestmark = pytest.mark.browser

CSV = (
    "Firm,E-mail,Contact,Service\n"
    "Browser {v} GmbH,bea@{v}browser.de,Bea,SEO\n"
    "Chrome {v} Ltd,cat@{v}chrome.co.uk,Cat,Plumbing\n"
    "Gecko {v} Inc,gus@{v}gecko.io,Gus,Analytics\n"
)  # {v}: the live server is shared by both viewports


def test_upload_map_preview_run_and_download_the_report(
    open_as,
    seed,
    viewport,  # noqa: F811 (fixtures)
    live_server,
    tmp_path,
):
    live_server.config["IMPORT_FOLDER"] = str(tmp_path / "imports")
    owner = seed(lambda make, journey: user_dict(make.user("growth_ops", name="Ina Importer")))
    page = open_as(owner)
    page.get_by_role("link", name="Import leads from a spreadsheet").click()
    expect(page.get_by_role("heading", name="Import", exact=True)).to_be_visible()
    page.get_by_label("File", exact=True).set_input_files(
        {"name": "fair.csv", "mimeType": "text/csv", "buffer": CSV.format(v=viewport[0]).encode()}
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="Import: fair.csv")).to_be_visible()
    expect(page.locator("#import-missing-source")).to_have_count(1)  # asked once, not as each row's error
    expect(page.get_by_text("Source is required")).to_have_count(0)

    page.get_by_label("Field for column Firm").select_option(
        "company"
    )  # "Firm" is not a name the guess knows
    page.get_by_label("Source (when no column holds it)").select_option("event")
    page.get_by_label("Source context").fill("Trade fair list 2026")
    page.get_by_role("button", name="Save and preview").click()
    expect(page.locator("#preview-row-2")).to_contain_text("New")
    expect(page.locator("#import-missing-source")).to_have_count(0)
    expect(page.locator("#preview-row-3")).to_contain_text("Choose a service from the list.")
    shot(page, "import-preview", viewport)

    page.get_by_role("button", name="Start import").click()
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible()
    expect(page.locator("#import-progress")).to_have_attribute("value", "3")
    expect(page.locator("#import-created")).to_have_text("2")
    expect(page.locator("#import-errors")).to_have_text("1")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the error report (CSV)").click()
    report = download.value
    assert report.suggested_filename.endswith("-errors.csv")
    text = report.path().read_text(encoding="utf-8-sig")
    assert f"3,Service,Choose a service from the list.,Chrome {viewport[0]} Ltd" in text
    shot(page, "import-done", viewport)
