"""The admin's list actions call zarts.domain, one unit per row, and show the domain's messages.

Each action is posted as a browser would (list action with a real CSRF token, then its form page with
the versions it showed). A change lands exactly as the domain makes it (events included); a refusal is
a flash in the domain's words and changes nothing; the admin's role rights and the domain's own
checks (owner-only moves, no self-approval) both apply.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.admin.conftest import flashes, form_fields, settle
from zarts.domain import pipeline, proposals
from zarts.extensions import db
from zarts.models import Approval, Event, Lead, Proposal, Task, User, today

SOON = today() + timedelta(days=3)


def run_action(auth, table: str, action: str, ids, **kw):
    """Choose `action` in the list's "With selected" menu for the rows `ids`."""
    return auth.post(
        f"/admin/{table}/action/",
        {"action": action, "rowid": [str(i) for i in ids], "url": f"/admin/{table}/"},
        **kw,
    )


def open_form(client, auth, table: str, action: str, ids) -> tuple[str, dict]:
    """The action's form page for `ids`: its URL and the rows and versions it would submit."""
    resp = run_action(auth, table, action, ids)
    assert resp.status_code == 302, resp.status_code
    url = resp.headers["Location"]
    page = client.get(url).get_data(as_text=True)
    data: dict = {"rowid": re.findall(r'name="rowid" value="(\d+)"', page)}
    data |= dict(re.findall(r'name="(version-\d+)" value="(\d+)"', page))
    return url, data


def submit(client, auth, table: str, action: str, ids, **fields) -> list[str]:
    """Open the action's form page for `ids`, fill in `fields`, submit; the flashes that come back."""
    url, data = open_form(client, auth, table, action, ids)
    resp = auth.post(url, data | fields, follow_redirects=True)
    assert resp.status_code == 200
    return flashes(resp.get_data(as_text=True))


def events(lead_id: int) -> list[str]:
    return list(db.session.scalars(sa.select(Event.kind).where(Event.lead_id == lead_id).order_by(Event.id)))


def fresh(model, row_id):
    settle()
    return db.session.get(model, row_id)


def list_page(client, table: str) -> str:
    return client.get(f"/admin/{table}/").get_data(as_text=True)


def offers(page: str, action: str) -> bool:
    return f"modelActions.execute('{action}')" in page


# --- leads: move to stage -------------------------------------------------------------------------


def test_move_to_stage_moves_each_selected_lead_through_the_domain(client, auth, make):
    ops = make.user("growth_ops")
    first, second, ops_id = make.lead(owner=ops).id, make.lead(owner=ops).id, ops.id
    auth.login_as(ops)
    settle()

    shown = submit(
        client,
        auth,
        "leads",
        "move_stage",
        [first, second],
        stage="qualified",
        next_action="Book the discovery call",
        next_action_due=SOON.isoformat(),
    )

    assert shown == [f"Lead {first}: moved to Qualified.", f"Lead {second}: moved to Qualified."]
    for lead_id in (first, second):
        lead = fresh(Lead, lead_id)
        assert (lead.stage, lead.next_action, lead.next_action_due) == (
            "qualified",
            "Book the discovery call",
            SOON,
        )
        assert events(lead_id) == ["stage_moved", "qualified"]
        moved = db.session.scalars(sa.select(Event).where(Event.lead_id == lead_id)).first()
        assert (moved.actor_id, moved.payload) == (ops_id, {"from_stage": "new", "to_stage": "qualified"})


def test_a_gate_refusal_lists_what_is_missing_and_changes_nothing(client, auth, make, journey):
    ops = make.user("growth_ops")
    lead = journey.to(make.lead(owner=ops), "discovery")  # no discovery notes logged
    lead_id, version, before = lead.id, lead.version, events(lead.id)
    auth.login_as(ops)
    settle()

    shown = submit(
        client,
        auth,
        "leads",
        "move_stage",
        [lead_id],
        stage="audit",
        next_action="Run the audit",
        next_action_due=SOON.isoformat(),
    )

    assert shown == [
        (
            f"Lead {lead_id}: Cannot move to audit: Pain points not captured in discovery; "
            "Current lead flow not captured in discovery; Provider stack not captured in discovery; "
            "Decision criteria not captured in discovery"
        )
    ]
    lead = fresh(Lead, lead_id)
    assert (lead.stage, lead.version, lead.next_action) == ("discovery", version, "Call to qualify")
    assert events(lead_id) == before


