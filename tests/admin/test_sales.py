"""Proposals freeze when sent; approvals are read here and decided only through the domain."""

from __future__ import annotations

import pytest

from tests.admin.conftest import flashes, form_fields, settle
from tests.admin.rows import add_row
from zarts.admin.sales import FROZEN_PROPOSAL
from zarts.extensions import db
from zarts.models import Proposal, ProposalItem, utcnow


def sent_proposal():
    return add_row("proposals", status="sent", snapshot={"title": "SEO retainer"}, sent_at=utcnow(),
                   price_cents=500_000)


def test_status_number_and_snapshot_are_not_in_the_proposal_form(client, auth, make):
    auth.login_as(make.user("growth_ops"))
    proposal_id = add_row("proposals").id
    settle()
    form = form_fields(client.get(f"/admin/proposals/edit/?id={proposal_id}").get_data(as_text=True))
    assert {"title", "price_cents", "lead", "version"} <= set(form)
    assert not {"status", "snapshot", "number", "sent_at", "items", "approvals"} & set(form)


def test_a_sent_proposal_is_frozen(client, auth, make):
    auth.login_as(make.user("admin"))
    proposal_id = sent_proposal().id
    settle()
    form = form_fields(client.get(f"/admin/proposals/edit/?id={proposal_id}").get_data(as_text=True))

    resp = auth.post(f"/admin/proposals/edit/?id={proposal_id}", form | {"price_cents": "1"})

    assert f"Not saved: {FROZEN_PROPOSAL}" in flashes(resp.get_data(as_text=True))
    settle()
    assert db.session.get(Proposal, proposal_id).price_cents == 500_000


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
        resp = auth.post("/admin/proposal_items/new/", {"proposal": str(proposal_id), "kind": "add_on",
                                                        "title": "Free extra", "position": "1"})
    elif change == "edit":
        form = form_fields(client.get(f"/admin/proposal_items/edit/?id={item_id}").get_data(as_text=True))
        resp = auth.post(f"/admin/proposal_items/edit/?id={item_id}", form | {"title": "Weekly report"})
    else:
        resp = auth.post("/admin/proposal_items/delete/", {"id": str(item_id)}, follow_redirects=True)

    assert f"Not saved: {FROZEN_PROPOSAL}" in flashes(resp.get_data(as_text=True))
    settle()
    items = db.session.execute(db.select(ProposalItem).filter_by(proposal_id=proposal_id)).scalars().all()
    assert [(i.id, i.title) for i in items] == [(item_id, "Monthly SEO report")]


def test_a_draft_proposal_is_created_as_a_draft(client, auth, make):
    auth.login_as(make.user("growth_ops"))
    lead_id = make.lead().id
    settle()
    form = form_fields(client.get("/admin/proposals/new/").get_data(as_text=True))

    resp = auth.post("/admin/proposals/new/", form | {"lead": str(lead_id), "title": "SEO retainer",
                                                      "service": "seo", "currency": "EUR"})

    assert resp.status_code == 302
    proposal = db.session.execute(db.select(Proposal).filter_by(lead_id=lead_id)).scalar_one()
    assert (proposal.status, proposal.number, proposal.snapshot) == ("draft", 1, None)


@pytest.mark.parametrize("role", ["admin", "growth_ops", "approver"])
def test_what_was_approved_cannot_be_changed_here(role, client, auth, make):
    auth.login_as(make.user(role))
    approval_id = add_row("approvals").id
    settle()
    assert client.get("/admin/approvals/").status_code == 200
    assert client.get(f"/admin/approvals/edit/?id={approval_id}").status_code == 403
    assert auth.post(f"/admin/approvals/edit/?id={approval_id}", {"comment": "x"}).status_code == 403
