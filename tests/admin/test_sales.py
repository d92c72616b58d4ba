"""Proposals and their scope items are made and changed only through zarts.domain.proposals (the audit
gate, the lead's owner, pauses, approval asked again for a changed part, sent versions frozen); approvals
are read here and decided only through the domain."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.admin.conftest import flashes, form_fields, settle
from tests.admin.rows import add_row
from tests.admin.test_actions import events, run_action, submit
from tests.builders import SCOPE
from zarts.domain import pipeline, proposals
from zarts.extensions import db
from zarts.models import Approval, Event, Proposal, ProposalItem, today, utcnow

PAUSED = "The opportunity is paused (decision_path): resume it first."
# What a user types on the new-proposal form (the claim of issue 16's finding).
OFFER = {
    "title": "Growth plan",
    "summary": "A 3-month plan",
    "price_cents": "4,500.00",
    "currency": "GBP",
    "timeline": "12 weeks",
    "expected_improvement": "Leads +50% guaranteed",
    "contract_language": "Standard MSA",
}


def form_of(client, url: str) -> dict[str, str]:
    return form_fields(client.get(url).get_data(as_text=True))


def owned_draft(make, journey, **fields):
    ops = make.user("growth_ops")
    lead = journey.to(make.lead(owner=ops), "proposal")
    return ops, lead, journey.draft(lead, **fields)


def approvals_of(proposal_id: int) -> dict[str, str]:
    """The state of each part's newest approval."""
    return dict(
        db.session.execute(
            sa.select(Approval.kind, Approval.state)
            .where(Approval.proposal_id == proposal_id)
            .order_by(Approval.id)
        ).all()
    )


def sent_proposal():
    return add_row(
        "proposals", status="sent", snapshot={"title": "SEO retainer"}, sent_at=utcnow(), price_cents=500_000
    )


# --- the forms ---------------------------------------------------------------------------------------


def test_the_forms_offer_only_what_staff_type(client, auth, make, journey):
    ops, _lead, proposal = owned_draft(make, journey)
    proposal_id, item_id = proposal.id, proposal.items[0].id
    auth.login_as(ops)
    settle()
    typed = {
        "title",
        "summary",
        "price_cents",
        "currency",
        "timeline",
        "expected_improvement",
        "contract_language",
        "pricing_assumptions",
        "internal_notes",
    }
    item = {"kind", "title", "description", "price_cents", "position"}

    assert set(form_of(client, "/admin/proposals/new/")) == typed | {"lead", "csrf_token"}
    assert set(form_of(client, f"/admin/proposals/edit/?id={proposal_id}")) == typed | {
        "version",
        "csrf_token",
    }
    assert set(form_of(client, "/admin/proposal_items/new/")) == item | {"proposal", "csrf_token"}
    assert set(form_of(client, f"/admin/proposal_items/edit/?id={item_id}")) == item | {"csrf_token"}


# --- create: draft_proposal --------------------------------------------------------------------------


def test_no_proposal_is_made_before_a_completed_audit(client, auth, make):
    """Replays issue 16: /admin/proposals/new/ saved a price, a timeline and "Leads +50% guaranteed" on
    a lead at stage new with no audit."""
    ops = make.user("growth_ops")
    lead_id = make.lead(owner=ops).id
    auth.login_as(ops)
    settle()
    form = form_of(client, "/admin/proposals/new/")

    resp = auth.post("/admin/proposals/new/", form | OFFER | {"lead": str(lead_id)})

    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Leads +50% guaranteed" in page  # the form, as typed
    assert "Not saved: Cannot move to proposal: No completed audit" in flashes(page)
    settle()
    assert db.session.query(Proposal).count() == 0 and events(lead_id) == []


