"""Tasks through zarts.domain.tasks: who ticks them off, review tasks, change records, client checklist
items only after approval (issue 16)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from zarts.domain import Conflict, Forbidden, Invalid, approvals, tasks
from zarts.extensions import db
from zarts.models import Approval, Event, Project, Task, today
from zarts.portal import queries as portal

DUE = today() + timedelta(days=2)


def events(lead, kind):
    return db.session.scalars(
        sa.select(Event).where(Event.lead_id == lead.id, Event.kind == kind).order_by(Event.id)
    ).all()


@pytest.fixture
def won(make):
    """A client with its opportunity (owned by a growth ops user) and its project."""
    client = make.client()
    lead = make.lead(client_id=client.id)
    project = Project(name="SEO for Acme", client_id=client.id, lead_id=lead.id, service="seo")
    db.session.add(project)
    db.session.flush()
    return client, lead, project


def new_task(actor, owner, lead=None, **kw):
    return tasks.create_task(
        db.session,
        actor,
        title="Send the recap",
        owner_id=owner.id,
        due=DUE,
        lead_id=lead.id if lead else None,
        **kw,
    )


@pytest.fixture
def review(make):
    """A pending approval and its review task, owned by an approver."""
    approver = make.user("approver")
    lead = make.lead()
    task = new_task(lead.owner, lead.owner, lead)
    approval = approvals.request_approval(
        db.session, lead.owner, kind="client_text", content=task.title, lead=lead, task=task
    )
    review = db.session.scalars(sa.select(Task).where(Task.key == f"approval:{approval.id}:review")).one()
    assert review.owner_id == approver.id
    return approval, review


# -- completing and reopening ------------------------------------------------------------------------


def test_delivery_cannot_complete_the_approvers_review_task(make, review):
    approval, task = review
    with pytest.raises(
        Forbidden,
        match="Only the person this task is assigned to, the owner of its "
        "opportunity or an admin can mark it done",
    ):
        tasks.set_task_done(db.session, task, make.user("delivery"), task.version, True)
    assert not task.is_done and approval.state == "pending"
    assert events(approval.lead, "task_done") == []


def test_a_review_task_closes_only_by_deciding_its_approval(make, review):
    approval, task = review
    for who in (task.owner, make.user("admin")):
        with pytest.raises(Invalid, match="closes when the approval is decided"):
            tasks.set_task_done(db.session, task, who, task.version, True)
    assert not task.is_done
    approvals.decide(db.session, approval, task.owner, approval.version, approve=True)
    assert task.is_done and task.done_by_id == task.owner_id
    with pytest.raises(Invalid, match="request the approval again"):
        tasks.set_task_done(db.session, task, task.owner, task.version, False)


@pytest.mark.parametrize("who", ["assignee", "lead owner", "admin"])
def test_the_assignee_the_lead_owner_or_an_admin_completes_and_reopens(who, make):
    lead = make.lead()
    assignee = make.user("delivery")
    task = new_task(lead.owner, assignee, lead)
    actor = {"assignee": assignee, "lead owner": lead.owner, "admin": make.user("admin")}[who]

    tasks.set_task_done(db.session, task, actor, task.version, True)
    assert task.is_done and task.done_by_id == actor.id
    tasks.set_task_done(db.session, task, actor, task.version, False)

    assert not task.is_done
    assert [e.actor_id for e in events(lead, "task_done")] == [actor.id]
    reopened = events(lead, "task_reopened")
    assert [(e.actor_id, e.payload["task_id"]) for e in reopened] == [(actor.id, task.id)]


def test_another_growth_ops_cannot_reopen_a_task(make):
    lead = make.lead()
    task = new_task(lead.owner, lead.owner, lead)
    tasks.set_task_done(db.session, task, lead.owner, task.version, True)
    with pytest.raises(Forbidden, match="can reopen it"):
        tasks.set_task_done(db.session, task, make.user("growth_ops"), task.version, False)
    assert task.is_done


# -- create and edit ---------------------------------------------------------------------------------


def test_a_created_task_is_on_the_lead_timeline(make):
    lead = make.lead()
    task = new_task(lead.owner, lead.owner, lead, via="admin")
    (event,) = events(lead, "fields_changed")
    assert event.actor_id == lead.owner_id and event.payload["row"] == task.id
    assert {"field": "title", "new": "Send the recap"} in event.payload["changes"]  # old: none
    assert not task.client_visible and task.key is None


def test_links_must_exist_and_agree(make, won):
    _client, lead, project = won
    other = make.client()
    actor = lead.owner
    cases = [
        ({"lead_id": 10**9}, "lead", "does not exist"),
        ({"lead_id": lead.id, "client_id": other.id}, "lead", "not this client's"),
        ({"project_id": project.id, "client_id": other.id}, "project", "another client"),
        ({"project_id": project.id, "lead_id": make.lead().id}, "project", "another opportunity"),
        ({"owner_id": make.user("client").id}, "owner", "active staff member"),
        ({"title": "  "}, "title", "Give the task a title"),
        ({"kind": "proposal_review"}, "kind", "made by approval requests"),
    ]
    for fields, field, message in cases:
        args = {"title": "Call", "owner_id": actor.id, "due": DUE} | fields
        with pytest.raises(Invalid, match=message) as exc:
            tasks.create_task(db.session, actor, **args)
        assert exc.value.field == field
    assert db.session.scalar(sa.select(sa.func.count(Task.id))) == 0


def test_a_project_task_is_on_its_opportunity(won):
    _client, lead, project = won
    task = tasks.create_task(
        db.session, lead.owner, title="Crawl", owner_id=lead.owner_id, due=DUE, project_id=project.id
    )
    assert task.lead_id == lead.id and len(events(lead, "fields_changed")) == 1


def test_growth_ops_add_tasks_only_to_their_own_leads(make):
    lead = make.lead()
    with pytest.raises(Forbidden, match="owner of this opportunity"):
        new_task(make.user("growth_ops"), lead.owner, lead)


def test_an_edit_is_a_change_record_and_checks_the_version(make):
    lead = make.lead()
    task = new_task(lead.owner, lead.owner, lead)
    version = task.version
    colleague = make.user("growth_ops")
    tasks.update_task(
        db.session,
        task,
        lead.owner,
        version,
        title="Send the recap and the deck",
        notes="Ask about Q3",
        kind="follow_up",
        owner_id=colleague.id,
        due=DUE,
        lead_id=lead.id,
        client_id=None,
        project_id=None,
        via="admin",
    )
    event = events(lead, "fields_changed")[-1]
    assert event.payload["via"] == "admin" and event.actor_id == lead.owner_id
    assert {c["field"] for c in event.payload["changes"]} == {"title", "notes", "owner_id"}
    with pytest.raises(Conflict):
        tasks.update_task(
            db.session,
            task,
            lead.owner,
            version,
            title="Old form",
            notes=None,
            kind="follow_up",
            owner_id=colleague.id,
            due=DUE,
            lead_id=lead.id,
            client_id=None,
            project_id=None,
        )


def test_a_system_task_keeps_its_kind_and_links(make, review):
    _approval, task = review
    with pytest.raises(Invalid, match="kind stays"):
        tasks.update_task(
            db.session,
            task,
            task.owner,
            task.version,
            title=task.title,
            notes=None,
            kind="follow_up",
            owner_id=task.owner_id,
            due=task.due,
            lead_id=task.lead_id,
            client_id=None,
            project_id=None,
        )
    with pytest.raises(Invalid, match="its kind and links stay"):
        tasks.update_task(
            db.session,
            task,
            task.owner,
            task.version,
            title=task.title,
            notes=None,
            kind=task.kind,
            owner_id=task.owner_id,
            due=task.due,
            lead_id=make.lead().id,
            client_id=None,
            project_id=None,
        )


# -- client checklist items --------------------------------------------------------------------------


def checklist_titles(client) -> list[str]:
    return [i.title for g in portal.checklist_groups(db.session, client.id) for i in g.items]


def test_a_proposed_checklist_item_reaches_the_portal_only_when_approved(make, won):
    client, lead, project = won
    approver = make.user("approver")
    task = tasks.propose_client_task(
        db.session,
        lead.owner,
        title="Send us your logo files",
        owner_id=lead.owner_id,
        due=DUE,
        project_id=project.id,
    )
    approval = db.session.scalars(sa.select(Approval).where(Approval.task_id == task.id)).one()
    assert (approval.kind, approval.content, approval.state) == (
        "client_text",
        "Send us your logo files",
        "pending",
    )
    assert task.client_id == client.id and not task.client_visible
    assert checklist_titles(client) == []

    approvals.decide(db.session, approval, approver, approval.version, approve=True)

    assert task.client_visible and checklist_titles(client) == ["Send us your logo files"]


def test_new_wording_takes_an_item_off_the_checklist_until_approved_again(make, won):
    client, lead, project = won
    approver = make.user("approver")
    task = tasks.propose_client_task(
        db.session,
        lead.owner,
        title="Send us your logo files",
        owner_id=lead.owner_id,
        due=DUE,
        project_id=project.id,
    )
    first = db.session.scalars(sa.select(Approval).where(Approval.task_id == task.id)).one()
    approvals.decide(db.session, first, approver, first.version, approve=True)

    tasks.update_task(
        db.session,
        task,
        lead.owner,
        task.version,
        title="Send us your logo and passwords",
        notes=None,
        kind=task.kind,
        owner_id=task.owner_id,
        due=task.due,
        lead_id=lead.id,
        client_id=client.id,
        project_id=project.id,
    )

    assert not task.client_visible and first.state == "superseded" and checklist_titles(client) == []
    second = tasks.request_checklist_approval(db.session, task, lead.owner)
    approvals.decide(db.session, second, approver, second.version, approve=True)
    assert checklist_titles(client) == ["Send us your logo and passwords"]


def test_a_pending_item_edited_is_withdrawn(make, won):
    client, lead, project = won
    approver = make.user("approver")
    task = tasks.propose_client_task(
        db.session,
        lead.owner,
        title="Send us your logo files",
        owner_id=lead.owner_id,
        due=DUE,
        project_id=project.id,
    )
    tasks.update_task(
        db.session,
        task,
        lead.owner,
        task.version,
        title="Send us your passwords",
        notes=None,
        kind=task.kind,
        owner_id=task.owner_id,
        due=task.due,
        lead_id=lead.id,
        client_id=client.id,
        project_id=project.id,
    )
    approval = db.session.scalars(sa.select(Approval).where(Approval.task_id == task.id)).one()
    assert approval.state == "superseded"
    with pytest.raises(Invalid, match="already superseded"):
        approvals.decide(db.session, approval, approver, approval.version, approve=True)
    assert not task.client_visible


def test_a_checklist_item_needs_a_client(make):
    lead = make.lead()
    with pytest.raises(Invalid, match="Link the task to a client") as exc:
        tasks.propose_client_task(
            db.session, lead.owner, title="Logo", owner_id=lead.owner_id, due=DUE, lead_id=lead.id
        )
    assert exc.value.field == "client"


# -- delete ------------------------------------------------------------------------------------------


def test_only_admins_delete_and_never_a_pending_review(make, review):
    _approval, task = review
    with pytest.raises(Forbidden, match="Only an admin"):
        tasks.delete_task(db.session, task, task.owner)
    with pytest.raises(Invalid, match="closes when the approval is decided"):
        tasks.delete_task(db.session, task, make.user("admin"))
    assert db.session.get(Task, task.id) is not None
