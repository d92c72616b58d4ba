"""What a won deal becomes: projects and their connectors; and the job outbox (admins only).

Projects are made by the handoff alone and never deleted; they, and connectors, are edited through
zarts.domain.projects (checks, optimistic lock, a change record on the lead's timeline). A project's
client text reaches the portal only once approved: the list action asks for that approval.
"""

from flask_admin.actions import action

from ..domain import projects
from ..extensions import db
from ..models import Connector, Project
from .actions import DomainActionsMixin, actor
from .base import SecureModelView
from .domain_forms import DomainFormsMixin, approval_said, row_id
from .permissions import EDIT, EXPORT, NO_DELETE, VIEW
from .refs import PROJECT, STAFF

PROJECT_TEXTS = (
    "name",
    "service",
    "status",
    "kickoff_date",
    "payment_state",
    "contract_state",
    "launch_blockers",
    "client_next_steps",
    "client_launch_blockers",
    "handoff_notes",
)


class ProjectView(DomainFormsMixin, DomainActionsMixin, SecureModelView):
    """The accepted scope, lead, proposal, contract and client are the handoff's: not in the form."""

    rights_limit = frozenset({VIEW, EDIT, EXPORT})
    row_noun = "Project"
    column_list = (
        "id",
        "name",
        "client",
        "lead",
        "service",
        "status",
        "kickoff_date",
        "onboarding_owner",
        "payment_state",
        "contract_state",
        "client_text_status",
    )
    column_select_related_list = (Project.client, Project.lead, Project.onboarding_owner)
    column_sortable_list = ("id", "status", "kickoff_date")
    column_searchable_list = ("name",)
    column_filters = (
        "status",
        "service",
        "kickoff_date",
        "payment_state",
        "contract_state",
        "client_text_status",
    )
    form_columns = (
        "name",
        "service",
        "status",
        "kickoff_date",
        "onboarding_owner",
        "payment_state",
        "contract_state",
        "launch_blockers",
        "client_next_steps",
        "client_launch_blockers",
        "handoff_notes",
    )
    form_ajax_refs = {"onboarding_owner": STAFF}

    def save(self, project, version, form):
        return projects.update_project(
            db.session,
            project,
            actor(),
            version,
            via="admin",
            onboarding_owner_id=row_id(form.onboarding_owner.data),
            **{name: form[name].data for name in PROJECT_TEXTS},
        )

    @action("request_client_text_approval", "Request client text approval")
    def action_request_client_text_approval(self, ids):
        self.run_on_selected(ids, self._request_client_text_approval)

    def _request_client_text_approval(self, project) -> str:
        approval = projects.request_project_text_approval(db.session, project, actor())
        return approval_said(approval, "client text")


class ConnectorView(DomainFormsMixin, SecureModelView):
    rights_limit = NO_DELETE  # a connector that is no longer needed is marked, not removed
    column_list = ("id", "name", "project", "status", "owner", "updated_at")
    column_select_related_list = (Connector.project, Connector.owner)
    column_sortable_list = ("id", "status")
    column_searchable_list = ("name",)
    column_filters = ("status", "owner.email")
    form_columns = ("project", "name", "status", "owner", "notes")
    create_only = ("project",)
    form_ajax_refs = {"project": PROJECT, "owner": STAFF}

    def connector_fields(self, form) -> dict:
        return {
            "name": form.name.data,
            "status": form.status.data,
            "owner_id": row_id(form.owner.data),
            "notes": form.notes.data,
        }

    def create(self, form):
        return projects.add_connector(
            db.session, form.project.data, actor(), via="admin", **self.connector_fields(form)
        )

    def save(self, connector, version, form):
        return projects.update_connector(
            db.session, connector, actor(), version, via="admin", **self.connector_fields(form)
        )


class OutboxView(SecureModelView):
    """Jobs waiting for, or done by, the relay. Looked at only: the relay owns every change."""

    rights_limit = frozenset({VIEW})
    column_list = (
        "id",
        "job",
        "key",
        "status",
        "attempts",
        "available_at",
        "dispatched_at",
        "done_at",
        "last_error",
        "created_at",
    )
    column_sortable_list = ("id",)
    column_searchable_list = ("key",)
    column_filters = ("status", "job", "available_at")
    form_columns = ("job",)
