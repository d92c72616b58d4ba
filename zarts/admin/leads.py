"""The leads view: created, edited, reassigned and moved through zarts.domain (create_lead, update_lead,
set_next_action, reassign, move, mark_lost), never set here."""

from typing import ClassVar

from flask import request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import IntEqualFilter
from wtforms.fields.core import UnboundField

from ..domain import pipeline
from ..domain.duplicates import lead_duplicates
from ..extensions import db
from ..models import Lead
from ..models.vocab import STAGE_LABELS
from .actions import DomainActionsMixin, actor
from .base import SecureModelView
from .duplicate_warning import stop_for_duplicates, with_confirm
from .forms import MarkLostForm, MoveStageForm, ReassignForm, ShownField, label
from .locking import seen_version
from .permissions import MERGE, MOVE, NO_DELETE
from .refs import CLIENT, STAFF

# The create form: what zarts.domain.pipeline.create_lead accepts (a new lead is not paused or lost).
NEW_LEAD_FORM = (
    "title",
    "company",
    "owner",
    "client",
    "contact_name",
    "contact_email",
    "contact_phone",
    "contact_path",
    "source",
    "source_context",
    "service",
    "service_fit",
    "urgency",
    "decision_owner",
    "decision_criteria",
    "budget_signal",
    "pain_points",
    "current_lead_flow",
    "provider_stack",
    "discovery_notes",
    "probability",
    "next_action",
    "next_action_due",
    "decision_deadline",
    "consent",
    "value_cents",
    "currency",
)
# The edit form shows these without taking them: each changes through its own domain act.
SHOWN_ONLY = {
    "owner": "Change the owner with “Reassign…” in the list.",
    "client": "Linked when the lead is created or its first proposal is sent.",
    "decision_deadline": "Set when the proposal is sent, and with its forecast on the lead page.",
}


class ClientFilter(IntEqualFilter):
    """The leads of one client, by its id: the clients list links its rows here (`leads_of_client_url`)."""

    def validate(self, value) -> bool:
        return super().validate(value) and 0 < int(value) < 2**63


CLIENT_FILTER_ARG = "client"  # the filter's URL argument: /admin/leads/?flt0_client=<client id>


def leads_of_client_url(client_id: int) -> str:
    """The admin list of a client's leads (merged ones left out, as the list always does)."""
    return url_for("leads.index_view", **{f"flt0_{CLIENT_FILTER_ARG}": client_id})


