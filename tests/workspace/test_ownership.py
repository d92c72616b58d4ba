"""Growth ops act on their own leads (SECURITY.md). Replays issue 16: the workspace accepted posts
to another owner's lead. Also the timeline's words for reassignments and tracked edits."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from zarts.domain import pipeline
from zarts.extensions import db
from zarts.models import Contract, Event, Lead, User, today

SOON = (today() + timedelta(days=3)).isoformat()
# Every workspace route that changes a lead, with what its owner would post.
LEAD_ROUTES = {
    "/qualification": {"decision_owner": "Me", "title": "Mine now"},
    "/next-action": {"next_action": "Call", "next_action_due": SOON},
    "/discovery": {
        "pain_points": "p",
        "current_lead_flow": "f",
        "provider_stack": "s",
        "decision_criteria": "c",
    },
    "/stage": {"stage": "qualified", "next_action_due": SOON},
    "/move": {"stage": "qualified"},
    "/pause": {"pause_reason": "timing"},
    "/resume": {"confirmed": "1"},
    "/lose": {"lost_reason": "price", "reactivation_never": "1"},
    "/reactivate": {"next_action": "Win back", "next_action_due": SOON, "confirmed": "1"},
    "/won": {},
    "/contract": {"state": "sent", "launch_blockers": "Mine"},
}


def _state(lead_id: int) -> tuple:
    db.session.expire_all()
    lead = db.session.get(Lead, lead_id)
    columns = {c.key: getattr(lead, c.key) for c in sa.inspect(Lead).column_attrs}
    events = db.session.scalar(sa.select(sa.func.count()).select_from(Event).where(Event.lead_id == lead_id))
    contracts = db.session.scalar(sa.select(sa.func.count()).select_from(Contract))
    return columns, events, contracts


@pytest.mark.parametrize("htmx", [True, False], ids=["fragment", "page"])
def test_growth_ops_posting_to_another_owners_lead_are_refused(htmx, auth, sign_in, make, journey, owner):
    lead = journey.to(make.lead(owner=owner), "contract")
    lead_id = lead.id
    sign_in(make.user("growth_ops"))
    for tail, data in LEAD_ROUTES.items():
        before = _state(lead_id)
        version = db.session.get(Lead, lead_id).version
        resp = auth.post(f"/workspace/leads/{lead_id}{tail}", data | {"version": version}, htmx=htmx)
        body = resp.get_data(as_text=True)
        assert resp.status_code == 403, (tail, resp.status_code)
        assert "Only the owner of this opportunity (or an admin) can" in body, tail
        assert _state(lead_id) == before, tail


def test_the_owner_and_an_admin_still_act(auth, sign_in, make, owner):
    for who in (owner, make.user("admin")):
        lead = make.lead(owner=owner)
        sign_in(who)
        resp = auth.post(
            f"/workspace/leads/{lead.id}/pause",
            {"pause_reason": "timing", "version": lead.version},
            htmx=True,
        )
        assert resp.status_code == 200 and db.session.get(Lead, lead.id).pause_reason == "timing"


def test_a_non_owner_sees_who_owns_the_lead(client, sign_in, make, owner):
    lead = make.lead(owner=owner)
    notice = "Olga Owner owns this opportunity: only they (or an admin) can change it."
    sign_in(make.user("growth_ops"))
    assert notice in client.get(f"/workspace/leads/{lead.id}").get_data(as_text=True)
    sign_in(owner)
    assert notice not in client.get(f"/workspace/leads/{lead.id}").get_data(as_text=True)


def test_the_timeline_shows_reassignments_and_edits_in_words(client, sign_in, make, owner):
    lead = make.lead(owner=owner, title="Roof")
    new = make.user("growth_ops", name="Nina <New>")
    pipeline.update_lead(
        db.session, lead, owner, lead.version, via="workspace", title="<b>Roof</b> & more", urgency="low"
    )
    pipeline.reassign(db.session, lead, owner, lead.version, new.id, note="<i>holiday</i>")
    sign_in(db.session.get(User, new.id))

    html = client.get(f"/workspace/leads/{lead.id}").get_data(as_text=True)

    timeline = html[html.index('id="timeline"') :]
    assert "Owner: Olga Owner → Nina &lt;New&gt;: “&lt;i&gt;holiday&lt;/i&gt;”" in timeline
    assert "Details edited in the workspace" in timeline
    assert "Title: Roof → &lt;b&gt;Roof&lt;/b&gt; &amp; more" in timeline
    assert "Urgency: high → low" in timeline
    assert "<b>Roof</b>" not in timeline and "<i>holiday" not in timeline
