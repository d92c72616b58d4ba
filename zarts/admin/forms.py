"""The input of the list actions that need some (zarts.admin.actions), and the pieces of edit forms
routed through the domain. They parse, never decide: what is required for a move, a loss, a send,
a rejection or a reassignment is the domain's to say."""

from __future__ import annotations

import sqlalchemy as sa
from wtforms import BooleanField, DateField, Form, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..domain.pipeline import OWNER_ROLES
from ..extensions import db
from ..models import User
from ..models.vocab import LOST_REASONS, OPEN_STAGES, STAGE_LABELS

try:  # WTForms 3.3 declares a select's options as SelectChoice and deprecates (value, label) tuples
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - WTForms < 3.3 takes the pairs as they are
    SelectChoice = None

# Lost has its own action (it needs a reason and a reactivation date); won is checked by its gate.
MOVE_TARGETS = OPEN_STAGES + ("won",)


def options(pairs) -> list:
    """(value, label) pairs as a SelectField's choices, in the shape the installed WTForms expects."""
    return [SelectChoice(value, text) for value, text in pairs] if SelectChoice else list(pairs)


def label(value: str) -> str:
    return value.replace("_", " ").capitalize()


class MoveStageForm(Form):
    stage = SelectField(
        "Move to",
        choices=options([("", "Choose a stage")] + [(s, STAGE_LABELS[s]) for s in MOVE_TARGETS]),
        validators=[InputRequired("Choose the stage to move to.")],
        description="Each lead moves only if its gate is met. To close a lead as lost, use “Mark lost…”.",
    )
    next_action = StringField(
        "Next action",
        [Optional(), Length(max=300)],
        description="Leave empty to keep each lead's current next action.",
    )
    next_action_due = DateField(
        "Next action due", [Optional()], description="Leave empty to keep each lead's current due date."
    )


class MarkLostForm(Form):
    lost_reason = SelectField(
        "Lost reason", choices=options([("", "Choose a reason")] + [(r, label(r)) for r in LOST_REASONS])
    )
    lost_note = TextAreaField("Note", [Optional(), Length(max=2000)])
    reactivation_date = DateField(
        "Reactivate on", [Optional()], description="A win-back task is created for the owner on this date."
    )
    reactivation_never = BooleanField("Never reactivate")


class SendProposalForm(Form):
    follow_up_date = DateField("Follow up on", [Optional()])
    decision_deadline = DateField("Decision deadline", [Optional()])
    message = TextAreaField(
        "Note to the client",
        [Optional(), Length(max=2000)],
        description="Optional: added to the email that carries the proposal.",
    )


class RejectForm(Form):
    comment = TextAreaField(
        "Why it is rejected",
        [Length(max=2000)],
        render_kw={"required": True},
        description="Required: the requester reads it and revises the proposal.",
    )


def lead_owners() -> list:
    """Who may be given a lead: active growth ops and admins (the domain checks again)."""
    people = db.session.execute(
        sa.select(User.id, User.name)
        .order_by(User.name)
        .where(User.role.in_(OWNER_ROLES), User.active.is_(True))
    )
    return options([("", "Choose the new owner")] + [(str(pk), name) for pk, name in people])


class ReassignForm(Form):
    owner = SelectField(
        "New owner",
        choices=lead_owners,
        validators=[InputRequired("Choose the new owner.")],
        description="The old owner's open follow-ups, contract steps, win-backs and "
        "replies of the lead go with it.",
    )
    note = TextAreaField(
        "Note", [Optional(), Length(max=500)], description="Optional: why, for the lead's timeline."
    )


class ShownField(StringField):
    """A value the edit form shows but does not take (it changes through a domain action): what is
    posted for it is ignored, so the form keeps the row's value."""

    def __init__(self, label=None, description="", **kwargs):
        super().__init__(label, description=description, render_kw={"readonly": True}, **kwargs)

    def process_formdata(self, valuelist):
        pass

    def populate_obj(self, obj, name):
        pass
