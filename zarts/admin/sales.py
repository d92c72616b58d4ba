"""Messages, proposals and their scope items, approvals and contracts.

A proposal's approvals are requested and it is sent, and an approval is decided, only through
zarts.domain: here as actions of the Proposals and Approvals lists (zarts.admin.actions).
"""

from typing import ClassVar

from flask import flash
from flask_admin import expose
from flask_admin.actions import action
from wtforms import IntegerField, SelectField
from wtforms.validators import InputRequired, Optional

from ..domain import Invalid, approvals, contracts, messaging, proposals
from ..extensions import db
from ..models import Approval, Contract, Message, Proposal, ProposalItem
from ..models.vocab import APPROVAL_KIND_LABELS, STAGE_LABELS
from .actions import DomainActionsMixin, actor
from .base import SecureModelView
from .forms import RejectForm, SendProposalForm, ShownField, options
from .locking import seen_version
from .permissions import CREATE, DECIDE, NO_DELETE, PROPOSE, READ_ONLY
from .refs import CLIENT, LEAD, PROPOSAL, STAFF

# What staff write or record (zarts.domain.messaging): to the client's portal thread, or for the team.
MESSAGE_KINDS = [
    ("", "Choose…"),
    ("portal", "Message to the client's portal thread"),
    ("email", "Log an email sent to the client"),
    ("phone", "Log a phone call"),
    ("meeting", "Log a meeting"),
    ("note", "Internal note (staff only)"),
]


class MessageView(SecureModelView):
    """Messages are records of what was said: written here through zarts.domain.messaging, always as
    the signed-in staff member, never inbound (a client's words come from the client, in the portal);
    read in the list and the details page, never edited or deleted (a correction is a new message)."""

    rights_limit = READ_ONLY | {CREATE}
    can_view_details = True
    column_list = (
        "id",
        "subject",
        "direction",
        "channel",
        "lead",
        "client",
        "author",
        "client_visible",
        "email_status",
        "sent_at",
        "read_at",
    )
    column_details_list = (
        "id",
        "subject",
        "body",
        "direction",
        "channel",
        "lead",
        "client",
        "author",
        "client_visible",
        "to_email",
        "email_status",
        "sent_at",
        "read_at",
    )
    column_select_related_list = (Message.lead, Message.client, Message.author)
    column_sortable_list = ("id",)  # id order is sending order
    column_searchable_list = ("subject", "to_email")
    column_filters = ("direction", "channel", "client_visible", "email_status", "sent_at")
    form_columns = ("kind", "lead", "client", "subject", "body")
    form_extra_fields: ClassVar[dict] = {
        "kind": SelectField(
            "What it is",
            choices=options(MESSAGE_KINDS),
            validators=[InputRequired("Choose what you are writing.")],
            description="A portal message is shown to the client as you write it. An email, call or meeting "
            "is logged for the team (send nothing); a note is for the team alone.",
        )
    }
    form_ajax_refs = {"lead": LEAD, "client": CLIENT}

    def create_model(self, form):
        return self.domain_write(form, lambda: self._write(form), is_created=True)

    def _write(self, form):
        """A portal message to the client, or a logged email, call, meeting or note."""
        fields = {name: form[name].data for name in ("lead", "client", "subject", "body")}
        if form.kind.data == "portal":
            return messaging.post_staff_message(db.session, actor(), **fields)
        return messaging.log_communication(db.session, actor(), kind=form.kind.data, **fields)


# What staff type on a proposal and on a scope item. Status, number, snapshot, audit, client, service,
# dates and tracking are the domain's; the lead (the proposal) is chosen once, when the row is made.
PROPOSAL_FORM = (
    "lead",
    "title",
    "summary",
    "price_cents",
    "currency",
    "timeline",
    "expected_improvement",
    "contract_language",
    "pricing_assumptions",
    "internal_notes",
)
ITEM_FORM = ("proposal", "kind", "title", "description", "price_cents", "position")


def _values(form, names, skip: str) -> dict:
    return {name: form[name].data for name in names if name != skip}


