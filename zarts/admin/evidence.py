"""Audits (pre-sale evidence), client reports and the notes on them.

Every create, edit and list action calls zarts.domain (audits, publication): who may, the frozen
evidence of a completed audit, approved text that stays as approved, approval asked for again when
client-safe words change, and a change record on the lead's timeline. Client-safe status fields are
the approvers' and are not in any form.
"""

from flask_admin.actions import action

from ..domain import Invalid, audits, publication
from ..extensions import db
from ..models import Audit, Report, ReportNote
from .actions import DomainActionsMixin, actor
from .base import SecureModelView
from .domain_forms import DomainFormsMixin, approval_said, row_id
from .permissions import NO_DELETE
from .refs import AUDIT, CLIENT, LEAD, PROJECT, REPORT, STAFF

AUDIT_TEXTS = ("findings", "baseline_figures", "raw_notes", "provider_caveats", "client_summary")


class AuditView(DomainFormsMixin, DomainActionsMixin, SecureModelView):
    """Raw notes and provider caveats stay internal: only the approved client summary leaves staff pages."""

    rights_limit = NO_DELETE  # the evidence behind a proposal stays
    row_noun = "Audit"
    column_list = (
        "id",
        "lead",
        "status",
        "client_summary_status",
        "completed_at",
        "completed_by",
        "updated_at",
    )
    column_select_related_list = (Audit.lead, Audit.completed_by)
    column_sortable_list = ("id", "status")
    column_searchable_list = ("findings",)
    column_filters = ("status", "client_summary_status", "completed_at")
    form_columns = ("lead", *AUDIT_TEXTS)
    create_only = ("lead",)
    form_ajax_refs = {"lead": LEAD}

    def create(self, form):
        if form.lead.data is None:
            raise Invalid("Choose the lead this audit is for.", "lead")
        audit = audits.start_audit(db.session, form.lead.data, actor())
        return self.save(audit, audit.version, form)

    def save(self, audit, version, form):
        return audits.save_audit(
            db.session,
            audit,
            actor(),
            version,
            via="admin",
            **{name: form[name].data for name in AUDIT_TEXTS},
        )

    @action("complete", "Complete audit", "Complete the selected audits? Their evidence is frozen then.")
    def action_complete(self, ids):
        self.run_on_selected(ids, self._complete)

    def _complete(self, audit) -> str:
        audits.complete_audit(db.session, audit, actor(), audit.version)
        return "completed; its evidence is frozen."

    @action("request_summary_approval", "Request summary approval")
    def action_request_summary_approval(self, ids):
        self.run_on_selected(ids, self._request_summary_approval)

    def _request_summary_approval(self, audit) -> str:
        approval = audits.request_summary_approval(db.session, audit, actor())
        return approval_said(approval, "client-safe summary")


class ReportView(DomainFormsMixin, DomainActionsMixin, SecureModelView):
    """Status and publication are the domain's: a draft's summary goes to approval, an approved report
    is published, and what the client reads of it stays as approved."""

    rights_limit = NO_DELETE  # what a client was sent stays on record
    row_noun = "Report"
    column_list = (
        "id",
        "title",
        "kind",
        "client",
        "project",
        "owner",
        "cadence",
        "period_start",
        "period_end",
        "status",
        "published_at",
    )
    column_select_related_list = (Report.client, Report.project, Report.owner)
    column_sortable_list = ("id", "kind", "status")
    column_searchable_list = ("title",)
    column_filters = ("kind", "status", "cadence", "period_start")
    form_columns = (
        "kind",
        "title",
        "client",
        "project",
        "lead",
        "owner",
        "cadence",
        "period_start",
        "period_end",
        "figures",
        "client_summary",
        "internal_body",
    )
    create_only = ("kind",)
    form_ajax_refs = {"client": CLIENT, "project": PROJECT, "lead": LEAD, "owner": STAFF}

    def report_fields(self, form) -> dict:
        return {
            "title": form.title.data,
            "client_id": row_id(form.client.data),
            "project_id": row_id(form.project.data),
            "lead_id": row_id(form.lead.data),
            "owner_id": row_id(form.owner.data),
            "cadence": form.cadence.data or None,
            "period_start": form.period_start.data,
            "period_end": form.period_end.data,
            "figures": form.figures.data if form.figures.data is not None else {},
            "client_summary": form.client_summary.data,
            "internal_body": form.internal_body.data,
        }

    def create(self, form):
        return publication.create_report(
            db.session, actor(), kind=form.kind.data, via="admin", **self.report_fields(form)
        )

    def save(self, report, version, form):
        return publication.update_report(
            db.session, report, actor(), version, via="admin", **self.report_fields(form)
        )

    @action("request_approval", "Request approval")
    def action_request_approval(self, ids):
        self.run_on_selected(ids, self._request_approval)

    def _request_approval(self, report) -> str:
        approval = publication.request_report_approval(db.session, report, actor())
        return approval_said(approval, "client summary")

    @action("publish", "Publish", "Publish the selected reports? Each client contact is told of them.")
    def action_publish(self, ids):
        self.run_on_selected(ids, self._publish)

    def _publish(self, report) -> str:
        publication.publish_report(db.session, report, actor(), report.version)
        return "published to the client's portal."


class ReportNoteView(DomainFormsMixin, DomainActionsMixin, SecureModelView):
    """A note is written by the signed-in user; a client-safe one reaches the client only approved."""

    rights_limit = NO_DELETE  # a note that went to approval keeps its history
    row_noun = "Note"
    column_list = ("id", "report", "audit", "visibility", "status", "author", "created_at")
    column_select_related_list = (ReportNote.report, ReportNote.audit, ReportNote.author)
    column_sortable_list = ("id",)
    column_searchable_list = ("body",)
    column_filters = ("visibility", "status")
    form_columns = ("report", "audit", "visibility", "body")
    create_only = ("report", "audit")
    form_ajax_refs = {"report": REPORT, "audit": AUDIT}

    def create(self, form):
        return publication.add_note(
            db.session,
            actor(),
            body=form.body.data,
            visibility=form.visibility.data,
            report=form.report.data,
            audit=form.audit.data,
            via="admin",
        )

    def save(self, note, version, form):
        return publication.edit_note(
            db.session,
            note,
            actor(),
            version,
            body=form.body.data,
            visibility=form.visibility.data,
            via="admin",
        )

    @action("request_approval", "Request approval")
    def action_request_approval(self, ids):
        self.run_on_selected(ids, self._request_approval)

    def _request_approval(self, note) -> str:
        return approval_said(publication.request_note_approval(db.session, note, actor()), "note")