def test_a_proposal_is_drafted_through_the_domain(client, auth, make, journey):
    ops = make.user("growth_ops")
    lead = journey.to(make.lead(owner=ops), "proposal")
    lead_id, audit_id, before = lead.id, journey.complete_audit(lead).id, events(lead.id)
    auth.login_as(ops)
    settle()
    form = form_of(client, "/admin/proposals/new/")

    resp = auth.post("/admin/proposals/new/", form | OFFER | {"lead": str(lead_id)})

    assert resp.status_code == 302
    proposal = db.session.execute(sa.select(Proposal).filter_by(lead_id=lead_id)).scalar_one()
    assert (proposal.status, proposal.number, proposal.snapshot) == ("draft", 1, None)
    assert proposal.currency == "GBP"
    assert proposal.audit_id is not None and proposal.audit_id <= audit_id
    assert events(lead_id) == before + ["proposal_drafted"]


@pytest.mark.parametrize("why", ["paused", "not_theirs"])
def test_a_refused_draft_says_why_on_the_form_and_writes_nothing(why, client, auth, make, journey):
    ops = make.user("growth_ops")
    lead = journey.to(make.lead(owner=ops), "proposal")
    if why == "paused":
        pipeline.pause(db.session, lead, ops, lead.version, "decision_path")
        message, user = PAUSED, ops
    else:
        message, user = "Only the owner of this opportunity (or an admin) can draft proposals.", make.user()
    lead_id, before = lead.id, events(lead.id)
    auth.login_as(user)
    settle()
    form = form_of(client, "/admin/proposals/new/")

    resp = auth.post("/admin/proposals/new/", form | OFFER | {"lead": str(lead_id)})

    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and f"Not saved: {message}" in flashes(page)
    settle()
    assert db.session.query(Proposal).count() == 0 and events(lead_id) == before


# --- edit: revise_proposal ---------------------------------------------------------------------------


def test_a_summary_and_timeline_changed_after_approval_are_asked_again(client, auth, make, journey):
    """Replays issue 16: price, claim and contract language approved, the summary and the timeline
    rewritten in the admin, and the proposal sent with both."""
    ops, lead, proposal = owned_draft(make, journey)
    journey.approve_all(proposal)
    proposal_id, lead_id, before = proposal.id, lead.id, events(lead.id)
    auth.login_as(ops)
    settle()
    form = form_of(client, f"/admin/proposals/edit/?id={proposal_id}")

    resp = auth.post(
        f"/admin/proposals/edit/?id={proposal_id}",
        form | {"summary": "We GUARANTEE to triple your leads", "timeline": "Live in 3 days"},
    )

    assert resp.status_code == 302
    assert events(lead_id) == before + ["fields_changed"]
    change = db.session.scalars(
        sa.select(Event).where(Event.lead_id == lead_id).order_by(Event.id.desc()).limit(1)
    ).one()
    assert change.payload["via"] == "admin" and [c["field"] for c in change.payload["changes"]] == [
        "summary",
        "timeline",
    ]
    assert approvals_of(proposal_id) == {
        "summary": "superseded",
        "scope": "approved",
        "pricing": "approved",
        "timeline": "superseded",
        "claim": "approved",
        "contract_language": "approved",
    }
    shown = submit(
        client,
        auth,
        "proposals",
        "send",
        [proposal_id],
        follow_up_date=today().isoformat(),
        decision_deadline=today().replace(year=today().year + 1).isoformat(),
    )
    assert shown == [
        f"Proposal {proposal_id}: Cannot move to contract: Proposal summary is not approved; "
        "Timeline is not approved"
    ]
    settle()
    assert db.session.get(Proposal, proposal_id).status == "draft"