def test_each_lead_is_its_own_unit_one_refusal_does_not_undo_the_others(client, auth, make):
    ops = make.user("growth_ops")
    ready, unready = make.lead(owner=ops).id, make.lead(owner=ops, urgency=None, budget_signal=None).id
    auth.login_as(ops)
    settle()

    shown = submit(client, auth, "leads", "move_stage", [ready, unready], stage="qualified")

    assert shown == [
        f"Lead {ready}: moved to Qualified.",
        f"Lead {unready}: Cannot move to qualified: Urgency is missing; Budget signal is missing",
    ]
    assert (fresh(Lead, ready).stage, fresh(Lead, unready).stage) == ("qualified", "new")
    assert events(unready) == []


def test_only_the_owner_moves_a_lead(client, auth, make):
    lead_id = make.lead(owner=make.user("growth_ops")).id
    auth.login_as(make.user("growth_ops"))
    settle()

    shown = submit(client, auth, "leads", "move_stage", [lead_id], stage="qualified")

    assert shown == [f"Lead {lead_id}: Only the owner of this opportunity (or an admin) can move it."]
    assert fresh(Lead, lead_id).stage == "new"
    assert events(lead_id) == []


def test_a_lead_changed_after_the_form_opened_is_refused_as_a_conflict(client, auth, make):
    ops = make.user("growth_ops")
    lead_id, ops_id = make.lead(owner=ops).id, ops.id
    auth.login_as(ops)
    settle()
    url, data = open_form(client, auth, "leads", "move_stage", [lead_id])
    lead = db.session.get(Lead, lead_id)
    pipeline.set_next_action(
        db.session, lead, db.session.get(User, ops_id), lead.version, "Someone else's plan", SOON
    )
    settle()

    resp = auth.post(url, data | {"stage": "qualified"}, follow_redirects=True)

    assert flashes(resp.get_data(as_text=True)) == [
        (
            f"Lead {lead_id}: This opportunity was changed by someone else since you opened it. "
            "Review the current version and try again."
        )
    ]
    assert fresh(Lead, lead_id).stage == "new"


def test_the_move_form_asks_for_a_stage_and_moves_nothing_without_one(client, auth, make):
    ops = make.user("growth_ops")
    lead_id = make.lead(owner=ops).id
    auth.login_as(ops)
    settle()
    url, data = open_form(client, auth, "leads", "move_stage", [lead_id])

    resp = auth.post(url, data | {"stage": ""})

    assert resp.status_code == 200 and "Choose the stage to move to." in resp.get_data(as_text=True)
    assert fresh(Lead, lead_id).stage == "new"


# --- leads: mark lost ------------------------------------------------------------------------------


def test_mark_lost_closes_the_lead_with_its_reason_and_a_win_back_task(client, auth, make):
    ops = make.user("growth_ops")
    lead_id, ops_id = make.lead(owner=ops).id, ops.id
    auth.login_as(ops)
    settle()
    back_on = today() + timedelta(days=90)

    shown = submit(
        client,
        auth,
        "leads",
        "mark_lost",
        [lead_id],
        lost_reason="competitor",
        lost_note="Chose an in-house team",
        reactivation_date=back_on.isoformat(),
    )

    assert shown == [f"Lead {lead_id}: marked lost (Competitor); win-back on {back_on:%Y-%m-%d}."]
    lead = fresh(Lead, lead_id)
    assert (lead.stage, lead.lost_reason, lead.lost_note, lead.reactivation_date) == (
        "lost",
        "competitor",
        "Chose an in-house team",
        back_on,
    )
    assert events(lead_id) == ["stage_moved", "lost"]
    task = db.session.scalars(sa.select(Task).where(Task.lead_id == lead_id)).one()
    assert (task.kind, task.due, task.owner_id) == ("reactivation", back_on, ops_id)


def test_mark_lost_without_a_reason_or_a_date_is_refused_in_the_domains_words(client, auth, make):
    ops = make.user("growth_ops")
    lead_id = make.lead(owner=ops).id
    auth.login_as(ops)
    settle()

    shown = submit(client, auth, "leads", "mark_lost", [lead_id], lost_reason="")

    assert shown == [
        (
            f"Lead {lead_id}: Cannot move to lost: Lost reason is missing; "
            "Reactivation date (or an explicit “never”) is missing"
        )
    ]
    assert fresh(Lead, lead_id).stage == "new"
    assert events(lead_id) == []


