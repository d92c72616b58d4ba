"""Messages, proposals and their scope items, approvals and contracts.

A proposal's approvals are requested and it is sent, and an approval is decided, only through
zarts.domain: here as actions of the Proposals and Approvals lists (zarts.admin.actions).
"""

from typing import ClassVar

from flask_admin import expose
from flask_admin.actions import action

from ..domain import approvals, proposals
from ..extensions import db
from ..models import Approval, Contract, Message, Proposal, ProposalItem
from ..models.vocab import APPROVAL_KIND_LABELS, STAGE_LABELS
from .actions import DomainActionsMixin, actor
from .base import SecureModelView
from .forms import RejectForm, SendProposalForm
from .permissions import DECIDE, NO_DELETE, PROPOSE, READ_ONLY
from .refs import AUDIT, CLIENT, LEAD, PROPOSAL, STAFF

FROZEN_PROPOSAL = ("This proposal was sent and is frozen: what the client saw stays as it was. "
                   "Revise it to make a new version.")


class MessageView(SecureModelView):
    rights_limit = NO_DELETE  # communication records stay
    column_list = ("id", "subject", "direction", "channel", "lead", "client", "author", "client_visible",
                   "email_status", "sent_at", "read_at")
    column_select_related_list = (Message.lead, Message.client, Message.author)
    column_sortable_list = ("id",)  # id order is sending order
    column_searchable_list = ("subject", "to_email")
    column_filters = ("direction", "channel", "client_visible", "email_status", "sent_at")
    form_excluded_columns = ("email_status", "key", "sent_at", "read_at")  # the mail jobs' fields
    form_ajax_refs = {"lead": LEAD, "client": CLIENT, "author": STAFF}


class ProposalView(DomainActionsMixin, SecureModelView):
    """Status, version number and snapshot change only through zarts.domain (send, revise, accept)."""

    rights_limit = NO_DELETE | {PROPOSE}
    endpoint_rights: ClassVar[dict[str, tuple[str, ...]]] = {**SecureModelView.endpoint_rights, "send_view": (PROPOSE,)}
    action_rights: ClassVar[dict[str, str]] = {**SecureModelView.action_rights, "request_approvals": PROPOSE, "send": PROPOSE}
    row_noun = "Proposal"
    column_list = ("id", "title", "number", "lead", "client", "service", "status", "price_cents", "currency",
                   "sent_at", "decision_deadline", "probability")
    column_select_related_list = (Proposal.lead, Proposal.client)
    column_sortable_list = ("id", "status")
    column_searchable_list = ("title",)
    column_filters = ("status", "service", "sent_at", "follow_up_date", "decision_deadline")
    form_excluded_columns = ("status", "snapshot", "number", "previous", "sent_at", "viewed_at",
                             "accepted_at", "accepted_add_on_ids", "declined_at", "sent_message",
                             "items", "approvals", "not_viewed_reminder_at", "not_decided_reminder_at")
    form_ajax_refs = {"lead": LEAD, "client": CLIENT, "audit": AUDIT}

    def frozen_reason(self, model):
        return FROZEN_PROPOSAL if model.status not in (None, "draft") else None  # None: not yet saved

    def describe_row(self, proposal):
        lead = proposal.lead
        return (f"{proposal.title} (v{proposal.number}, {lead.company})",
                f"{proposal.status.capitalize()}; lead at {STAGE_LABELS[lead.stage]}")

    @action("request_approvals", "Request approvals")
    def action_request_approvals(self, ids):
        self.run_on_selected(ids, self._request_approvals)

    def _request_approvals(self, proposal) -> str:
        requested = proposals.request_approvals(db.session, proposal, actor())
        return "approval requested for " + ", ".join(APPROVAL_KIND_LABELS[a.kind].lower() for a in requested) + "."

    @action("send", "Send…")
    def action_send(self, ids):
        return self.open_form_page(".send_view", ids)

    @expose("/send/", methods=("GET", "POST"))
    def send_view(self):
        return self.form_page(SendProposalForm, title="Send proposal", apply=self._send, submit="Send",
                              intro="A draft is sent only when its scope is separated and every priced, "
                                    "claimed or contractual part is approved. Sending freezes it.")

    def _send(self, proposal, version, form) -> str:
        proposals.send_proposal(db.session, proposal, actor(), version, follow_up_date=form.follow_up_date.data,
                                decision_deadline=form.decision_deadline.data, message=form.message.data)
        return (f"v{proposal.number} sent to {proposal.lead.contact_email}; follow-up on "
                f"{proposal.follow_up_date:%Y-%m-%d}, lead at {STAGE_LABELS[proposal.lead.stage]}.")


class ProposalItemView(SecureModelView):
    column_list = ("id", "proposal", "kind", "title", "price_cents", "position")
    column_select_related_list = (ProposalItem.proposal,)
    column_sortable_list = ("id",)
    column_searchable_list = ("title",)
    column_filters = ("kind",)
    form_ajax_refs = {"proposal": PROPOSAL}

    def frozen_reason(self, model):
        proposal = model.proposal
        return FROZEN_PROPOSAL if proposal is not None and proposal.status != "draft" else None


class ApprovalView(DomainActionsMixin, SecureModelView):
    """Read here, decided through zarts.domain (the Approve and Reject… actions): the form never
    opens, so nobody can change what was approved after the fact."""

    rights_limit = READ_ONLY | {DECIDE}
    endpoint_rights: ClassVar[dict[str, tuple[str, ...]]] = {**SecureModelView.endpoint_rights, "reject_view": (DECIDE,)}
    action_rights: ClassVar[dict[str, str]] = {**SecureModelView.action_rights, "approve": DECIDE, "reject": DECIDE}
    row_noun = "Approval"
    column_list = ("id", "kind", "state", "lead", "requested_by", "requested_at", "decided_by",
                   "decided_at")
    column_select_related_list = (Approval.lead, Approval.requested_by, Approval.decided_by)
    column_sortable_list = ("id", "state")
    column_searchable_list = ("content", "comment")
    column_filters = ("kind", "state", "requested_at", "decided_at")
    form_columns = ("comment",)

    def describe_row(self, approval):
        kind = APPROVAL_KIND_LABELS[approval.kind]
        return f"{kind}: {approval.content}", f"{approval.state.capitalize()}, asked by {approval.requested_by}"

    @action("approve", "Approve", "Approve the selected requests? What each one covers may then reach the client.")
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
        return self.form_page(RejectForm, title="Reject", apply=self._reject, submit="Reject",
                              intro="The requester gets your comment and revises the proposal.")

    def _reject(self, approval, version, form) -> str:
        approvals.decide(db.session, approval, actor(), version, approve=False, comment=form.comment.data)
        return f"{APPROVAL_KIND_LABELS[approval.kind]} rejected."


class ContractView(SecureModelView):
    rights_limit = NO_DELETE
    column_list = ("id", "lead", "state", "payment_state", "kickoff_date", "onboarding_owner", "signed_at")
    column_select_related_list = (Contract.lead, Contract.onboarding_owner)
    column_sortable_list = ("id", "state")
    column_searchable_list = ("lead.company", "lead.title")
    column_filters = ("state", "payment_state", "kickoff_date", "signed_at")
    form_excluded_columns = ("signed_at",)
    form_ajax_refs = {"lead": LEAD, "proposal": PROPOSAL, "onboarding_owner": STAFF}