class ProposalView(DomainActionsMixin, SecureModelView):
    """Made through zarts.domain.proposals.draft_proposal (completed audit, open lead, its owner) and
    changed through revise_proposal (a sent version is frozen: the change makes a new draft version,
    and a changed part needs approval again). Approvals are requested and the proposal sent through
    the list's actions; status, version number and snapshot are never set here."""

    rights_limit = NO_DELETE | {PROPOSE}
    endpoint_rights: ClassVar[dict[str, tuple[str, ...]]] = {
        **SecureModelView.endpoint_rights,
        "send_view": (PROPOSE,),
    }
    action_rights: ClassVar[dict[str, str]] = {
        **SecureModelView.action_rights,
        "request_approvals": PROPOSE,
        "send": PROPOSE,
    }
    row_noun = "Proposal"
    column_list = (
        "id",
        "title",
        "number",
        "lead",
        "client",
        "service",
        "status",
        "price_cents",
        "currency",
        "sent_at",
        "decision_deadline",
        "probability",
    )
    column_select_related_list = (Proposal.lead, Proposal.client)
    column_sortable_list = ("id", "status")
    column_searchable_list = ("title",)
    column_filters = ("status", "service", "sent_at", "follow_up_date", "decision_deadline")
    form_columns = PROPOSAL_FORM
    form_ajax_refs = {"lead": LEAD}

    def get_edit_form(self):
        return type("EditProposalForm", (super().get_edit_form(),), {"lead": None})  # None drops the field

    def create_model(self, form):
        return self.domain_write(
            form,
            lambda: proposals.draft_proposal(
                db.session, form.lead.data, actor(), **_values(form, PROPOSAL_FORM, "lead")
            ),
            is_created=True,
        )

    def update_model(self, form, model):
        seen = seen_version(form)
        if seen is None:
            return False
        fields = _values(form, PROPOSAL_FORM, "lead")
        target = self.domain_write(
            form,
            lambda: proposals.revise_proposal(db.session, model, actor(), seen, via="admin", **fields),
            model=model,
        )
        if target and target is not model:
            flash(
                f"v{model.number} was sent and stays as the client saw it: your changes are in "
                f"v{target.number}, a new draft that needs approval before it is sent.",
                "info",
            )
        return bool(target)

    def describe_row(self, proposal):
        lead = proposal.lead
        return (
            f"{proposal.title} (v{proposal.number}, {lead.company})",
            f"{proposal.status.capitalize()}; lead at {STAGE_LABELS[lead.stage]}",
        )

    @action("request_approvals", "Request approvals")
    def action_request_approvals(self, ids):
        self.run_on_selected(ids, self._request_approvals)

    def _request_approvals(self, proposal) -> str:
        requested = proposals.request_approvals(db.session, proposal, actor())
        return (
            "approval requested for "
            + ", ".join(APPROVAL_KIND_LABELS[a.kind].lower() for a in requested)
            + "."
        )

    @action("send", "Send…")
    def action_send(self, ids):
        return self.open_form_page(".send_view", ids)

    @expose("/send/", methods=("GET", "POST"))
    def send_view(self):
        return self.form_page(
            SendProposalForm,
            title="Send proposal",
            apply=self._send,
            submit="Send",
            intro="A draft is sent only when its scope is separated and every part the "
            "client reads is approved. Sending freezes it.",
        )

    def _send(self, proposal, version, form) -> str:
        proposals.send_proposal(
            db.session,
            proposal,
            actor(),
            version,
            follow_up_date=form.follow_up_date.data,
            decision_deadline=form.decision_deadline.data,
            message=form.message.data,
        )
        return (
            f"v{proposal.number} sent to {proposal.lead.contact_email}; follow-up on "
            f"{proposal.follow_up_date:%Y-%m-%d}, lead at {STAGE_LABELS[proposal.lead.stage]}."
        )


class ProposalItemView(SecureModelView):
    """Scope items are added, changed and removed through zarts.domain.proposals (save_item,
    remove_item): only on a draft (a sent proposal's scope is what the client saw), and the scope and
    pricing approvals then no longer cover it."""

    column_list = ("id", "proposal", "kind", "title", "price_cents", "position")
    column_select_related_list = (ProposalItem.proposal,)
    column_sortable_list = ("id",)
    column_searchable_list = ("title",)
    column_filters = ("kind",)
    form_columns = ITEM_FORM
    # Declared here: the column's default (0) would put every new item first.
    form_extra_fields: ClassVar[dict] = {
        "position": IntegerField(
            "Position", validators=[Optional()], description="Empty: after the last item."
        )
    }
    form_ajax_refs = {"proposal": PROPOSAL}

    def get_edit_form(self):
        return type("EditItemForm", (super().get_edit_form(),), {"proposal": None})

    def create_model(self, form):
        return self.domain_write(
            form,
            lambda: proposals.save_item(
                db.session, form.proposal.data, actor(), via="admin", **_values(form, ITEM_FORM, "proposal")
            ),
            is_created=True,
        )

    def update_model(self, form, model):
        return bool(
            self.domain_write(
                form,
                lambda: proposals.save_item(
                    db.session,
                    model.proposal,
                    actor(),
                    model,
                    via="admin",
                    **_values(form, ITEM_FORM, "proposal"),
                ),
                model=model,
            )
        )

    def delete_model(self, model):
        return bool(
            self.domain_write(
                None, lambda: proposals.remove_item(db.session, model, actor(), via="admin"), model=model
            )
        )