def test_mark_lost_for_good(client, auth, make):
    admin = make.user("admin")
    lead_id = make.lead().id  # owned by someone else: an admin may still close it
    auth.login_as(admin)
    settle()

    shown = submit(
        client, auth, "leads", "mark_lost", [lead_id], lost_reason="poor_fit", reactivation_never="y"
    )

    assert shown == [f"Lead {lead_id}: marked lost (Poor fit); never to be reactivated."]
    lead = fresh(Lead, lead_id)
    assert (lead.stage, lead.reactivation_never) == ("lost", True)


# --- proposals -------------------------------------------------------------------------------------


def draft_for(make, journey):
    ops = make.user("growth_ops")
    lead = journey.to(make.lead(owner=ops), "proposal")
    return ops, lead, journey.draft(lead)


def test_request_approvals_routes_each_sensitive_part_to_an_approver(client, auth, make, journey):
    ops, lead, proposal = draft_for(make, journey)
    approver_id = make.user("approver").id
    proposal_id, lead_id, ops_id, before = proposal.id, lead.id, ops.id, events(lead.id)
    auth.login_as(ops)
    settle()

    resp = run_action(auth, "proposals", "request_approvals", [proposal_id], follow_redirects=True)

    assert flashes(resp.get_data(as_text=True)) == [
        f"Proposal {proposal_id}: approval requested for proposal summary, scope, pricing, timeline, "
        "expected-improvement claim, contract language."
    ]
    settle()
    asked = db.session.scalars(
        sa.select(Approval).where(Approval.proposal_id == proposal_id).order_by(Approval.id)
    ).all()
    assert [(a.kind, a.state, a.requested_by_id) for a in asked] == [
        (kind, "pending", ops_id) for kind in proposals.APPROVAL_PARTS
    ]
    assert events(lead_id) == before + ["approval_requested"] * 6
    reviews = db.session.scalars(sa.select(Task).where(Task.kind == "proposal_review")).all()
    assert {t.owner_id for t in reviews} == {approver_id}


def test_send_freezes_the_proposal_and_moves_the_lead_to_contract(client, auth, make, journey):
    ops, lead, proposal = draft_for(make, journey)
    journey.approve_all(proposal)
    proposal_id, lead_id, before = proposal.id, lead.id, events(lead.id)
    auth.login_as(ops)
    settle()
    follow_up, deadline = today() + timedelta(days=2), today() + timedelta(days=14)

    shown = submit(
        client,
        auth,
        "proposals",
        "send",
        [proposal_id],
        follow_up_date=follow_up.isoformat(),
        decision_deadline=deadline.isoformat(),
        message="Looking forward to your thoughts.",
    )

    lead = fresh(Lead, lead_id)
    assert shown == [
        (
            f"Proposal {proposal_id}: v1 sent to {lead.contact_email}; follow-up on "
            f"{follow_up:%Y-%m-%d}, lead at Contract (proposal sent)."
        )
    ]
    proposal = db.session.get(Proposal, proposal_id)
    assert (proposal.status, proposal.follow_up_date, proposal.decision_deadline) == (
        "sent",
        follow_up,
        deadline,
    )
    assert proposal.snapshot["title"] == "Growth plan"
    assert (lead.stage, lead.decision_deadline) == ("contract", deadline)
    assert events(lead_id) == before + ["proposal_sent", "stage_moved"]


def test_an_unapproved_proposal_is_not_sent(client, auth, make, journey):
    ops, lead, proposal = draft_for(make, journey)
    proposal_id, lead_id, before = proposal.id, lead.id, events(lead.id)
    auth.login_as(ops)
    settle()

    shown = submit(
        client,
        auth,
        "proposals",
        "send",
        [proposal_id],
        follow_up_date=SOON.isoformat(),
        decision_deadline=(today() + timedelta(days=14)).isoformat(),
    )

    assert shown == [
        (
            f"Proposal {proposal_id}: Cannot move to contract: Proposal summary is not approved; "
            "Scope is not approved; Pricing is not approved; Timeline is not approved; "
            "Expected-improvement claim is not approved; Contract language is not approved"
        )
    ]
    assert (fresh(Proposal, proposal_id).status, fresh(Lead, lead_id).stage) == ("draft", "proposal")
    assert events(lead_id) == before


