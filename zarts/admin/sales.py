"""Messages, proposals and their scope items, approvals and contracts."""

from ..models import Approval, Contract, Message, Proposal, ProposalItem
from .base import SecureModelView
from .permissions import NO_DELETE, READ_ONLY
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


class ProposalView(SecureModelView):
    """Status, version number and snapshot change only through zarts.domain (send, revise, accept)."""

    rights_limit = NO_DELETE
    column_list = ("id", "title", "number", "lead", "client", "service", "status", "price_cents", "currency",
                   "sent_at", "decision_deadline", "probability")
    column_select_related_list = (Proposal.lead, Proposal.client)
    column_sortable_list = ("id", "status")
    column_searchable_list = ("title",)
    column_filters = ("status", "service", "sent_at", "follow_up_date", "decision_deadline")
    form_excluded_columns = ("status", "snapshot", "number", "previous", "sent_at", "viewed_at",
                             "accepted_at", "accepted_add_on_ids", "declined_at", "sent_message",
                             "items", "approvals")
    form_ajax_refs = {"lead": LEAD, "client": CLIENT, "audit": AUDIT}

    def frozen_reason(self, model):
        return FROZEN_PROPOSAL if model.status not in (None, "draft") else None  # None: not yet saved


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


class ApprovalView(SecureModelView):
    """Read here; approvals are requested and decided only through zarts.domain, so nobody can change
    what was approved after the fact."""

    rights_limit = READ_ONLY
    column_list = ("id", "kind", "state", "lead", "requested_by", "requested_at", "decided_by",
                   "decided_at")
    column_select_related_list = (Approval.lead, Approval.requested_by, Approval.decided_by)
    column_sortable_list = ("id", "state")
    column_searchable_list = ("content", "comment")
    column_filters = ("kind", "state", "requested_at", "decided_at")
    form_columns = ("comment",)


class ContractView(SecureModelView):
    rights_limit = NO_DELETE
    column_list = ("id", "lead", "state", "payment_state", "kickoff_date", "onboarding_owner", "signed_at")
    column_select_related_list = (Contract.lead, Contract.onboarding_owner)
    column_sortable_list = ("id", "state")
    column_searchable_list = ("lead.company", "lead.title")
    column_filters = ("state", "payment_state", "kickoff_date", "signed_at")
    form_excluded_columns = ("signed_at",)
    form_ajax_refs = {"lead": LEAD, "proposal": PROPOSAL, "onboarding_owner": STAFF}
