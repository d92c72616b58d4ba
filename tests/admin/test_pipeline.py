"""Tasks and the append-only event trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.admin.conftest import flashes, form_fields, settle
from tests.admin.rows import add_row
from tests.conftest import AuthActions
from zarts.domain import approvals, tasks
from zarts.extensions import db
from zarts.models import Approval, Event, Project, Task, User, today

DUE = today() + timedelta(days=2)


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


# --- tasks: through zarts.domain.tasks (issue 16) ---------------------------------------------------


def run_action(auth, action: str, ids) -> list[str]:
    resp = auth.post(
        "/admin/tasks/action/",
        {"action": action, "rowid": [str(i) for i in ids], "url": "/admin/tasks/"},
        follow_redirects=True,
    )
    assert resp.status_code == 200
    return flashes(resp.get_data(as_text=True))


def won_client(make):
    """A client, its opportunity (owned by a growth ops user) and its project."""
    client = make.client()
    lead = make.lead(client_id=client.id)
    project = Project(name="SEO for Acme", client_id=client.id, lead_id=lead.id, service="seo")
    db.session.add(project)
    db.session.flush()
    return client, lead, project


def portal_checklist(app, contact_id: int) -> str:
    """The client contact's portal checklist page, in a session of their own."""
    settle()
    portal = app.test_client()
    AuthActions(portal).login_as(db.session.get(User, contact_id))
    page = portal.get("/portal/checklist").get_data(as_text=True)
    settle()
    return page


def task_events(lead_id: int, kind: str) -> list[Event]:
    return list(db.session.scalars(sa.select(Event).where(Event.lead_id == lead_id, Event.kind == kind)))


def test_the_task_form_leaves_done_visibility_and_bookkeeping_to_the_domain(client, auth, make):
    lead = make.lead()
    owner = auth.login_as(lead.owner)
    task = tasks.create_task(
        db.session, owner, title="Call back", owner_id=owner.id, due=DUE, lead_id=lead.id
    )
    task_id, lead_id = task.id, lead.id
    settle()
    form = form_fields(client.get(f"/admin/tasks/edit/?id={task_id}").get_data(as_text=True))
    fields = {"title", "kind", "notes", "owner", "due", "lead", "client", "project", "version"}
    assert set(form) - {"csrf_token"} == fields

    forged = {"client_visible": "y", "done_at": "2020-01-01"}
    resp = auth.post(f"/admin/tasks/edit/?id={task_id}", form | forged | {"title": "Call back Tuesday"})

    assert resp.status_code == 302
    settle()
    task = db.session.get(Task, task_id)
    assert (task.title, task.client_visible, task.done_at) == ("Call back Tuesday", False, None)
    (change,) = [e for e in task_events(lead_id, "fields_changed") if e.payload.get("via") == "admin"]
    assert change.payload["changes"] == [{"field": "title", "old": "Call back", "new": "Call back Tuesday"}]


def test_someone_elses_task_is_not_edited_and_the_form_says_why(client, auth, make):
    lead = make.lead()
    task = tasks.create_task(
        db.session, lead.owner, title="Call back", owner_id=lead.owner_id, due=DUE, lead_id=lead.id
    )
    task_id = task.id
    auth.login_as(make.user("delivery"))
    settle()
    form = form_fields(client.get(f"/admin/tasks/edit/?id={task_id}").get_data(as_text=True))

    resp = auth.post(f"/admin/tasks/edit/?id={task_id}", form | {"title": "Never mind"})

    assert resp.status_code == 200
    assert (
        "Not saved: Only the person this task is assigned to, the owner of its opportunity or an admin "
        "can change this task."
    ) in flashes(resp.get_data(as_text=True))
    settle()
    assert db.session.get(Task, task_id).title == "Call back"


def test_links_that_do_not_agree_bring_the_form_back_with_the_reason(client, auth, make):
    _, lead, _ = won_client(make)
    other = make.client()
    auth.login_as(lead.owner)
    lead_id, other_id, owner_id = lead.id, other.id, lead.owner_id
    settle()
    form = form_fields(client.get("/admin/tasks/new/").get_data(as_text=True))

    resp = auth.post(
        "/admin/tasks/new/",
        form
        | {
            "title": "Chase the logo",
            "kind": "follow_up",
            "owner": str(owner_id),
            "due": DUE.isoformat(),
            "lead": str(lead_id),
            "client": str(other_id),
        },
    )

    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Chase the logo" in page
    assert "This opportunity is not this client&#39;s" in page
    settle()
    assert db.session.scalar(sa.select(sa.func.count(Task.id))) == 0


def test_an_admin_made_client_task_reaches_the_portal_only_once_approved(app, client, auth, make):
    client_row, _lead, project = won_client(make)
    contact_id = make.user("client", client=client_row).id
    approver_id = make.user("approver").id
    admin = auth.login_as(make.user("admin"))
    ids = {"owner": str(admin.id), "project": str(project.id), "client": str(client_row.id)}
    settle()
    form = form_fields(client.get("/admin/tasks/new/").get_data(as_text=True))
    assert "client_visible" not in form and form["destination"] == "team"

    # The old hole: a team task posted with client_visible set.
    auth.post(
        "/admin/tasks/new/",
        form
        | ids
        | {
            "title": "Forged checklist item",
            "kind": "onboarding",
            "due": DUE.isoformat(),
            "client_visible": "y",
        },
    )
    # The way in: a checklist item, proposed to an approver.
    resp = auth.post(
        "/admin/tasks/new/",
        form
        | ids
        | {
            "title": "Send us your logo files",
            "kind": "onboarding",
            "due": DUE.isoformat(),
            "destination": "client",
        },
    )

    assert resp.status_code == 302
    page = portal_checklist(app, contact_id)
    assert "Forged checklist item" not in page and "Send us your logo files" not in page
    forged = db.session.scalars(sa.select(Task).where(Task.title == "Forged checklist item")).one()
    assert not forged.client_visible
    approval = db.session.scalars(sa.select(Approval).where(Approval.kind == "client_text")).one()
    assert (approval.state, approval.content) == ("pending", "Send us your logo files")

    approvals.decide(db.session, approval, db.session.get(User, approver_id), approval.version, approve=True)

    assert "Send us your logo files" in portal_checklist(app, contact_id)


