"""On a phone (iPhone 13, Chromium) a client opens their accepted proposal and downloads its PDF."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.links import fresh_link
from tests.portal.conftest import safe_texts
from tests.portal.test_browser import phone, shot, sign_in_by_invite  # noqa: F401 (the phone fixture)
from zarts.extensions import db
from zarts.models import Proposal


@pytest.fixture
def accepted(live_server, builder):
    client = builder.client("P")
    lead = builder.lead(client)
    builder.sent_proposal(lead, **safe_texts("P"))
    builder.journey.to(lead, "accepted")
    proposal = db.session.scalars(sa.select(Proposal).where(Proposal.lead_id == lead.id)).one()
    contact = builder.contact(client)
    db.session.commit()
    return proposal, {"invite": live_server + fresh_link(contact, "invite")}


@pytest.mark.browser
def test_a_client_downloads_the_pdf_of_an_accepted_proposal_on_a_phone(phone, accepted, live_server):  # noqa: F811
    proposal, scenario = accepted
    page = phone
    sign_in_by_invite(page, scenario, live_server)
    page.goto(f"{live_server}/portal/proposals/{proposal.id}")
    expect(page.get_by_role("heading", name="Accepted")).to_be_visible()
    link = page.get_by_role("link", name="Download PDF")
    expect(link).to_be_visible()
    box = link.bounding_box()
    assert box["height"] >= 32, "a link a thumb can hit"
    shot(page, "proposal-pdf-link")
    with page.expect_download() as info:
        link.tap()
    download = info.value
    assert download.suggested_filename == "safe-p-proposal-title-v1.pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(download.path().read_bytes())).pages)
    text = text.replace("\n", "")
    assert "SAFE-P-proposal-summary" in text and "Accepted" in text and "CANARY" not in text
    assert not page.problems and not page.refusals
