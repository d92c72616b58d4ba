"""The lead page: checkpoints with their gates, inline next action, the lead's own forms, the timeline."""

from __future__ import annotations

from datetime import timedelta

from zarts.domain import pipeline
from zarts.extensions import db
from zarts.models import Lead, today

from .conftest import add_events


def lead_url(lead, tail=""):
    return f"/workspace/leads/{lead.id}{tail}"


def test_lead_page_groups_the_opportunity_by_checkpoint_with_gate_status(client, sign_in, make, owner):
    lead = make.lead(owner=owner, decision_owner=None)
    sign_in(owner)
    html = client.get(lead_url(lead)).get_data(as_text=True)
    for section in (
        "qualification",
        "discovery",
        "audit",
        "proposal",
        "approval",
        "contract",
        "handoff",
        "next_action",
        "pause",
        "outcome",
        "timeline",
    ):
        assert f'id="{section}"' in html, section
    qualification = html[html.index('id="qualification"') : html.index('id="discovery"')]
    assert "Decision owner is missing" in qualification and "1 missing" in qualification
    assert "Qualified: 1 missing" in html
    assert "Pain points not captured in discovery" in html[html.index('id="discovery"') :]


def test_unknown_lead_is_404(client, sign_in, owner):
    sign_in(owner)
    assert client.get("/workspace/leads/999999").status_code == 404