def test_editing_a_sent_proposal_makes_a_new_version(client, auth, make, journey):
    ops = make.user("growth_ops")
    lead = journey.to(make.lead(owner=ops), "contract")
    v1 = db.session.execute(sa.select(Proposal).filter_by(lead_id=lead.id)).scalar_one()
    v1_id, lead_id = v1.id, lead.id
    auth.login_as(ops)
    settle()
    form = form_of(client, f"/admin/proposals/edit/?id={v1_id}")

    resp = auth.post(
        f"/admin/proposals/edit/?id={v1_id}", form | {"price_cents": "0.01"}, follow_redirects=True
    )

    assert (
        "v1 was sent and stays as the client saw it: your changes are in v2, a new draft that needs "
        "approval before it is sent."
    ) in flashes(resp.get_data(as_text=True))
    settle()
    v1, v2 = db.session.scalars(
        sa.select(Proposal).filter_by(lead_id=lead_id).order_by(Proposal.number)
    ).all()
    assert (v1.status, v1.price_cents, v1.snapshot["price_cents"]) == ("sent", 450_000, 450_000)
    assert (v2.status, v2.number, v2.price_cents) == ("draft", 2, 1)


@pytest.mark.parametrize("why", ["currency", "paused", "stale"])
def test_a_refused_edit_says_why_on_the_form_and_writes_nothing(why, client, auth, make, journey):
    ops, lead, proposal = owned_draft(make, journey)
    proposal_id, lead_id = proposal.id, lead.id
    auth.login_as(ops)
    settle()
    form = form_of(client, f"/admin/proposals/edit/?id={proposal_id}") | {"price_cents": "0.01"}
    message = {
        "currency": "Currency is a three-letter code such as EUR.",
        "paused": PAUSED,
        "stale": (
            "This proposal was changed by someone else since you opened it. "
            "Review the current version and try again."
        ),
    }[why]
    if why == "currency":
        form["currency"] = "E1R"
    elif why == "paused":
        lead = db.session.get(type(lead), lead_id)
        pipeline.pause(db.session, lead, lead.owner, lead.version, "decision_path")
    else:
        proposal = db.session.get(Proposal, proposal_id)
        proposals.revise_proposal(db.session, proposal, proposal.lead.owner, None, internal_notes="Theirs")
    settle()
    before = events(lead_id)

    resp = auth.post(f"/admin/proposals/edit/?id={proposal_id}", form)

    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and f"Not saved: {message}" in flashes(page)
    if why == "currency":
        assert f"<li>{message}</li>" in page  # on the field it concerns
    settle()
    assert db.session.get(Proposal, proposal_id).price_cents == 450_000 and events(lead_id) == before


# --- scope items: save_item, remove_item ------------------------------------------------------------


@pytest.mark.parametrize("change", ["create", "edit", "delete"])
def test_the_scope_of_a_sent_proposal_is_frozen(change, client, auth, make):
    auth.login_as(make.user("admin"))
    proposal = sent_proposal()
    item = ProposalItem(proposal=proposal, kind="included", title="Monthly SEO report")
    db.session.add(item)
    db.session.flush()
    proposal_id, item_id = proposal.id, item.id
    settle()

    if change == "create":
        form = form_of(client, "/admin/proposal_items/new/")
        resp = auth.post(
            "/admin/proposal_items/new/",
            form | {"proposal": str(proposal_id), "kind": "add_on", "title": "Free extra", "position": "1"},
        )
    elif change == "edit":
        form = form_of(client, f"/admin/proposal_items/edit/?id={item_id}")
        resp = auth.post(f"/admin/proposal_items/edit/?id={item_id}", form | {"title": "Weekly report"})
    else:
        resp = auth.post("/admin/proposal_items/delete/", {"id": str(item_id)}, follow_redirects=True)

    assert f"Not saved: {proposals.FROZEN}" in flashes(resp.get_data(as_text=True))
    settle()
    items = db.session.execute(db.select(ProposalItem).filter_by(proposal_id=proposal_id)).scalars().all()
    assert [(i.id, i.title) for i in items] == [(item_id, "Monthly SEO report")]