class ApprovalView(DomainActionsMixin, SecureModelView):
    """Read here, decided through zarts.domain (the Approve and Reject… actions): the form never
    opens, so nobody can change what was approved after the fact."""

    rights_limit = READ_ONLY | {DECIDE}
    endpoint_rights: ClassVar[dict[str, tuple[str, ...]]] = {
        **SecureModelView.endpoint_rights,
        "reject_view": (DECIDE,),
    }
    action_rights: ClassVar[dict[str, str]] = {
        **SecureModelView.action_rights,
        "approve": DECIDE,
        "reject": DECIDE,
    }
    row_noun = "Approval"
    column_list = ("id", "kind", "state", "lead", "requested_by", "requested_at", "decided_by", "decided_at")
    column_select_related_list = (Approval.lead, Approval.requested_by, Approval.decided_by)
    column_sortable_list = ("id", "state")
    column_searchable_list = ("content", "comment")
    column_filters = ("kind", "state", "requested_at", "decided_at")
    form_columns = ("comment",)

    def describe_row(self, approval):
        kind = APPROVAL_KIND_LABELS[approval.kind]
        return (
            f"{kind}: {approval.content}",
            f"{approval.state.capitalize()}, asked by {approval.requested_by}",
        )

    @action(
        "approve", "Approve", "Approve the selected requests? What each one covers may then reach the client."
    )
    def action_approve(self, ids):
        self.run_on_selected(ids, self._approve)

    def _approve(self, approval) -> str:
        approvals.decide(db.session, approval, actor(), approval.version, approve=True)
        return f"{APPROVAL_KIND_LABELS[approval.kind]} approved."

    @action("reject", "Reject…")
    def action_reject(self, ids):
        return self.open_form_page(".reject_view", ids)

    @expose("/reject/", methods=("GET", "POST"))
    def reject_view(self):
        return self.form_page(
            RejectForm,
            title="Reject",
            apply=self._reject,
            submit="Reject",
            intro="The requester gets your comment and revises the proposal.",
        )

    def _reject(self, approval, version, form) -> str:
        approvals.decide(db.session, approval, actor(), version, approve=False, comment=form.comment.data)
        return f"{APPROVAL_KIND_LABELS[approval.kind]} rejected."


class ContractView(SecureModelView):
    """Created and edited through zarts.domain.contracts (the lead's owner or an admin; a state change
    makes its step task, signing stamps the date, every save is on the lead's timeline). The signing
    date is never typed; the lead and the accepted proposal are set once, by the domain."""

    rights_limit = NO_DELETE
    column_list = ("id", "lead", "state", "payment_state", "kickoff_date", "onboarding_owner", "signed_at")
    column_select_related_list = (Contract.lead, Contract.onboarding_owner)
    column_sortable_list = ("id", "state")
    column_searchable_list = ("lead.company", "lead.title")
    column_filters = ("state", "payment_state", "kickoff_date", "signed_at")
    form_excluded_columns = ("signed_at", "proposal")
    form_ajax_refs = {"lead": LEAD, "onboarding_owner": STAFF}

    def get_edit_form(self):
        form_class = super().get_edit_form()
        return type("ContractEditForm", (form_class,), {"lead": ShownField("Lead")})

    def _changes(self, form) -> dict:
        owner = form.onboarding_owner.data
        return {
            "state": form.state.data or None,
            "payment_state": form.payment_state.data or None,
            "kickoff_date": form.kickoff_date.data,
            "onboarding_owner_id": owner.id if owner else None,
            "launch_blockers": form.launch_blockers.data or "",
            "client_launch_blockers": form.client_launch_blockers.data or "",
            "via": "admin",
        }

    def create_model(self, form):
        def create():
            if form.lead.data is None:
                raise Invalid("Choose the lead this contract is for.", "lead")
            return contracts.create_contract(db.session, form.lead.data, actor(), **self._changes(form))

        return self.domain_write(form, create, is_created=True)

    def update_model(self, form, model):
        version = seen_version(form)
        if version is None:
            return False
        return self.domain_write(
            form,
            lambda: contracts.update_contract(
                db.session, model.lead, actor(), version, **self._changes(form)
            ),
            model=model,
        )