# --- approvals -------------------------------------------------------------------------------------


def pending_approvals(make, journey, requester=None):
    """The pending approvals of a drafted proposal, requested (through the domain) by `requester`."""
    owner = requester or make.user("growth_ops")
    lead = journey.to(make.lead(owner=owner), "proposal")
    proposal = journey.draft(lead)
    asked = proposals.request_approvals(db.session, proposal, owner)
    return lead, [a.id for a in asked]


def test_an_approver_approves_and_the_decision_is_an_event(client, auth, make, journey):
    lead, (_summary, _scope, pricing, *_) = pending_approvals(make, journey)
    approver = make.user("approver")
    lead_id, approver_id, before = lead.id, approver.id, events(lead.id)
    auth.login_as(approver)
    settle()

    resp = run_action(auth, "approvals", "approve", [pricing], follow_redirects=True)

    assert flashes(resp.get_data(as_text=True)) == [f"Approval {pricing}: Pricing approved."]
    approval = fresh(Approval, pricing)
    assert (approval.state, approval.decided_by_id) == ("approved", approver_id)
    assert events(lead_id) == before + ["approval_decided"]


def test_nobody_approves_their_own_request(client, auth, make, journey):
    admin = make.user("admin")
    make.user("approver")  # another approver exists: the review is theirs
    lead, (_summary, _scope, pricing, *_) = pending_approvals(make, journey, requester=admin)
    lead_id, before = lead.id, events(lead.id)
    auth.login_as(admin)
    settle()

    resp = run_action(auth, "approvals", "approve", [pricing], follow_redirects=True)

    assert flashes(resp.get_data(as_text=True)) == [
        f"Approval {pricing}: Nobody approves their own request: another approver must decide."
    ]
    assert fresh(Approval, pricing).state == "pending"
    assert events(lead_id) == before


def test_a_rejection_needs_a_comment(client, auth, make, journey):
    lead, (_summary, _scope, pricing, _timeline, claim, _) = pending_approvals(make, journey)
    auth.login_as(make.user("approver"))
    lead_id, before = lead.id, events(lead.id)
    settle()

    refused = submit(client, auth, "approvals", "reject", [pricing], comment="  ")
    rejected = submit(client, auth, "approvals", "reject", [claim], comment="Not backed by the audit figures")

    assert refused == [f"Approval {pricing}: Say why it is rejected: a comment is required."]
    assert rejected == [f"Approval {claim}: Expected-improvement claim rejected."]
    assert fresh(Approval, pricing).state == "pending"
    claim_row = db.session.get(Approval, claim)
    assert (claim_row.state, claim_row.comment) == ("rejected", "Not backed by the audit figures")
    assert events(lead_id) == before + ["approval_decided"]


# --- who gets which action -------------------------------------------------------------------------


def test_growth_ops_cannot_approve(client, auth, make, journey):
    _, (pricing, *_) = pending_approvals(make, journey)
    auth.login_as(make.user("growth_ops"))
    settle()

    page = list_page(client, "approvals")
    resp = run_action(auth, "approvals", "approve", [pricing])

    assert not offers(page, "approve") and not offers(page, "reject")
    assert resp.status_code == 302 and resp.headers["Location"] == "/admin/approvals/"
    assert client.get(f"/admin/approvals/reject/?id={pricing}").status_code == 403
    assert (
        auth.post(
            f"/admin/approvals/reject/?id={pricing}", {"rowid": str(pricing), "comment": "No"}
        ).status_code
        == 403
    )
    assert fresh(Approval, pricing).state == "pending"


@pytest.mark.parametrize("role", ["approver", "admin"])
def test_approvers_and_admins_get_the_decisions_and_nothing_else_on_approvals(role, client, auth, make):
    auth.login_as(make.user(role))
    settle()
    page = list_page(client, "approvals")
    assert offers(page, "approve") and offers(page, "reject") and not offers(page, "delete")


