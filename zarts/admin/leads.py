"""The leads view. Domain actions (move stage, request approval, mark lost, …) are added here."""

from ..models import Lead
from .base import SecureModelView
from .permissions import NO_DELETE
from .refs import CLIENT, STAFF


class LeadView(SecureModelView):
    """Leads are never deleted (a lost deal is marked lost); stage and its dates move only through
    zarts.domain, so they are not in the form."""

    rights_limit = NO_DELETE
    column_list = ("id", "title", "company", "stage", "service", "source", "owner", "client",
                   "next_action", "next_action_due", "probability", "updated_at")
    column_select_related_list = (Lead.owner, Lead.client)
    column_sortable_list = ("id", "company", "stage", "next_action_due", "decision_deadline")
    column_searchable_list = ("title", "company", "contact_name", "contact_email")
    column_filters = ("stage", "source", "service", "lost_reason", "next_action_due", "decision_deadline",
                      "reactivation_date", "owner.email")
    form_excluded_columns = ("stage", "paused_at", "pause_reason", "lost_at", "won_at",
                             "discovery_logged_at", "consent_recorded_at")
    form_ajax_refs = {"owner": STAFF, "client": CLIENT}
