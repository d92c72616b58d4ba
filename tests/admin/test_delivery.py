"""Projects, connectors and clients go through zarts.domain.projects: a project's client text reaches
the portal only once approved as it stands, and every admin edit is on the lead's timeline."""

from __future__ import annotations

import sqlalchemy as sa

from tests.admin.conftest import flashes, form_fields, settle
from tests.conftest import AuthActions
from zarts.admin.errors import MISSING_VERSION
from zarts.domain import approvals
from zarts.domain.projects import client_text_task_key
from zarts.extensions import db
from zarts.models import Approval, Client, Connector, Event, Project, Task, User

NEXT_STEPS = "Send us GA4 access by Friday."
BLOCKERS = "Waiting for CMS access."


def edit(client, auth, table, row_id, **changes):
    """Open the edit form and submit it as a browser would (text areas with CRLF line ends)."""
    form = form_fields(client.get(f"/admin/{table}/edit/?id={row_id}").get_data(as_text=True))
    form = {name: value.replace("\n", "\r\n") for name, value in form.items()}
    return auth.post(f"/admin/{table}/edit/?id={row_id}", form | changes)


def run_action(auth, table, action, *ids):
    resp = auth.post(
        f"/admin/{table}/action/",
        {"action": action, "rowid": [str(i) for i in ids], "url": f"/admin/{table}/"},
        follow_redirects=True,
    )
    assert resp.status_code == 200
    return flashes(resp.get_data(as_text=True))


def won_project(make, journey) -> Project:
    """A won deal handed off (the handoff runs inline after the commit): its project and client contact."""
    lead = journey.to(make.lead(), "won")
    db.session.commit()
    return db.session.scalars(sa.select(Project).where(Project.lead_id == lead.id)).one()


def portal_pages(app, contact_id: int, project_id: int) -> str:
    """What the client contact reads on their home page and their project's page."""
    settle()
    portal = app.test_client()
    AuthActions(portal).login_as(db.session.get(User, contact_id))
    pages = [portal.get(url) for url in ("/portal/", f"/portal/projects/{project_id}")]
    assert [p.status_code for p in pages] == [200, 200]
    return "\n".join(p.get_data(as_text=True) for p in pages)


def admin_changes(lead_id: int) -> list[dict]:
    """The change records admin edits left on the lead's timeline."""
    changed = sa.select(Event).where(Event.lead_id == lead_id, Event.kind == "fields_changed")
    events = db.session.scalars(changed.order_by(Event.id))
    return [e.payload for e in events if e.payload.get("via") == "admin"]


def decide_as_approver(make, project_id: int) -> None:
    approval = db.session.scalars(
        sa.select(Approval).where(Approval.project_id == project_id, Approval.state == "pending")
    ).one()
    approvals.decide(db.session, approval, make.user("approver"), approval.version, approve=True)
    settle()


def test_project_client_text_edited_in_the_admin_reaches_the_portal_only_once_approved(
    app, client, auth, make, journey
):
    """Issue 16: next steps and launch blockers typed in the admin went straight to the client's portal."""
    project = won_project(make, journey)
    contact_id = db.session.scalars(
        sa.select(User.id).where(User.client_id == project.client_id, User.role == "client")
    ).first()
    project_id, lead_id, kickoff = project.id, project.lead_id, project.client_next_steps
    auth.login_as(project.onboarding_owner)
    settle()
    handed_off = portal_pages(app, contact_id, project_id)
    assert kickoff.startswith("Kickoff on") and kickoff not in handed_off  # the handoff's text waits too

    saved = edit(
        client, auth, "projects", project_id, client_next_steps=NEXT_STEPS, client_launch_blockers=BLOCKERS
    )
    before_approval = portal_pages(app, contact_id, project_id)
    assert saved.status_code == 302
    assert NEXT_STEPS not in before_approval and BLOCKERS not in before_approval

    asked = run_action(auth, "projects", "request_client_text_approval", project_id)
    pending = portal_pages(app, contact_id, project_id)
    assert asked == [f"Project {project_id}: approval of the client text requested."]
    assert NEXT_STEPS not in pending and BLOCKERS not in pending

    decide_as_approver(make, project_id)
    approved = portal_pages(app, contact_id, project_id)
    assert NEXT_STEPS in approved and BLOCKERS in approved
    assert db.session.get(Project, project_id).client_text_status == "approved"
    assert db.session.scalars(sa.select(Task).where(Task.key == client_text_task_key(lead_id))).one().is_done
    [record] = admin_changes(lead_id)
    assert record["table"] == "projects"
    assert {c["field"]: c["new"] for c in record["changes"]} == {
        "client_next_steps": NEXT_STEPS,
        "client_launch_blockers": BLOCKERS,
    }


