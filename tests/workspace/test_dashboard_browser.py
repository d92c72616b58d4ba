"""The dashboard on a phone (iPhone 13, 390 px) and a desktop: filters in the URL, charts that scale,
tables that stack, and no sideways scroll; the strict CSP holds (checked by `open_as`)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from zarts.domain import pipeline
from zarts.extensions import db

from .test_browser import open_as, seed, shot, user_dict, viewport  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_the_dashboard_fits_the_phone_and_keeps_its_filters_in_the_url(open_as, seed, viewport):  # noqa: F811
    def data(make, journey):
        owner = make.user("growth_ops", name="Olga Owner With A Rather Long Name")
        for currency in ("USD", "GBP"):
            lead = make.lead(owner=owner, company=f"Company paying in {currency}")
            pipeline.update_lead(
                db.session,
                lead,
                owner,
                lead.version,
                value_cents=1_000_000,
                currency=currency,
                probability=40,
            )
        journey.to(make.lead(owner=owner, company="Adatum"), "contract")
        return user_dict(owner)

    owner = seed(data)
    page = open_as(owner)
    page.goto("/workspace/dashboard")
    page.locator('select[name="period"]').select_option("last_12_months")
    page.locator('select[name="owner"]').select_option("me")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#period-label")).to_contain_text("Last 12 months")
    forecast = page.locator("#stat-forecast")  # the live server's database is shared: my leads only
    expect(forecast).to_contain_text("USD 4,000")
    expect(forecast).to_contain_text("GBP 4,000")
    expect(forecast).not_to_contain_text("converted")
    expect(page).to_have_url(re.compile(r"period=last_12_months.*owner=me"))
    expect(page.locator("svg.chart").first).to_be_visible()
    shot(page, "dashboard-filtered", viewport)
