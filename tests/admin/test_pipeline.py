"""Tasks and the append-only event trail."""

from __future__ import annotations

import pytest

from tests.admin.conftest import form_fields, settle
from tests.admin.rows import add_row
from zarts.extensions import db
from zarts.models import Event, Task


@pytest.mark.parametrize("role", ["admin", "growth_ops", "approver", "delivery"])
def test_events_can_be_read_and_exported_but_not_changed(role, client, auth, make):
    auth.login_as(make.user(role))
    event = add_row("events")
    event_id, kind = event.id, event.kind
    settle()

    assert client.get("/admin/events/").status_code == 200
    assert client.get("/admin/events/export/csv/").status_code == 200
    assert client.get("/admin/events/new/").status_code == 403
    assert client.get(f"/admin/events/edit/?id={event_id}").status_code == 403
    assert auth.post(f"/admin/events/edit/?id={event_id}", {"kind": "won"}).status_code == 403
    assert auth.post("/admin/events/delete/", {"id": str(event_id)}).status_code == 403
    auth.post("/admin/events/action/", {"action": "delete", "rowid": str(event_id)})

    settle()
    assert db.session.get(Event, event_id).kind == kind


def test_the_event_list_offers_no_edit_or_delete(client, auth, make):
    auth.login_as(make.user("admin"))
    event_id = add_row("events").id
    settle()
    page = client.get("/admin/events/").get_data(as_text=True)
    assert f"/admin/events/edit/?id={event_id}" not in page
    assert 'action="/admin/events/delete/"' not in page and "/admin/events/new/" not in page


def test_ticking_a_task_done_is_left_to_the_domain(client, auth, make):
    auth.login_as(make.user("delivery"))
    task_id = add_row("tasks").id
    settle()
    form = form_fields(client.get(f"/admin/tasks/edit/?id={task_id}").get_data(as_text=True))
    assert {"title", "due", "owner", "version"} <= set(form)
    assert not {"done_at", "done_by", "key"} & set(form)

    resp = auth.post(f"/admin/tasks/edit/?id={task_id}", form | {"title": "Call back Tuesday"})

    assert resp.status_code == 302
    settle()
    assert db.session.get(Task, task_id).title == "Call back Tuesday"
