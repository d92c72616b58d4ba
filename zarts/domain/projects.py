"""Delivery records after the handoff: projects, their connectors, and the clients they serve.

A project is made only by the handoff (zarts.domain.handoff); here staff keep it up to date. Its two
client fields (next steps, launch blockers) reach a client only once an approver approved them in
their current wording (an approval of kind client_text): a change hides them again until approved.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Approval, Client, Connector, Lead, Project, Task, User
from ..models.vocab import (
    CADENCES,
    CLIENT_STATUS,
    CONNECTOR_STATUS,
    CONTRACT_STATES,
    PAYMENT_STATES,
    PROJECT_STATUS,
    SERVICES,
)
from .approval_requests import request_approval
from .errors import Forbidden, Invalid
from .publication import clean_text, project_client_text, require_staff_member, set_changed, supersede
from .tasks import set_task_done
from .trail import check_version, record_changes, require_lead_actor, require_staff

PROJECT_FIELDS = (
    "name",
    "service",
    "status",
    "kickoff_date",
    "onboarding_owner_id",
    "payment_state",
    "contract_state",
    "launch_blockers",
    "client_next_steps",
    "client_launch_blockers",
    "handoff_notes",
)
CLIENT_TEXT = ("client_next_steps", "client_launch_blockers")
PROJECT_CHOICES = {
    "service": ("service", SERVICES),
    "status": ("status", PROJECT_STATUS),
    "payment_state": ("payment state", PAYMENT_STATES),
    "contract_state": ("contract state", CONTRACT_STATES),
}
CONNECTOR_FIELDS = ("name", "status", "owner_id", "notes")
CLIENT_FIELDS = ("name", "status", "owner_id", "report_cadence", "notes")
CLIENT_CHOICES = {"status": ("status", CLIENT_STATUS), "report_cadence": ("report cadence", CADENCES)}


def client_text_task_key(lead_id: int) -> str:
    """The handoff's task asking the onboarding owner to have the project's client text approved."""
    return f"handoff:{lead_id}:client_text"


# ---------------------------------------------------------------- projects


def update_project(
    session: Session,
    project: Project,
    actor: User,
    expected_version: int | None,
    *,
    via: str | None = None,
    **fields,
) -> Project:
    """Keep a project up to date (its scope, lead, proposal, contract and client are the handoff's).
    A changed next step or launch blocker for the client needs approval again before the client
    reads it. Each change is recorded on the lead's timeline (`via`: where the edit was made)."""
    lead = session.get(Lead, project.lead_id)
    require_lead_actor(actor, lead, "delivery", "growth_ops", action="update projects")
    check_version(project, expected_version, "This project")
    values = _values(fields, PROJECT_FIELDS, PROJECT_CHOICES)
    if "name" in values and not values["name"]:
        raise Invalid("Give the project a name.", "name")
    if values.get("onboarding_owner_id") is not None:
        require_staff_member(
            session, values["onboarding_owner_id"], "onboarding_owner_id", "The onboarding owner"
        )
    before = set_changed(project, values)
    if set(before) & set(CLIENT_TEXT):
        project.client_text_status = "none"
        supersede(session, Approval.project_id == project.id, Approval.kind == "client_text")
    record_changes(session, lead, actor, project, before, via=via)
    session.flush()
    return project


def request_project_text_approval(session: Session, project: Project, actor: User) -> Approval:
    """Ask an approver to back the project's client text (next steps and launch blockers) as it is
    now; the portal shows it once approved. Closes the handoff's task asking for it."""
    lead = session.get(Lead, project.lead_id)
    require_lead_actor(
        actor, lead, "delivery", "growth_ops", action="ask for approval of a project's client text"
    )
    content = project_client_text(project)
    if not content:
        raise Invalid("Write the next steps or launch blockers for the client first.", "client_next_steps")
    approval = request_approval(
        session, actor, kind="client_text", content=content, lead=lead, project=project
    )
    if approval.state == "pending":
        project.client_text_status = "pending"
    key = client_text_task_key(lead.id)
    task = session.execute(sa.select(Task).where(Task.key == key)).scalar_one_or_none()
    if task is not None and not task.is_done:
        set_task_done(session, task, actor, None, True)
    session.flush()
    return approval


# ---------------------------------------------------------------- connectors


def add_connector(
    session: Session,
    project: Project,
    actor: User,
    *,
    name: str,
    status: str = "to_connect",
    owner_id: int | None = None,
    notes: str | None = None,
    via: str | None = None,
) -> Connector:
    """A system of the client's stack that delivery must connect (the handoff adds the ones it knows),
    recorded on the timeline of the project's lead."""
    require_staff(actor, "delivery", action="add connectors")
    if project is None:
        raise Invalid("Choose the project this connector belongs to.", "project")
    connector = Connector(project_id=project.id)
    before = _set_connector(
        session, connector, {"name": name, "status": status, "owner_id": owner_id, "notes": notes}
    )
    session.add(connector)
    session.flush()
    record_changes(session, session.get(Lead, project.lead_id), actor, connector, before, via=via)
    return connector


def update_connector(
    session: Session,
    connector: Connector,
    actor: User,
    expected_version: int | None,
    *,
    via: str | None = None,
    **fields,
) -> Connector:
    """Rename a connector, move its status, owner or notes; recorded on the timeline of its project's lead."""
    require_staff(actor, "delivery", action="update connectors")
    check_version(connector, expected_version, "This connector")
    before = _set_connector(session, connector, fields)
    project = session.get(Project, connector.project_id)
    record_changes(session, session.get(Lead, project.lead_id), actor, connector, before, via=via)
    session.flush()
    return connector


def _set_connector(session: Session, connector: Connector, fields: dict) -> dict:
    values = _values(fields, CONNECTOR_FIELDS, {"status": ("status", CONNECTOR_STATUS)})
    if "name" in values:
        if not values["name"]:
            raise Invalid("Name the system to connect.", "name")
        taken = session.execute(
            sa.select(Connector.id).where(
                Connector.project_id == connector.project_id,
                sa.func.lower(Connector.name) == values["name"].lower(),
                Connector.id != connector.id if connector.id else sa.true(),
            )
        ).first()
        if taken:
            raise Invalid("This project already has a connector of that name.", "name")
    if values.get("owner_id") is not None:
        require_staff_member(session, values["owner_id"], "owner_id", "The connector's owner")
    return set_changed(connector, values)


# ---------------------------------------------------------------- clients


def create_client(
    session: Session,
    actor: User,
    *,
    name: str,
    status: str = "prospect",
    owner_id: int | None = None,
    report_cadence: str = "monthly",
    notes: str | None = None,
) -> Client:
    """A client organisation added by hand (the handoff makes the client of a won deal it does not know)."""
    require_staff(actor, "growth_ops", "delivery", action="add clients")
    client = Client()
    _set_client(
        session,
        client,
        {
            "name": name,
            "status": status,
            "owner_id": owner_id,
            "report_cadence": report_cadence,
            "notes": notes,
        },
    )
    session.add(client)
    session.flush()
    return client


def update_client(
    session: Session, client: Client, actor: User, expected_version: int | None, **fields
) -> Client:
    """Edit a client. Handing it to another owner is for its owner or an admin (a client nobody owns
    yet may be given an owner by any staff member who keeps clients)."""
    require_staff(actor, "growth_ops", "delivery", action="update clients")
    check_version(client, expected_version, "This client")
    if (
        "owner_id" in fields
        and fields["owner_id"] != client.owner_id
        and actor.role != "admin"
        and client.owner_id not in (None, actor.id)
    ):
        raise Forbidden("Only the owner of this client (or an admin) can hand it to someone else.")
    _set_client(session, client, fields)
    session.flush()
    return client


def _set_client(session: Session, client: Client, fields: dict) -> dict:
    values = _values(fields, CLIENT_FIELDS, CLIENT_CHOICES)
    if "name" in values and not values["name"]:
        raise Invalid("Give the client a name.", "name")
    if values.get("owner_id") is not None:
        require_staff_member(session, values["owner_id"], "owner_id", "The client's owner")
    return set_changed(client, values)


# ---------------------------------------------------------------- shared


def _values(fields: dict, allowed: tuple[str, ...], choices: dict[str, tuple[str, tuple[str, ...]]]) -> dict:
    """The fields as they are kept, refused when one is not editable or not one of its choices."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise Invalid(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    values = {name: clean_text(value) for name, value in fields.items()}
    for name, (label, vocabulary) in choices.items():
        if name in values and values[name] not in vocabulary:
            raise Invalid(f"Choose a {label} from the list.", name)
    return values
