"""What a won deal becomes: projects and their connectors; and the job outbox (admins only)."""

from ..models import Connector, Project
from .base import SecureModelView
from .permissions import VIEW
from .refs import CLIENT, CONTRACT, LEAD, PROJECT, PROPOSAL, STAFF


class ProjectView(SecureModelView):
    column_list = ("id", "name", "client", "lead", "service", "status", "kickoff_date", "onboarding_owner",
                   "payment_state", "contract_state")
    column_select_related_list = (Project.client, Project.lead, Project.onboarding_owner)
    column_sortable_list = ("id", "status", "kickoff_date")
    column_searchable_list = ("name",)
    column_filters = ("status", "service", "kickoff_date", "payment_state", "contract_state")
    form_excluded_columns = ("scope_snapshot",)  # the frozen scope of the accepted proposal
    form_ajax_refs = {"client": CLIENT, "lead": LEAD, "proposal": PROPOSAL, "contract": CONTRACT,
                      "onboarding_owner": STAFF}


class ConnectorView(SecureModelView):
    column_list = ("id", "name", "project", "status", "owner", "updated_at")
    column_select_related_list = (Connector.project, Connector.owner)
    column_sortable_list = ("id", "status")
    column_searchable_list = ("name",)
    column_filters = ("status", "owner.email")
    form_ajax_refs = {"project": PROJECT, "owner": STAFF}


class OutboxView(SecureModelView):
    """Jobs waiting for, or done by, the relay. Looked at only: the relay owns every change."""

    rights_limit = frozenset({VIEW})
    column_list = ("id", "job", "key", "status", "attempts", "available_at", "dispatched_at", "done_at",
                   "last_error", "created_at")
    column_sortable_list = ("id",)
    column_searchable_list = ("key",)
    column_filters = ("status", "job", "available_at")
    form_columns = ("job",)