def test_an_add_on_and_its_price_are_approved_before_the_client_can_accept_them(client, auth, make, journey):
    """Replays issue 16: add-on prices were never approved (the queue asked for "GBP 4,500.00", the
    client accepted a GBP 5,400 total)."""
    ops, lead, proposal = owned_draft(make, journey, currency="GBP")
    journey.approve_all(proposal)
    proposal_id, lead_id, before = proposal.id, lead.id, events(lead.id)
    auth.login_as(ops)
    settle()
    form = form_of(client, "/admin/proposal_items/new/")

    resp = auth.post(
        "/admin/proposal_items/new/",
        form
        | {
            "proposal": str(proposal_id),
            "kind": "add_on",
            "title": "Extra landing page",
            "price_cents": "900",
        },
    )

    assert resp.status_code == 302
    assert events(lead_id) == before + ["fields_changed"]
    assert approvals_of(proposal_id)["pricing"] == approvals_of(proposal_id)["scope"] == "superseded"
    resp = run_action(auth, "proposals", "request_approvals", [proposal_id], follow_redirects=True)
    assert flashes(resp.get_data(as_text=True)) == [
        f"Proposal {proposal_id}: approval requested for scope, pricing."
    ]
    settle()
    pricing = db.session.scalars(
        sa.select(Approval).filter_by(proposal_id=proposal_id, kind="pricing", state="pending")
    ).one()
    assert pricing.content == (
        "GBP 4,500.00; add-on: Landing page copy GBP 900.00; add-on: Extra landing page GBP 900.00"
    )


def test_items_of_a_draft_are_changed_and_removed_through_the_domain(client, auth, make, journey):
    _ops, lead, proposal = owned_draft(make, journey)
    journey.approve_all(proposal)
    add_on = next(i for i in proposal.items if i.kind == "add_on")
    proposal_id, lead_id, add_on_id, before = proposal.id, lead.id, add_on.id, events(lead.id)
    auth.login_as(make.user("admin"))  # growth ops do not delete rows
    settle()
    form = form_of(client, f"/admin/proposal_items/edit/?id={add_on_id}")

    edited = auth.post(f"/admin/proposal_items/edit/?id={add_on_id}", form | {"price_cents": "1,800"})
    deleted = auth.post("/admin/proposal_items/delete/", {"id": str(add_on_id)}, follow_redirects=True)

    assert edited.status_code == 302 and deleted.status_code == 200
    assert events(lead_id) == before + ["fields_changed", "fields_changed"]
    settle()
    assert [i.title for i in db.session.get(Proposal, proposal_id).items] == [
        i["title"] for i in SCOPE if i["kind"] != "add_on"
    ]
    assert approvals_of(proposal_id)["pricing"] == "superseded"


def test_growth_ops_change_the_scope_of_their_own_leads_only(client, auth, make, journey):
    _ops, lead, proposal = owned_draft(make, journey)
    item_id, lead_id, before = proposal.items[0].id, lead.id, events(lead.id)
    auth.login_as(make.user("growth_ops"))
    settle()
    form = form_of(client, f"/admin/proposal_items/edit/?id={item_id}")

    resp = auth.post(f"/admin/proposal_items/edit/?id={item_id}", form | {"title": "Guaranteed page one"})

    assert "Not saved: Only the owner of this opportunity (or an admin) can change scope items." in flashes(
        resp.get_data(as_text=True)
    )
    settle()
    assert db.session.get(ProposalItem, item_id).title == SCOPE[0]["title"] and events(lead_id) == before


# --- approvals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "growth_ops", "approver"])
def test_what_was_approved_cannot_be_changed_here(role, client, auth, make):
    auth.login_as(make.user(role))
    approval_id = add_row("approvals").id
    settle()
    assert client.get("/admin/approvals/").status_code == 200
    assert client.get(f"/admin/approvals/edit/?id={approval_id}").status_code == 403
    assert auth.post(f"/admin/approvals/edit/?id={approval_id}", {"comment": "x"}).status_code == 403