def test_a_change_after_approval_hides_the_client_text_until_approved_again(app, client, auth, make, journey):
    project = won_project(make, journey)
    contact_id = db.session.scalars(
        sa.select(User.id).where(User.client_id == project.client_id, User.role == "client")
    ).first()
    project_id = project.id
    auth.login_as(project.onboarding_owner)
    settle()
    edit(client, auth, "projects", project_id, client_next_steps=NEXT_STEPS, client_launch_blockers=BLOCKERS)
    run_action(auth, "projects", "request_client_text_approval", project_id)
    decide_as_approver(make, project_id)

    unchanged = edit(client, auth, "projects", project_id, status="active")  # not client text: stays shown
    shown = portal_pages(app, contact_id, project_id)
    assert unchanged.status_code == 302 and NEXT_STEPS in shown and BLOCKERS in shown

    changed = edit(client, auth, "projects", project_id, client_launch_blockers="We cannot launch at all.")
    hidden = portal_pages(app, contact_id, project_id)
    assert changed.status_code == 302
    assert NEXT_STEPS not in hidden and "We cannot launch at all." not in hidden
    assert db.session.get(Project, project_id).client_text_status == "none"
    assert db.session.scalars(sa.select(Approval.state).where(Approval.project_id == project_id)).all() == [
        "superseded"
    ]


def test_asking_for_approval_without_client_text_is_refused_in_words(client, auth, make, journey):
    project = won_project(make, journey)
    project_id = project.id
    auth.login_as(make.user("admin"))
    settle()
    edit(client, auth, "projects", project_id, client_next_steps="", client_launch_blockers="")

    said = run_action(auth, "projects", "request_client_text_approval", project_id)

    assert said == [f"Project {project_id}: Write the next steps or launch blockers for the client first."]
    assert db.session.get(Project, project_id).client_text_status == "none"


def test_projects_are_made_by_the_handoff_alone_and_their_origin_is_not_in_the_form(
    client, auth, make, journey
):
    project = won_project(make, journey)
    project_id = project.id
    auth.login_as(make.user("admin"))
    settle()

    form = form_fields(client.get(f"/admin/projects/edit/?id={project_id}").get_data(as_text=True))

    assert not {"scope_snapshot", "lead", "proposal", "contract", "client", "client_text_status"} & set(form)
    assert {"client_next_steps", "client_launch_blockers", "version"} <= set(form)
    assert client.get("/admin/projects/new/").status_code == 403
    assert auth.post("/admin/projects/delete/", {"id": str(project_id)}).status_code == 403
    assert db.session.get(Project, project_id) is not None


def test_an_outdated_project_form_is_refused_and_changes_nothing(client, auth, make, journey):
    project = won_project(make, journey)
    project_id = project.id
    auth.login_as(make.user("admin"))
    settle()
    form = form_fields(client.get(f"/admin/projects/edit/?id={project_id}").get_data(as_text=True))
    db.session.get(Project, project_id).name = "Renamed by someone else"
    settle()

    resp = auth.post(f"/admin/projects/edit/?id={project_id}", form | {"client_next_steps": NEXT_STEPS})

    assert resp.status_code == 200
    assert any("changed by someone else" in m for m in flashes(resp.get_data(as_text=True)))
    settle()
    assert db.session.get(Project, project_id).client_next_steps != NEXT_STEPS