def test_propose_to_client_checklist_asks_an_approver(client, auth, make):
    client_row, lead, project = won_client(make)
    make.user("approver")
    auth.login_as(lead.owner)
    task = tasks.create_task(
        db.session,
        lead.owner,
        title="Give us CMS access",
        owner_id=lead.owner_id,
        due=DUE,
        project_id=project.id,
        client_id=client_row.id,
    )
    task_id = task.id
    settle()

    shown = run_action(auth, "propose", [task_id])

    assert shown == [
        f"Task {task_id}: proposed for the client's checklist: it is shown there once an "
        "approver approves its title."
    ]
    approval = db.session.scalars(sa.select(Approval).where(Approval.task_id == task_id)).one()
    assert approval.state == "pending" and not db.session.get(Task, task_id).client_visible


def review_task(make):
    """A pending approval's review task, assigned to an approver."""
    approver = make.user("approver")
    lead = make.lead()
    item = tasks.create_task(
        db.session, lead.owner, title="Logo", owner_id=lead.owner_id, due=DUE, lead_id=lead.id
    )
    approval = approvals.request_approval(
        db.session, lead.owner, kind="client_text", content="Logo", lead=lead, task=item
    )
    task = db.session.scalars(sa.select(Task).where(Task.key == f"approval:{approval.id}:review")).one()
    assert task.owner_id == approver.id
    return approval.id, task.id


def test_delivery_cannot_mark_the_approvers_review_task_done(client, auth, make):
    approval_id, task_id = review_task(make)
    auth.login_as(make.user("delivery"))
    settle()

    shown = run_action(auth, "mark_done", [task_id])

    assert shown == [
        f"Task {task_id}: Only the person this task is assigned to, the owner of its "
        "opportunity or an admin can mark it done."
    ]
    settle()
    assert not db.session.get(Task, task_id).is_done
    assert db.session.get(Approval, approval_id).state == "pending"


def test_a_review_task_is_not_closed_by_hand_while_its_approval_is_pending(client, auth, make):
    _approval_id, task_id = review_task(make)
    auth.login_as(make.user("admin"))  # approvers have no tasks table here: their queue is the workspace's
    settle()

    shown = run_action(auth, "mark_done", [task_id])

    assert shown == [
        f"Task {task_id}: This review closes when the approval is decided: approve or reject "
        "it in the approvals queue."
    ]
    settle()
    assert not db.session.get(Task, task_id).is_done


def test_mark_done_and_reopen_write_their_events(client, auth, make):
    lead = make.lead()
    assignee = make.user("delivery")
    task = tasks.create_task(
        db.session, lead.owner, title="Call back", owner_id=assignee.id, due=DUE, lead_id=lead.id
    )
    task_id, lead_id, assignee_id = task.id, lead.id, assignee.id
    auth.login_as(assignee)
    settle()

    assert run_action(auth, "mark_done", [task_id]) == [f"Task {task_id}: marked done."]
    assert db.session.get(Task, task_id).done_by_id == assignee_id
    assert run_action(auth, "reopen", [task_id]) == [f"Task {task_id}: reopened."]

    settle()
    assert not db.session.get(Task, task_id).is_done
    assert len(task_events(lead_id, "task_done")) == 1 and len(task_events(lead_id, "task_reopened")) == 1


def test_deleting_a_pending_review_task_is_refused(client, auth, make):
    _, task_id = review_task(make)
    auth.login_as(make.user("admin"))
    settle()

    resp = auth.post(
        "/admin/tasks/delete/", {"id": str(task_id), "url": "/admin/tasks/"}, follow_redirects=True
    )

    assert (
        "Not saved: This review closes when the approval is decided: approve or reject it instead of "
        "deleting its task."
    ) in flashes(resp.get_data(as_text=True))
    settle()
    assert db.session.get(Task, task_id) is not None


def test_a_task_edit_from_an_outdated_form_is_refused(client, auth, make):
    lead = make.lead()
    owner = auth.login_as(lead.owner)
    task = tasks.create_task(
        db.session, owner, title="Call back", owner_id=owner.id, due=DUE, lead_id=lead.id
    )
    task_id, owner_id, lead_id = task.id, owner.id, lead.id
    settle()
    form = form_fields(client.get(f"/admin/tasks/edit/?id={task_id}").get_data(as_text=True))
    tasks.update_task(
        db.session,
        db.session.get(Task, task_id),
        db.session.get(User, owner_id),
        None,
        title="Their title",
        notes=None,
        kind="follow_up",
        owner_id=owner_id,
        due=DUE,
        lead_id=lead_id,
        client_id=None,
        project_id=None,
    )  # someone saves first
    settle()

    resp = auth.post(f"/admin/tasks/edit/?id={task_id}", form | {"title": "My title"})

    assert resp.status_code == 200
    assert any("changed by someone else" in f for f in flashes(resp.get_data(as_text=True)))
    settle()
    assert db.session.get(Task, task_id).title == "Their title"
