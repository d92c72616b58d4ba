"""Audits (pre-sale evidence), client reports and the notes on them.

Client-safe status fields change only through zarts.domain (approval), so they are not in forms;
and approved client-safe text is frozen here: changing it means asking for approval again.
"""

from ..models import Audit, Report, ReportNote
from .base import SecureModelView
from .permissions import NO_DELETE
from .refs import AUDIT, CLIENT, LEAD, PROJECT, REPORT, STAFF


class AuditView(SecureModelView):
    rights_limit = NO_DELETE  # the evidence behind a proposal stays
    column_list = ("id", "lead", "status", "client_summary_status", "completed_at", "completed_by",
                   "updated_at")
    column_select_related_list = (Audit.lead, Audit.completed_by)
    column_sortable_list = ("id", "status")
    column_searchable_list = ("findings",)
    column_filters = ("status", "client_summary_status", "completed_at")
    # Completing an audit is a domain act (gate + event); the summary's status is the approver's.
    form_excluded_columns = ("status", "client_summary_status", "completed_at", "completed_by")
    form_ajax_refs = {"lead": LEAD}
    frozen_fields = ("client_summary",)

    def frozen_reason(self, model):
        if model.client_summary_status == "approved":
            return ("The client-safe summary is approved: changing it needs a new approval, "
                    "which is asked for in the workspace.")
        return None


class ReportView(SecureModelView):
    column_list = ("id", "title", "kind", "client", "project", "owner", "cadence", "period_start",
                   "period_end", "status", "published_at")
    column_select_related_list = (Report.client, Report.project, Report.owner)
    column_sortable_list = ("id", "kind", "status")
    column_searchable_list = ("title",)
    column_filters = ("kind", "status", "cadence", "period_start")
    form_excluded_columns = ("status", "published_at", "key", "notes")
    form_ajax_refs = {"client": CLIENT, "project": PROJECT, "lead": LEAD, "owner": STAFF}
    frozen_fields = ("title", "client_summary", "figures", "period_start", "period_end", "client")

    def frozen_reason(self, model):
        if model.status in ("approved", "published"):
            return f"This report is {model.status}: what the client reads changes only with a new approval."
        return None


class ReportNoteView(SecureModelView):
    column_list = ("id", "report", "audit", "visibility", "status", "author", "created_at")
    column_select_related_list = (ReportNote.report, ReportNote.audit, ReportNote.author)
    column_sortable_list = ("id",)
    column_searchable_list = ("body",)
    column_filters = ("visibility", "status")
    form_excluded_columns = ("status",)
    form_ajax_refs = {"report": REPORT, "audit": AUDIT, "author": STAFF}
    frozen_fields = ("body", "visibility", "report", "audit")

    def frozen_reason(self, model):
        if model.status == "approved":
            return "This note is approved for the client: changing it needs a new approval."
        return None