def test_a_project_save_without_a_version_is_refused(client, auth, make, journey):
    project = won_project(make, journey)
    project_id = project.id
    auth.login_as(make.user("admin"))
    settle()
    form = form_fields(client.get(f"/admin/projects/edit/?id={project_id}").get_data(as_text=True))
    del form["version"]

    resp = auth.post(f"/admin/projects/edit/?id={project_id}", form | {"client_next_steps": NEXT_STEPS})

    assert MISSING_VERSION in flashes(resp.get_data(as_text=True))
    settle()
    assert db.session.get(Project, project_id).client_next_steps != NEXT_STEPS


# ---------------------------------------------------------------- connectors and clients


def test_connectors_are_added_and_edited_through_the_domain_with_a_change_record(client, auth, make, journey):
    project = won_project(make, journey)
    project_id, lead_id = project.id, project.lead_id
    auth.login_as(make.user("delivery"))
    settle()

    added = auth.post(
        "/admin/connectors/new/", {"project": str(project_id), "name": "Shopify", "status": "to_connect"}
    )
    twin = auth.post(
        "/admin/connectors/new/", {"project": str(project_id), "name": "shopify", "status": "to_connect"}
    )
    connector_id = db.session.scalars(sa.select(Connector.id).where(Connector.name == "Shopify")).one()
    settle()
    edited = edit(
        client, auth, "connectors", connector_id, status="blocked", notes="Waiting for their admin."
    )

    assert added.status_code == edited.status_code == 302
    twin_said = flashes(twin.get_data(as_text=True))
    assert "Not saved: This project already has a connector of that name." in twin_said
    settle()
    connector = db.session.get(Connector, connector_id)
    assert (connector.status, connector.notes) == ("blocked", "Waiting for their admin.")
    made, changed = admin_changes(lead_id)
    assert (made["table"], made["row"], changed["row"]) == ("connectors", connector_id, connector_id)
    assert {c["field"] for c in made["changes"]} == {"name", "status"}
    assert {c["field"] for c in changed["changes"]} == {"status", "notes"}


def test_only_a_clients_owner_or_an_admin_hands_it_to_someone_else(client, auth, make):
    owner, other = make.user("growth_ops"), make.user("growth_ops")
    acme = make.client(name="Acme", owner_id=owner.id)
    acme_id, owner_id, other_id = acme.id, owner.id, other.id
    auth.login_as(other)
    settle()

    refused = edit(client, auth, "clients", acme_id, owner=str(other_id))
    renamed = edit(client, auth, "clients", acme_id, name="Acme Rooftops")
    settle()
    auth.login_as(db.session.get(User, owner_id))
    handed = edit(client, auth, "clients", acme_id, owner=str(other_id))

    reason = "Not saved: Only the owner of this client (or an admin) can hand it to someone else."
    assert refused.status_code == 200 and reason in flashes(refused.get_data(as_text=True))
    assert renamed.status_code == handed.status_code == 302
    settle()
    acme = db.session.get(Client, acme_id)
    assert (acme.name, acme.owner_id) == ("Acme Rooftops", other_id)


def test_a_client_is_created_through_the_domain_and_a_blank_name_is_refused(client, auth, make):
    auth.login_as(make.user("delivery"))
    settle()

    blank = auth.post("/admin/clients/new/", {"name": " ", "status": "prospect", "report_cadence": "monthly"})
    made = auth.post(
        "/admin/clients/new/", {"name": "Acme", "status": "prospect", "report_cadence": "weekly"}
    )

    assert blank.status_code == 200 and made.status_code == 302
    cadences = db.session.scalars(sa.select(Client.report_cadence).where(Client.name == "Acme")).all()
    assert cadences == ["weekly"]
    assert db.session.scalar(sa.select(sa.func.count(Client.id)).where(Client.name == " ")) == 0
