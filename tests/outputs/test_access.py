"""Outputs are staff pages: anonymous visitors go to the login page, clients get a 403, every staff
role may read. Nothing here changes state: other methods are refused."""

from __future__ import annotations

import pytest

from zarts.extensions import db
from zarts.models import Report
from zarts.models.vocab import STAFF_ROLES


@pytest.fixture
def urls(canary_deal):
    lead_id = canary_deal.lead.id
    weekly = Report(kind="pipeline_weekly", title="Week", key="weekly:2024-01-01", figures={})
    db.session.add(weekly)
    key = f"handoff:{lead_id}:packet"
    if db.session.query(Report).filter_by(key=key).one_or_none() is None:  # the handoff job did not run
        db.session.add(Report(kind="handoff_packet", title="Packet", key=key, lead_id=lead_id, figures={}))
    db.session.commit()
    return [
        "/outputs/",
        "/outputs/audit-proof",
        f"/outputs/audit-proof/{lead_id}",
        "/outputs/audit-proof/export.csv",
        "/outputs/audit-proof/export.json",
        f"/outputs/packet/{lead_id}",
        f"/outputs/packet/{lead_id}?copy=client",
        f"/outputs/packet/{lead_id}.json",
        f"/outputs/packet/{lead_id}.txt?copy=client",
        f"/outputs/packet/{lead_id}.html",
        f"/outputs/packet/{lead_id}/stored",
        "/outputs/weekly",
        f"/outputs/weekly/{weekly.id}",
        f"/outputs/proposals/{canary_deal.v2.id}/diff",
    ]


def test_anonymous_visitors_are_sent_to_login(urls, app):
    client = app.test_client()
    for url in urls:
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"], url


def test_clients_are_refused(urls, canary_deal, make, as_user):
    contact = make.user("client", client=canary_deal.lead.client)
    browser = as_user(contact)
    for url in urls:
        r = browser.get(url)
        assert r.status_code == 403, url
        assert "CANARY" not in r.get_data(as_text=True) and "SAFE-" not in r.get_data(as_text=True)


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_every_staff_role_reads_every_output(urls, make, as_user, role):
    browser = as_user(make.user(role))
    for url in urls:
        assert browser.get(url).status_code == 200, url


def test_outputs_are_read_only(urls, make, as_user):
    browser = as_user(make.user("admin"))
    for url in urls:
        for method in (browser.post, browser.put, browser.delete):
            assert method(url).status_code in (400, 405), url  # 400: refused by CSRF before routing


def test_the_navigation_link_still_leads_here(make, as_user):
    html = as_user(make.user("growth_ops")).get("/outputs/").get_data(as_text=True)
    assert 'href="/outputs/"' in html and "Qualified opportunity" in html and "Won or lost reason" in html