def test_fixing_the_gap_on_the_lead_page_lets_the_move_through(client, sign_in, hx_post, make, owner):
    lead = make.lead(owner=owner, decision_owner=None)
    sign_in(owner)
    resp = hx_post(
        lead_url(lead, "/qualification"), {"version": lead.version, "decision_owner": "Head of growth"}
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Qualification saved." in body and 'id="lead"' in body
    assert "<!doctype html>" not in body
    fixed = db.session.get(Lead, lead.id)
    assert fixed.decision_owner == "Head of growth"
    resp = hx_post(lead_url(lead, "/move"), {"stage": "qualified", "version": fixed.version})
    assert resp.status_code == 200 and db.session.get(Lead, lead.id).stage == "qualified"


def test_qualification_only_sends_changed_fields_and_refuses_bad_choices(
    client, sign_in, hx_post, make, owner
):
    lead = make.lead(owner=owner)
    sign_in(owner)
    before = lead.version
    resp = hx_post(
        lead_url(lead, "/qualification"), {"version": before, "title": lead.title, "source": "referral"}
    )
    assert resp.status_code == 200 and db.session.get(Lead, lead.id).version == before  # nothing changed
    resp = hx_post(
        lead_url(lead, "/qualification"),
        {"version": before, "source": "carrier pigeon", "decision_owner": "typed value kept"},
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "Choose a source from the list." in body
    assert 'value="typed value kept"' in body


def test_next_action_edits_inline(client, sign_in, hx_get, hx_post, make, owner):
    lead = make.lead(owner=owner)
    sign_in(owner)
    form = hx_get(lead_url(lead, "/next-action/edit")).get_data(as_text=True)
    assert form.lstrip().startswith('<section class="card next-action" id="next_action">')
    assert 'name="next_action_due"' in form
    display = hx_get(lead_url(lead, "/next-action")).get_data(as_text=True)
    assert "Edit next action" in display and "<!doctype html>" not in display

    due = today() + timedelta(days=4)
    resp = hx_post(
        lead_url(lead, "/next-action"),
        {"version": lead.version, "next_action": "Send the audit invite", "next_action_due": due.isoformat()},
    )
    assert resp.status_code == 200 and "Send the audit invite" in resp.get_data(as_text=True)
    assert db.session.get(Lead, lead.id).next_action_due == due


def test_next_action_refusal_keeps_the_form_open_with_what_was_typed(client, sign_in, hx_post, make, owner):
    lead = make.lead(owner=owner)
    sign_in(owner)
    past = (today() - timedelta(days=1)).isoformat()
    resp = hx_post(
        lead_url(lead, "/next-action"),
        {"version": lead.version, "next_action": "Call back", "next_action_due": past},
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "The due date cannot be in the past." in body
    assert 'value="Call back"' in body and f'value="{past}"' in body
    resp = hx_post(
        lead_url(lead, "/next-action"),
        {"version": lead.version, "next_action": "Call back", "next_action_due": "next tuesday"},
    )
    assert resp.status_code == 400 and "Due date: enter a date" in resp.get_data(as_text=True)


def test_next_action_edit_url_reloaded_is_the_lead_page_with_the_form(client, sign_in, make, owner):
    lead = make.lead(owner=owner)
    sign_in(owner)
    page = client.get(lead_url(lead, "/next-action/edit")).get_data(as_text=True)
    assert "<!doctype html>" in page and 'name="next_action_due"' in page and 'id="qualification"' in page


def test_a_stale_form_shows_the_conflict_and_the_current_values(client, sign_in, hx_post, make, owner):
    lead = make.lead(owner=owner)
    seen = lead.version
    pipeline.update_lead(db.session, lead, owner, lead.version, decision_owner="CFO")
    sign_in(owner)
    resp = hx_post(lead_url(lead, "/qualification"), {"version": seen, "decision_owner": "CEO"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "changed by someone else" in body
    assert db.session.get(Lead, lead.id).decision_owner == "CFO"


def test_discovery_needs_all_four_answers_and_keeps_the_typed_ones(client, sign_in, hx_post, make, owner):
    lead = make.lead(owner=owner)
    sign_in(owner)
    resp = hx_post(
        lead_url(lead, "/discovery"),
        {
            "version": lead.version,
            "pain_points": "Slow replies",
            "current_lead_flow": "",
            "provider_stack": "HubSpot",
            "decision_criteria": "",
        },
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "Discovery needs current lead flow, decision criteria." in body
    assert ">Slow replies</textarea>" in body
    assert db.session.get(Lead, lead.id).pain_points is None
    resp = hx_post(
        lead_url(lead, "/discovery"),
        {
            "version": lead.version,
            "pain_points": "Slow replies",
            "current_lead_flow": "Form\r\nthen inbox",
            "provider_stack": "HubSpot",
            "decision_criteria": "CPL",
        },
    )
    assert resp.status_code == 200 and db.session.get(Lead, lead.id).current_lead_flow == "Form\nthen inbox"


def test_stage_move_from_the_lead_page(client, sign_in, hx_post, make, owner):
    lead = make.lead(owner=owner)
    sign_in(owner)
    resp = hx_post(lead_url(lead, "/stage"), {"version": lead.version, "stage": "qualified"})
    assert resp.status_code == 200 and "Moved." in resp.get_data(as_text=True)
    lead = db.session.get(Lead, lead.id)
    resp = hx_post(lead_url(lead, "/stage"), {"version": lead.version, "stage": "audit"})
    assert resp.status_code == 422 and "Pain points not captured in discovery" in resp.get_data(as_text=True)


def test_pause_and_resume_need_their_fields(client, sign_in, hx_post, make, owner):
    lead = make.lead(owner=owner)
    sign_in(owner)
    resp = hx_post(lead_url(lead, "/pause"), {"version": lead.version, "pause_reason": ""})
    assert resp.status_code == 400 and "Choose why" in resp.get_data(as_text=True)
    resp = hx_post(
        lead_url(lead, "/pause"),
        {"version": lead.version, "pause_reason": "timing", "pause_note": "Budget frozen until Q3"},
    )
    assert resp.status_code == 200 and db.session.get(Lead, lead.id).is_paused
    lead = db.session.get(Lead, lead.id)
    resp = hx_post(lead_url(lead, "/resume"), {"version": lead.version})
    assert resp.status_code == 422 and "Confirm that the condition was re-checked" in resp.get_data(
        as_text=True
    )
    resp = hx_post(lead_url(lead, "/resume"), {"version": lead.version, "confirmed": "1"})
    assert resp.status_code == 200 and not db.session.get(Lead, lead.id).is_paused


def test_lose_needs_reason_and_window_then_reactivate(client, sign_in, hx_post, make, owner):
    lead = make.lead(owner=owner)
    sign_in(owner)
    resp = hx_post(lead_url(lead, "/lose"), {"version": lead.version})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Lost reason is missing" in body and "Reactivation date" in body
    later = today() + timedelta(days=90)
    resp = hx_post(
        lead_url(lead, "/lose"),
        {"version": lead.version, "lost_reason": "timing", "reactivation_date": later.isoformat()},
    )
    assert resp.status_code == 200
    lost = db.session.get(Lead, lead.id)
    assert lost.stage == "lost" and lost.reactivation_date == later
    resp = hx_post(
        lead_url(lead, "/reactivate"),
        {
            "version": lost.version,
            "next_action": "Call again",
            "next_action_due": (today() + timedelta(days=1)).isoformat(),
            "confirmed": "1",
        },
    )
    assert resp.status_code == 200 and db.session.get(Lead, lead.id).stage == "qualified"


def test_mark_won_too_early_lists_the_gaps(client, sign_in, hx_post, make, owner):
    lead = make.lead(owner=owner)
    sign_in(owner)
    resp = hx_post(lead_url(lead, "/won"), {"version": lead.version})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Send the proposal first" in body and "No accepted proposal" in body


def test_forbidden_actions_show_the_domain_message_inline(client, sign_in, hx_post, make, owner):
    lead = make.lead(owner=owner)
    sign_in(make.user("delivery"))
    resp = hx_post(lead_url(lead, "/qualification"), {"version": lead.version, "decision_owner": "CEO"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 403 and "Only growth ops (or an admin) can edit opportunities." in body
    assert 'id="lead"' in body


def test_plain_form_post_redirects_to_the_section(client, auth, sign_in, make, owner):
    lead = make.lead(owner=owner)
    sign_in(owner)
    resp = auth.post(lead_url(lead, "/qualification"), {"version": lead.version, "budget_signal": "10k"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(
        f"/workspace/leads/{lead.id}#qualification"
    )
    resp = auth.post(lead_url(lead, "/lose"), {"version": db.session.get(Lead, lead.id).version})
    assert resp.status_code == 422 and "<!doctype html>" in resp.get_data(as_text=True)


def test_timeline_is_newest_first_capped_with_an_older_link(client, sign_in, hx_get, make, owner):
    lead = make.lead(owner=owner)
    add_events(lead, 45)
    sign_in(owner)
    html = client.get(lead_url(lead)).get_data(as_text=True)
    timeline = html[html.index('id="timeline"') :]
    assert timeline.count('class="event ') == 20
    assert timeline.index("next: Step 44") < timeline.index("next: Step 25")
    older = timeline[timeline.index('hx-get="') + 8 :].split('"')[0].replace("&amp;", "&")
    page2 = hx_get(older).get_data(as_text=True)
    assert page2.count('class="event ') == 20 and "next: Step 24" in page2 and "next: Step 44" not in page2
    assert "<!doctype html>" not in page2
    older3 = page2[page2.index('hx-get="') + 8 :].split('"')[0].replace("&amp;", "&")
    page3 = client.get(older3).get_data(as_text=True)
    assert "<!doctype html>" in page3 and page3.count('class="event ') == 5 and "Older" not in page3


def test_a_refusal_on_the_lead_page_shows_once_not_under_every_open_task(client, sign_in, auth, make, owner):
    """A full-page refusal (no htmx) is shown in its section; the open tasks listed below it do not
    each repeat it (their rows once showed any error the page carried)."""
    from zarts.models import Task

    lead = make.lead(owner=owner)
    for i in range(3):
        db.session.add(
            Task(kind="follow_up", title=f"Follow up {i}", owner_id=owner.id, due=today(), lead_id=lead.id)
        )
    sign_in(owner)
    resp = auth.post(lead_url(lead, "/qualification"), {"version": lead.version, "source": "carrier pigeon"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and body.count('<li class="task" id="task-') == 3
    assert body.count("Choose a source from the list.") == 1
