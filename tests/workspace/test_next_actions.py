"""Next actions that stay true, seen on the screens (issue 17): My tasks after a win, the lead page after
a loss, the objection history, one probability, and reactivation with its refusals in words."""

from __future__ import annotations

import html as htmllib
from datetime import timedelta

import sqlalchemy as sa

from zarts.domain import gates, pipeline, proposals, trail
from zarts.extensions import db
from zarts.models import Contract, Lead, Task, today


def url(lead, tail=""):
    return f"/workspace/leads/{lead.id}{tail}"


def open_sections(html: str) -> str:
    """My tasks' open sections (overdue, today, upcoming), without the recently done list."""
    start = html.index('id="tasks-overdue"')
    end = html.index('id="tasks-done"') if 'id="tasks-done"' in html else len(html)
    return html[start:end]


def test_after_a_win_my_tasks_shows_only_live_tasks(client, sign_in, hx_post, journey, make, owner):
    lead = journey.to(make.lead(owner=owner, company="Acme"), "accepted")
    onboarding = make.user("delivery", name="Dora Delivery")
    pipeline.set_next_action(db.session, lead, owner, lead.version, "Chase the signature", today())
    sign_in(owner)
    before = open_sections(client.get("/workspace/tasks").get_data(as_text=True))
    assert "Follow up on proposal v1 with Acme" in before and "prepare and send the contract" in before
    assert "Chase the signature" in before
    contract = db.session.execute(sa.select(Contract).where(Contract.lead_id == lead.id)).scalar_one()
    resp = hx_post(
        url(lead, "/contract"),
        {
            "version": contract.version,
            "state": "signed",
            "payment_state": "invoiced",
            "kickoff_date": (today() + timedelta(days=7)).isoformat(),
            "onboarding_owner_id": str(onboarding.id),
        },
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    resp = hx_post(url(lead, "/won"), {"version": db.session.get(Lead, lead.id).version})
    assert resp.status_code == 200 and db.session.get(Lead, lead.id).stage == "won"
    assert "Kickoff with Acme" in resp.get_data(as_text=True)
    after = open_sections(client.get("/workspace/tasks").get_data(as_text=True))
    for stale in (
        "Follow up on proposal v1",
        "prepare and send the contract",
        "Chase the signature",
        "Confirm kickoff and onboarding owner",
    ):
        assert stale not in after, stale
    # What stays open for the owner is only what is still true (none of the lead's superseded tasks).
    left = db.session.scalars(
        sa.select(Task).where(Task.lead_id == lead.id, Task.owner_id == owner.id, Task.done_at.is_(None))
    ).all()
    assert all(t.kind not in pipeline.WON_SUPERSEDES for t in left)
    sign_in(onboarding)  # the kickoff is the onboarding owner's, from the handoff's checklist
    assert "Kickoff call" in open_sections(client.get("/workspace/tasks").get_data(as_text=True))


def test_after_a_loss_the_lead_shows_the_win_back(client, sign_in, hx_post, make, owner):
    lead = make.lead(owner=owner, company="Acme", next_action="Book discovery call")
    sign_in(owner)
    back = today() + timedelta(days=90)
    resp = hx_post(
        url(lead, "/lose"),
        {"version": lead.version, "lost_reason": "timing", "reactivation_date": back.isoformat()},
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Win-back: reactivate Acme" in body and "Book discovery call" not in body


def test_two_objections_are_both_listed_newest_first_and_escaped(
    client, sign_in, hx_post, journey, make, owner
):
    lead = journey.to(make.lead(owner=owner), "contract")
    sent = gates.live_proposal(db.session, lead.id)
    sign_in(owner)
    resp = hx_post(
        url(lead, f"/proposals/{sent.id}/objection"),
        {"version": sent.version, "objection": "Too <b>expensive</b>"},
    )
    assert resp.status_code == 200
    sent = db.session.get(type(sent), sent.id)
    resp = hx_post(
        url(lead, f"/proposals/{sent.id}/objection"),
        {"version": sent.version, "objection": "Notice period too long"},
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    listed = body[body.index('class="objection-list"') :]
    assert listed.index("Notice period too long") < listed.index("Too &lt;b&gt;expensive&lt;/b&gt;")
    assert "<b>expensive</b>" not in body and owner.name in htmllib.unescape(listed)
    assert "Objections (2)" in body


def test_probability_agrees_after_sending(client, sign_in, journey, make, owner):
    lead = journey.to(make.lead(owner=owner), "contract")
    sign_in(owner)
    body = client.get(url(lead)).get_data(as_text=True)
    header = body[body.index('class="lead-facts"') : body.index("</p>", body.index('class="lead-facts"'))]
    panel = body[body.index('id="proposal"') :]
    assert "60%" in header
    assert "<dt>Probability</dt><dd>60%</dd>" in panel
    assert 'name="probability" inputmode="numeric" value="60"' in panel


def _lost(make, owner, **kw):
    lead = make.lead(owner=owner, company="Acme")
    pipeline.mark_lost(db.session, lead, owner, lead.version, lost_reason="timing", **kw)
    return lead


def test_reactivation_is_refused_without_confirmation_or_date(client, sign_in, hx_post, make, owner):
    lead = _lost(make, owner, reactivation_date=today() + timedelta(days=30))
    sign_in(owner)
    page = client.get(url(lead)).get_data(as_text=True)
    assert 'name="confirmed"' in page and "Re-qualify by" in page
    resp = hx_post(url(lead, "/reactivate"), {"version": lead.version})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Confirm that you want to reactivate it" in body and "Give the re-qualification a due date" in body
    resp = hx_post(
        url(lead, "/reactivate"),
        {
            "version": lead.version,
            "confirmed": "1",
            "next_action_due": (today() - timedelta(days=1)).isoformat(),
        },
    )
    assert resp.status_code == 422 and "The due date cannot be in the past" in resp.get_data(as_text=True)
    assert db.session.get(Lead, lead.id).stage == "lost"


def test_reactivation_creates_the_owners_task(client, sign_in, hx_post, make, owner):
    lead = _lost(make, owner, reactivation_date=today() + timedelta(days=30))
    sign_in(owner)
    due = today() + timedelta(days=1)
    resp = hx_post(
        url(lead, "/reactivate"),
        {"version": lead.version, "confirmed": "1", "next_action": "", "next_action_due": due.isoformat()},
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert db.session.get(Lead, lead.id).stage == "qualified"
    tasks = open_sections(client.get("/workspace/tasks").get_data(as_text=True))
    assert "Re-qualify Acme" in tasks and "Win-back: reactivate Acme" not in tasks


def test_never_reactivate_is_for_an_admin_only(client, sign_in, hx_post, make, owner):
    lead = _lost(make, owner, reactivation_never=True)
    sign_in(owner)
    page = client.get(url(lead)).get_data(as_text=True)
    assert "only an admin can reactivate it" in page and f'action="{url(lead, "/reactivate")}"' not in page
    resp = hx_post(
        url(lead, "/reactivate"),
        {"version": lead.version, "confirmed": "1", "next_action_due": today().isoformat()},
    )
    assert resp.status_code == 403 and "only an admin can reactivate it" in resp.get_data(as_text=True)
    assert db.session.get(Lead, lead.id).stage == "lost"
    sign_in(make.user("admin"))
    resp = hx_post(
        url(lead, "/reactivate"),
        {
            "version": db.session.get(Lead, lead.id).version,
            "confirmed": "1",
            "next_action_due": today().isoformat(),
        },
    )
    assert resp.status_code == 200 and db.session.get(Lead, lead.id).stage == "qualified"
    task = db.session.scalars(sa.select(Task).where(Task.key == trail.next_action_key(lead.id))).one()
    assert (task.title, task.owner_id) == ("Re-qualify Acme", owner.id)


def test_objection_history_costs_nothing_on_a_page_without_objections(journey, make, owner):
    lead = journey.to(make.lead(owner=owner), "contract")
    assert proposals.objection_history(db.session, lead.id, [gates.live_proposal(db.session, lead.id)]) == []
