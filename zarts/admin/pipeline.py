"""Tasks (every promise with an owner and a due date) and the append-only event trail."""

from ..models import Event, Task
from .base import SecureModelView
from .permissions import READ_ONLY
from .refs import CLIENT, LEAD, PROJECT, STAFF


class TaskView(SecureModelView):
    column_list = ("id", "title", "kind", "owner", "due", "done_at", "lead", "client", "project",
                   "client_visible")
    column_select_related_list = (Task.owner, Task.lead, Task.client, Task.project)
    column_sortable_list = ("id", "kind", "due")
    column_searchable_list = ("title",)
    column_filters = ("kind", "due", "done_at", "client_visible", "owner.email")
    # Ticking a task done is a domain act (it writes an event); the key is the jobs' idempotency key
    # and remind_on the reminder sweep's bookkeeping.
    form_excluded_columns = ("done_at", "done_by", "key", "remind_on")
    form_ajax_refs = {"owner": STAFF, "lead": LEAD, "client": CLIENT, "project": PROJECT}


class EventView(SecureModelView):
    """Events are append-only: read and exported, never created, edited or deleted here."""

    rights_limit = READ_ONLY
    column_list = ("id", "created_at", "kind", "lead", "stage", "actor", "owner", "next_action",
                   "next_action_due")
    column_select_related_list = (Event.lead, Event.actor, Event.owner)
    column_sortable_list = ("id",)  # id order is creation order, on the primary key
    column_filters = ("kind", "created_at")
    form_columns = ("kind",)
