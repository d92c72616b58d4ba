"""Portal proposals: the frozen sent version, the viewed date, the add-on total, accept and decline —
and the refusals (twice, expired, superseded, closed), each a clear message that changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.portal.conftest import safe_texts
from tests.portal.test_isolation import database_state
from zarts.domain import pipeline
from zarts.extensions import db
from zarts.models import Contract, Event, Proposal, Task, today


@pytest.fixture
def a(world):
    return world[0]


@pytest.fixture
def me(a, portal_as):
    return portal_as(a.contact)


def url(p, action=""):
    return f"/portal/proposals/{p.id}" + (f"/{action}" if action else "")


def events(lead_id, kind):
    return db.session.scalar(
        sa.select(sa.func.count(Event.id)).where(Event.lead_id == lead_id, Event.kind == kind)
    )


def test_the_page_renders_the_snapshot_not_the_live_draft_fields(a, me):
    p = a.open_proposal
    p.title, p.summary = "Live title edited after sending", "Live summary edited after sending"
    db.session.commit()
    html = me.get(url(p)).get_data(as_text=True)
    assert "SAFE-A-proposal-title" in html and "SAFE-A-proposal-summary" in html
    assert "edited after sending" not in html
    for kind in (
        "included",
        "excluded",
        "assumption",
        "dependency",
        "addon-1",
        "addon-2",
        "terms",
        "timeline",
        "improvement",
    ):
        assert f"SAFE-A-{kind}" in html
    assert "EUR 4,500.00" in html and "EUR 900.00" in html and "Decide by" in html


def test_opening_records_the_viewed_date_once(a, me):
    p = a.open_proposal
    assert me.get(url(p)).status_code == 200
    db.session.refresh(p)
    first = p.viewed_at
    assert first is not None and events(p.lead_id, "proposal_viewed") == 1
    me.get(url(p))
    me.get(url(p), htmx=True)
    db.session.refresh(p)
    assert p.viewed_at == first and events(p.lead_id, "proposal_viewed") == 1


def test_ticking_an_add_on_recomputes_the_total_on_the_server(a, me):
    p, (first, second) = a.open_proposal, a.add_on_ids
    partial = me.get(f"{url(p, 'total')}?add_on={first}&add_on={second}", htmx=True).get_data(as_text=True)
    assert (
        partial.lstrip().startswith('<p id="total"') and "EUR 5,650.00" in partial and "2 add-ons" in partial
    )
    # Ids that are not add-ons of this proposal are ignored.
    partial = me.get(f"{url(p, 'total')}?add_on={first}&add_on=999999&add_on=x", htmx=True).get_data(
        as_text=True
    )
    assert "EUR 5,400.00" in partial
    # The same address loaded as a page shows the whole proposal with the add-on ticked.
    page = me.get(f"{url(p, 'total')}?add_on={second}").get_data(as_text=True)
    assert "<html" in page and f'value="{second}" checked' in page and "EUR 4,750.00" in page


def test_accepting_with_add_ons_goes_through_the_domain_and_tasks_the_owner(a, me):
    p, (first, _) = a.open_proposal, a.add_on_ids
    version = me.version_on(url(p))
    resp = me.post(url(p, "accept"), {"version": version, "add_on": [first]}, htmx=True)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and html.lstrip().startswith('<section id="decision"')
    assert "you accepted this proposal" in html and "SAFE-A-addon-1" in html and "EUR 5,400.00" in html
    db.session.expire_all()
    p = db.session.get(Proposal, p.id)
    assert p.status == "accepted" and p.accepted_add_on_ids == [first]
    assert events(p.lead_id, "proposal_accepted") == 1
    task = db.session.scalars(sa.select(Task).where(Task.key == f"proposal:{p.id}:accepted")).one()
    assert task.owner_id == a.owner.id and task.kind == "contract_step"


def test_accepting_twice_is_refused_and_changes_nothing(a, me):
    p, (first, second) = a.open_proposal, a.add_on_ids
    version = me.version_on(url(p))
    assert me.post(url(p, "accept"), {"version": version, "add_on": [first]}, htmx=True).status_code == 200
    before = database_state()
    # Replaying the same form (old version) and re-submitting the accepted page's state are both refused.
    again = me.post(url(p, "accept"), {"version": version, "add_on": [second]}, htmx=True)
    assert again.status_code == 409 and "changed by someone else" in again.get_data(as_text=True)
    db.session.expire_all()
    current = str(db.session.get(Proposal, p.id).version)
    again = me.post(url(p, "accept"), {"version": current, "add_on": [second]}, htmx=True)
    assert again.status_code == 400 and "already accepted" in again.get_data(as_text=True)
    assert database_state() == before
    assert db.session.get(Proposal, p.id).accepted_add_on_ids == [first]


def test_an_expired_proposal_cannot_be_accepted(a, me):
    p = a.open_proposal
    p.decision_deadline = today() - timedelta(days=1)  # time passes
    db.session.commit()
    page = me.get(url(p)).get_data(as_text=True)
    assert "deadline" in page and "has passed" in page and url(p, "accept") not in page
    home = me.get("/portal/").get_data(as_text=True)
    assert "Waiting for your decision" not in home
    before = database_state()
    db.session.expire_all()
    resp = me.post(url(p, "accept"), {"version": db.session.get(Proposal, p.id).version}, htmx=True)
    assert resp.status_code == 400 and "decision deadline of this proposal has passed" in resp.get_data(
        as_text=True
    )
    assert database_state() == before
    assert db.session.scalar(sa.select(sa.func.count(Contract.id)).where(Contract.lead_id == p.lead_id)) == 0


def test_a_superseded_version_points_to_the_latest_and_cannot_be_accepted(a, me, builder):
    v1 = a.open_proposal
    me.get(url(v1))  # the client saw version 1
    db.session.expire_all()
    v1 = db.session.get(Proposal, v1.id)
    version_seen = v1.version
    v2 = builder.revise_and_send(v1, **dict(safe_texts("A"), title="SAFE-A-v2", price_cents=400000))
    db.session.commit()
    listing = me.get("/portal/proposals").get_data(as_text=True)
    assert url(v2) in listing and f'href="{url(v1)}"' not in listing
    notice = me.get(url(v1)).get_data(as_text=True)
    assert "replaced by version 2" in notice and url(v2) in notice and "SAFE-A-proposal-summary" not in notice
    before = database_state()
    db.session.expire_all()
    for version in (version_seen, db.session.get(Proposal, v1.id).version):
        resp = me.post(url(v1, "accept"), {"version": version}, htmx=True)
        assert resp.status_code in (400, 409)
    resp = me.post(url(v1, "accept"), {"version": db.session.get(Proposal, v1.id).version}, htmx=True)
    assert "newer version" in resp.get_data(as_text=True) and url(v2) in resp.get_data(as_text=True)
    assert database_state() == before


def test_a_proposal_of_a_lost_opportunity_is_closed(a, me):
    lead = a.open_lead
    pipeline.mark_lost(
        db.session,
        lead,
        a.owner,
        lead.version,
        lost_reason="timing",
        reactivation_date=today() + timedelta(days=60),
    )
    db.session.commit()
    page = me.get(url(a.open_proposal)).get_data(as_text=True)
    assert "This proposal is closed" in page and url(a.open_proposal, "accept") not in page
    before = database_state()
    db.session.expire_all()
    resp = me.post(
        url(a.open_proposal, "accept"),
        {"version": db.session.get(Proposal, a.open_proposal.id).version},
        htmx=True,
    )
    assert resp.status_code == 400 and "no longer open" in resp.get_data(as_text=True)
    assert database_state() == before


def test_add_ons_from_elsewhere_or_garbage_are_refused(a, me):
    p = a.open_proposal
    included = next(i["id"] for i in p.snapshot["items"] if i["kind"] == "included")
    for bad in ([included], ["not-a-number"]):
        version = me.version_on(url(p))
        resp = me.post(url(p, "accept"), {"version": version, "add_on": bad}, htmx=True)
        assert resp.status_code == 400 and "Choose add-ons from this proposal only" in resp.get_data(
            as_text=True
        )
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).status == "sent"


def test_a_form_without_a_version_is_refused(a, me):
    resp = me.post(url(a.open_proposal, "accept"), {}, htmx=True)
    assert resp.status_code == 409
    db.session.expire_all()
    assert db.session.get(Proposal, a.open_proposal.id).status == "sent"


def test_declining_needs_a_reason_and_tasks_the_owner(a, me):
    p = a.open_proposal
    version = me.version_on(url(p))
    resp = me.post(url(p, "decline"), {"version": version, "reason": "  "}, htmx=True)
    assert resp.status_code == 400 and "Tell us why" in resp.get_data(as_text=True)
    resp = me.post(url(p, "decline"), {"version": version, "reason": "Budget moved to Q3"}, htmx=True)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "You declined" in html and "Budget moved to Q3" in html
    db.session.expire_all()
    p = db.session.get(Proposal, p.id)
    assert p.status == "declined" and p.decline_reason == "Budget moved to Q3"
    assert (
        db.session.scalars(sa.select(Task).where(Task.key == f"proposal:{p.id}:declined")).one().owner_id
        == a.owner.id
    )


def test_without_htmx_accept_redirects_and_refusals_render_the_full_page(a, me):
    p = a.open_proposal
    version = me.version_on(url(p))
    bad = me.post(url(p, "accept"), {"version": "0"})
    assert bad.status_code == 409 and "<html" in bad.get_data(as_text=True)
    assert "changed by someone else" in bad.get_data(as_text=True)
    ok = me.post(url(p, "accept"), {"version": version, "add_on": [a.add_on_ids[1]]})
    assert ok.status_code == 303 and ok.headers["Location"].endswith(url(p))
    page = me.get(url(p)).get_data(as_text=True)
    assert "you accepted this proposal" in page and "EUR 4,750.00" in page


def test_home_lists_the_proposals_awaiting_a_decision(a, me):
    home = me.get("/portal/").get_data(as_text=True)
    assert "Waiting for your decision" in home and url(a.open_proposal) in home
    assert url(a.accepted_proposal) not in home
