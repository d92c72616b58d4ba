"""Tasks (every promise with an owner and a due date) and the append-only event trail."""

from typing import ClassVar

from flask_admin.actions import action
from wtforms import SelectField

from ..domain import tasks
from ..extensions import db
from ..models import Event, Task
from .actions import DomainActionsMixin, actor
from .base import SecureModelView
from .forms import options
from .locking import seen_version
from .permissions import EDIT, READ_ONLY
from .refs import CLIENT, LEAD, PROJECT, STAFF

# What staff set on a task; done, client_visible, key and remind_on are the domain's and the jobs'.
TASK_FORM = ("title", "kind", "notes", "owner", "due", "lead", "client", "project")
DESTINATIONS = [
    ("team", "Team task (staff only)"),
    ("client", "Client checklist item, after an approver approves its title"),
]


def task_fields(form) -> dict:
    """The form's values as zarts.domain.tasks takes them (rows as their ids)."""
    fields = {name: form[name].data for name in ("title", "kind", "notes", "due")}
    for name in ("owner", "lead", "client", "project"):
        row = form[name].data
        fields[f"{name}_id"] = row.id if row is not None else None
    return fields


class TaskView(DomainActionsMixin, SecureModelView):
    """Tasks are made, edited, deleted, ticked off and proposed to a client's checklist through
    zarts.domain.tasks: who may act on a task, the change record on the lead's timeline and the approval
    a checklist item needs are the domain's. The form never sets client_visible or the done fields."""

    action_rights: ClassVar[dict[str, str]] = {
        **SecureModelView.action_rights,
        "mark_done": EDIT,
        "reopen": EDIT,
        "propose": EDIT,
    }
    row_noun = "Task"
    column_list = (
        "id",
        "title",
        "kind",
        "owner",
        "due",
        "done_at",
        "lead",
        "client",
        "project",
        "client_visible",
    )
    column_select_related_list = (Task.owner, Task.lead, Task.client, Task.project)
    column_sortable_list = ("id", "kind", "due")
    column_searchable_list = ("title",)
    column_filters = ("kind", "due", "done_at", "client_visible", "owner.email")
    form_columns = TASK_FORM
    form_ajax_refs = {"owner": STAFF, "lead": LEAD, "client": CLIENT, "project": PROJECT}

    def get_create_form(self):
        return type(
            "NewTaskForm",
            (super().get_create_form(),),
            {
                "destination": SelectField(
                    "Where it goes",
                    choices=options(DESTINATIONS),
                    default="team",
                    description="A client checklist item is shown to the client (who ticks it in the portal) "
                    "only once an approver has approved its title.",
                )
            },
        )

    def create_model(self, form):
        propose = form.destination.data == "client"
        make = tasks.propose_client_task if propose else tasks.create_task
        return self.domain_write(
            form, lambda: make(db.session, actor(), **task_fields(form), via="admin"), is_created=True
        )

    def update_model(self, form, model):
        seen = seen_version(form)
        return seen is not None and bool(
            self.domain_write(
                form,
                lambda: tasks.update_task(db.session, model, actor(), seen, **task_fields(form), via="admin"),
                model=model,
            )
        )

    def delete_model(self, model):
        return bool(
            self.domain_write(None, lambda: tasks.delete_task(db.session, model, actor()), model=model)
        )

    @action("mark_done", "Mark done")
    def action_mark_done(self, ids):
        self.run_on_selected(ids, lambda task: self._set_done(task, True))

    @action("reopen", "Reopen")
    def action_reopen(self, ids):
        self.run_on_selected(ids, lambda task: self._set_done(task, False))

    def _set_done(self, task, done: bool) -> str:
        tasks.set_task_done(db.session, task, actor(), task.version, done)
        return "marked done." if done else "reopened."

    @action(
        "propose",
        "Propose to client checklist",
        "Ask an approver to approve the titles of the selected tasks for their clients' checklists?",
    )
    def action_propose(self, ids):
        self.run_on_selected(ids, self._propose)

    def _propose(self, task) -> str:
        tasks.request_checklist_approval(db.session, task, actor())
        return "proposed for the client's checklist: it is shown there once an approver approves its title."


class EventView(SecureModelView):
    """Events are append-only: read and exported, never created, edited or deleted here."""

    rights_limit = READ_ONLY
    column_list = (
        "id",
        "created_at",
        "kind",
        "lead",
        "stage",
        "actor",
        "owner",
        "next_action",
        "next_action_due",
    )
    column_select_related_list = (Event.lead, Event.actor, Event.owner)
    column_sortable_list = ("id",)  # id order is creation order, on the primary key
    column_filters = ("kind", "created_at")
    form_columns = ("kind",)