def test_delivery_sees_no_lead_actions(client, auth, make):
    lead_id = make.lead().id
    auth.login_as(make.user("delivery"))
    settle()

    assert client.get("/admin/leads/").status_code == 403
    assert run_action(auth, "leads", "move_stage", [lead_id]).status_code == 403
    assert client.get(f"/admin/leads/move/?id={lead_id}").status_code == 403
    assert (
        auth.post(
            "/admin/leads/lost/", {"rowid": str(lead_id), "lost_reason": "price", "reactivation_never": "y"}
        ).status_code
        == 403
    )
    assert fresh(Lead, lead_id).stage == "new"


def test_an_approver_cannot_move_stages(client, auth, make):
    lead_id = make.lead().id
    auth.login_as(make.user("approver"))
    settle()

    page = list_page(client, "leads")
    resp = run_action(auth, "leads", "move_stage", [lead_id])

    assert not offers(page, "move_stage") and not offers(page, "mark_lost")
    assert resp.status_code == 302 and resp.headers["Location"] == "/admin/leads/"  # no form page
    assert client.get(f"/admin/leads/move/?id={lead_id}").status_code == 403
    assert auth.post("/admin/leads/move/", {"rowid": str(lead_id), "stage": "qualified"}).status_code == 403
    assert fresh(Lead, lead_id).stage == "new"
    assert events(lead_id) == []


def test_growth_ops_get_the_lead_and_proposal_actions(client, auth, make):
    auth.login_as(make.user("growth_ops"))
    settle()
    leads, proposals_page = list_page(client, "leads"), list_page(client, "proposals")
    assert offers(leads, "move_stage") and offers(leads, "mark_lost")
    assert offers(proposals_page, "request_approvals") and offers(proposals_page, "send")


def test_a_form_page_without_rows_goes_back_to_the_list(client, auth, make):
    auth.login_as(make.user("growth_ops"))
    settle()
    resp = auth.post(
        "/admin/leads/move/", {"rowid": ["x", "-1", "99999"], "stage": "qualified"}, follow_redirects=True
    )
    assert resp.status_code == 200
    assert flashes(resp.get_data(as_text=True)) == ["Select the rows to act on in the list first."]


# --- creating a lead in the admin --------------------------------------------------------------------


def new_lead_form(client) -> dict[str, str]:
    return form_fields(client.get("/admin/leads/new/").get_data(as_text=True))


def test_a_lead_created_in_the_admin_has_its_created_event(client, auth, make):
    ops = auth.login_as(make.user("growth_ops"))
    ops_id = ops.id
    settle()
    form = new_lead_form(client) | {
        "title": "Roof repairs",
        "company": "Acme",
        "owner": str(ops_id),
        "source": "website",
        "service": "seo",
    }

    resp = auth.post("/admin/leads/new/", form)

    assert resp.status_code == 302
    settle()
    lead = db.session.scalars(sa.select(Lead).filter_by(company="Acme")).one()
    assert (lead.stage, lead.owner_id) == ("new", ops_id)
    created = db.session.scalars(sa.select(Event).where(Event.lead_id == lead.id)).one()
    assert (created.kind, created.actor_id, created.owner_id, created.stage) == (
        "created",
        ops_id,
        ops_id,
        "new",
    )


def test_the_new_lead_form_has_no_loss_or_pause_fields(client, auth, make):
    auth.login_as(make.user("admin"))
    settle()
    assert not {"lost_reason", "lost_note", "reactivation_date", "reactivation_never", "pause_note"} & set(
        new_lead_form(client)
    )


def test_a_refused_new_lead_keeps_the_form_and_its_messages(client, auth, make):
    auth.login_as(make.user("growth_ops"))
    contact_id = make.user("client").id
    settle()
    form = new_lead_form(client)

    blank = auth.post("/admin/leads/new/", form | {"company": "Acme", "source": "website", "service": "seo"})
    not_staff = auth.post(
        "/admin/leads/new/",
        form
        | {
            "title": "Roof",
            "company": "Acme",
            "source": "website",
            "service": "seo",
            "owner": str(contact_id),
        },
    )

    assert blank.status_code == 200 and "This field is required." in blank.get_data(as_text=True)
    assert "Not saved: The owner must be an active staff member." in flashes(not_staff.get_data(as_text=True))
    settle()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 0
    assert db.session.get(User, contact_id).role == "client"