class LeadView(DomainActionsMixin, SecureModelView):
    """Leads are never deleted (a lost deal is marked lost); stage and its dates move only through
    zarts.domain, so they are not in the form."""

    rights_limit = NO_DELETE | {MOVE, MERGE}
    endpoint_rights: ClassVar[dict[str, tuple[str, ...]]] = {
        **SecureModelView.endpoint_rights,
        "move_view": (MOVE,),
        "lost_view": (MOVE,),
        "reassign_view": (MOVE,),
    }
    action_rights: ClassVar[dict[str, str]] = {
        **SecureModelView.action_rights,
        "move_stage": MOVE,
        "mark_lost": MOVE,
        "reassign": MOVE,
        "merge": MERGE,
    }
    row_noun = "Lead"

    column_list = (
        "id",
        "title",
        "company",
        "stage",
        "service",
        "source",
        "owner",
        "client",
        "next_action",
        "next_action_due",
        "probability",
        "updated_at",
    )
    column_select_related_list = (Lead.owner, Lead.client)
    column_sortable_list = ("id", "company", "stage", "next_action_due", "decision_deadline")
    column_searchable_list = ("title", "company", "contact_name", "contact_email")
    column_filters = (
        "stage",
        "source",
        "service",
        "lost_reason",
        "next_action_due",
        "decision_deadline",
        "reactivation_date",
        "owner.email",
        ClientFilter(Lead.client_id, "Client #"),  # last: the numbered filters' URLs stay as they were
    )
    # State and its reasons change only through the domain (move, pause/resume, mark lost, reactivate).
    form_excluded_columns = (
        "stage",
        "paused_at",
        "pause_reason",
        "pause_note",
        "lost_at",
        "lost_reason",
        "lost_note",
        "reactivation_date",
        "reactivation_never",
        "won_at",
        "discovery_logged_at",
        "consent_recorded_at",
    )
    form_ajax_refs = {"owner": STAFF, "client": CLIENT}

    def get_filter_arg(self, index, flt):
        """The client filter by name, so a link to a client's leads reads the same whatever the
        other filters are; the others by number, as Flask-Admin numbers them (saved URLs stay)."""
        return CLIENT_FILTER_ARG if isinstance(flt, ClientFilter) else super().get_filter_arg(index, flt)

    def get_query(self):
        """Merged leads (zarts.domain.merge) leave the list; `?merged=1` shows them too."""
        query = super().get_query()
        return query if request.args.get("merged") == "1" else query.filter(Lead.merged_into_id.is_(None))

    # -- create: through the domain, so the lead gets its `created` event ------------------------

    def get_create_form(self):
        form_class = super().get_create_form()
        dropped = {
            name: None
            for name, field in vars(form_class).items()  # None removes a WTForms field
            if isinstance(field, UnboundField) and name not in NEW_LEAD_FORM
        }
        return with_confirm(type("NewLeadForm", (form_class,), dropped))

    def create_model(self, form):
        fields = {name: form[name].data for name in NEW_LEAD_FORM if name not in ("owner", "client")}
        matches = lead_duplicates(
            db.session, company=fields.get("company"), contact_email=fields.get("contact_email")
        )
        if stop_for_duplicates(
            form,
            matches,
            lambda lead: [
                (f"lead #{lead.id}", url_for("workspace.lead", lead_id=lead.id)),
                ("admin", self.get_url(".edit_view", id=lead.id)),
            ],
        ):
            return False
        fields["owner_id"] = form.owner.data.id if form.owner.data is not None else None
        fields["client_id"] = form.client.data.id if form.client.data is not None else None
        return self.domain_write(
            form, lambda: pipeline.create_lead(db.session, actor(), **fields), is_created=True
        )

    # -- edit: the descriptive fields through update_lead, the next action through set_next_action ----

    def get_edit_form(self):
        form_class = super().get_edit_form()
        shown = {name: ShownField(label(name), description=why) for name, why in SHOWN_ONLY.items()}
        return type("LeadEditForm", (form_class,), shown)

    def update_model(self, form, model):
        version = seen_version(form)
        if version is None:
            return False
        return self.domain_write(form, lambda: self._edit(model, version, form), model=model)

    def _edit(self, lead, version, form):
        fields = {name: form[name].data for name in pipeline.EDITABLE_FIELDS if name in form}
        pipeline.update_lead(db.session, lead, actor(), version, via="admin", **fields)
        next_action, due = (form.next_action.data or "").strip() or None, form.next_action_due.data
        if (next_action, due) != (lead.next_action, lead.next_action_due):
            pipeline.set_next_action(db.session, lead, actor(), lead.version, next_action, due)
        return lead

    # -- actions --------------------------------------------------------------------------------

    def describe_row(self, lead):
        owner = lead.owner.name if lead.owner is not None else "no owner"
        return f"{lead.title} ({lead.company})", f"{STAGE_LABELS[lead.stage]}, {owner}"

    @action("move_stage", "Move to stage…")
    def action_move_stage(self, ids):
        return self.open_form_page(".move_view", ids)

    @expose("/move/", methods=("GET", "POST"))
    def move_view(self):
        return self.form_page(
            MoveStageForm,
            title="Move to stage",
            apply=self._move,
            submit="Move",
            intro="Only the owner of a lead (or an admin) moves it. A lead whose gate "
            "is not met stays where it is, with the list of what is missing.",
        )

    def _move(self, lead, version, form) -> str:
        stage = form.stage.data
        pipeline.move(
            db.session,
            lead,
            stage,
            actor(),
            version,
            next_action=form.next_action.data or None,
            next_action_due=form.next_action_due.data,
        )
        return f"moved to {STAGE_LABELS[stage]}."

    @action("reassign", "Reassign…")
    def action_reassign(self, ids):
        return self.open_form_page(".reassign_view", ids)

    @expose("/reassign/", methods=("GET", "POST"))
    def reassign_view(self):
        return self.form_page(
            ReassignForm,
            title="Reassign",
            apply=self._reassign,
            submit="Reassign",
            intro="An admin reassigns any lead; growth ops hand over the leads they own.",
        )

    def _reassign(self, lead, version, form) -> str:
        pipeline.reassign(db.session, lead, actor(), version, int(form.owner.data), note=form.note.data)
        return f"now owned by {lead.owner.name}."

    @action("merge", "Merge into…")
    def action_merge(self, ids):
        return self.open_merge_screen(ids, "workspace.merge_leads_screen")

    @action("mark_lost", "Mark lost…")
    def action_mark_lost(self, ids):
        return self.open_form_page(".lost_view", ids)

    @expose("/lost/", methods=("GET", "POST"))
    def lost_view(self):
        return self.form_page(
            MarkLostForm,
            title="Mark lost",
            apply=self._mark_lost,
            submit="Mark lost",
            intro="Nothing is deleted: a lost lead keeps its history and gets a win-back "
            "task on its reactivation date.",
        )

    def _mark_lost(self, lead, version, form) -> str:
        reason = form.lost_reason.data or None
        when = form.reactivation_date.data
        pipeline.mark_lost(
            db.session,
            lead,
            actor(),
            version,
            lost_reason=reason,
            lost_note=form.lost_note.data,
            reactivation_date=when,
            reactivation_never=form.reactivation_never.data,
        )
        return f"marked lost ({label(reason)}); " + (
            f"win-back on {when:%Y-%m-%d}." if when else "never to be reactivated."
        )
