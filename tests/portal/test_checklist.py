"""The onboarding checklist: the client ticks its own items inline (each tick an event); the team's
work shows only as counts, never as staff task titles."""

from __future__ import annotations

import sqlalchemy as sa

from tests.portal.conftest import progress_of
from tests.portal.test_isolation import database_state
from zarts.extensions import db
from zarts.models import Event, Task


def ticks(lead_id):
    return db.session.scalars(
        sa.select(Event.payload).where(Event.lead_id == lead_id, Event.kind == "checklist_ticked")
    ).all()


def test_ticking_an_item_inline_records_an_event_and_updates_the_progress(world, portal_as):
    a, _ = world
    me = portal_as(a.contact)
    item = a.checklist[0]
    _, total, _, _ = progress_of(a.project)
    resp = me.post(
        f"/portal/checklist/{item.id}", {"version": item.version, "done": "1", "from": "project"}, htmx=True
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and html.lstrip().startswith(
        f'<li id="check-{item.id}" class="check-item done"'
    )
    assert (
        f'id="progress-{a.project.id}" class="progress" hx-swap-oob="true"' in html
        and f"1 of {total}" in html
    )
    db.session.expire_all()
    task = db.session.get(Task, item.id)
    assert task.done_at is not None and task.done_by_id == a.contact.id
    assert ticks(a.won_lead.id) == [{"task_id": item.id, "done": True}]
    # Untick with the version the answer carried.
    version = html.split('name="version" value="')[1].split('"')[0]
    resp = me.post(f"/portal/checklist/{item.id}", {"version": version, "done": "0"}, htmx=True)
    assert resp.status_code == 200 and f"0 of {total}" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Task, item.id).done_at is None and len(ticks(a.won_lead.id)) == 2


def test_a_stale_tick_is_refused_where_the_user_is(world, portal_as):
    a, _ = world
    me = portal_as(a.contact)
    item, seen = a.checklist[1], a.checklist[1].version  # two tabs open on the same version
    assert (
        me.post(f"/portal/checklist/{item.id}", {"version": seen, "done": "1"}, htmx=True).status_code == 200
    )
    before = database_state()
    resp = me.post(f"/portal/checklist/{item.id}", {"version": seen, "done": "1"}, htmx=True)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and 'role="alert"' in html and "changed by someone else" in html
    assert html.lstrip().startswith(f'<li id="check-{item.id}"')  # the fresh item, ready to retry
    assert database_state() == before


def test_ticking_twice_with_the_fresh_version_says_it_is_already_ticked(world, portal_as):
    a, _ = world
    me = portal_as(a.contact)
    item = a.checklist[2]
    me.post(f"/portal/checklist/{item.id}", {"version": item.version, "done": "1"}, htmx=True)
    db.session.expire_all()
    fresh = db.session.get(Task, item.id).version
    resp = me.post(f"/portal/checklist/{item.id}", {"version": fresh, "done": "1"}, htmx=True)
    assert resp.status_code == 400 and "already ticked" in resp.get_data(as_text=True)


def test_without_htmx_a_tick_redirects_back(world, portal_as):
    a, _ = world
    me = portal_as(a.contact)
    item, seen = a.checklist[0], a.checklist[0].version
    resp = me.post(f"/portal/checklist/{item.id}", {"version": seen, "done": "1", "from": "project"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/portal/projects/{a.project.id}")
    resp = me.post(f"/portal/checklist/{item.id}", {"version": seen, "done": "0"})
    assert resp.status_code == 409 and "<html" in resp.get_data(as_text=True)


def test_staff_items_show_only_as_counts(world, portal_as, builder):
    a, _ = world
    me = portal_as(a.contact)
    builder.staff_task(a.project, "Ask IT for the HubSpot super-admin password", kind="connector")
    builder.staff_task(a.project, "Draft the reply to their complaint", kind="reply")  # not onboarding work
    db.session.commit()
    _, _, team_done, team_total = progress_of(a.project)
    for page in (f"/portal/projects/{a.project.id}", "/portal/checklist", "/portal/"):
        html = me.get(page).get_data(as_text=True)
        assert "HubSpot super-admin" not in html and "their complaint" not in html and "CANARY" not in html
        assert (
            f"the team: {team_done} of {team_total} onboarding tasks done" in html
            or f"working on {team_total - team_done} onboarding task" in html
        )


def test_the_project_page_shows_client_safe_status(world, portal_as):
    a, _ = world
    html = portal_as(a.contact).get(f"/portal/projects/{a.project.id}").get_data(as_text=True)
    _, total, _, _ = progress_of(a.project)
    for text in (
        "SAFE-A-project",
        "SAFE-A-next-steps",
        "SAFE-A-launch-blockers",
        "SAFE-A-check-1",
        "Kickoff",
        "Onboarding",
        f"0 of {total}",
    ):
        assert text in html
