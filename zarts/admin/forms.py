"""The input of the list actions that need some (zarts.admin.actions). They parse, never decide:
what is required for a move, a loss, a send or a rejection is the domain's to say."""

from __future__ import annotations

from wtforms import BooleanField, DateField, Form, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..models.vocab import LOST_REASONS, OPEN_STAGES, STAGE_LABELS

# Lost has its own action (it needs a reason and a reactivation date); won is checked by its gate.
MOVE_TARGETS = OPEN_STAGES + ("won",)


def label(value: str) -> str:
    return value.replace("_", " ").capitalize()


class MoveStageForm(Form):
    stage = SelectField("Move to", choices=[("", "Choose a stage")] + [(s, STAGE_LABELS[s]) for s in MOVE_TARGETS],
                        validators=[InputRequired("Choose the stage to move to.")],
                        description="Each lead moves only if its gate is met. To close a lead as lost, "
                                    "use “Mark lost…”.")
    next_action = StringField("Next action", [Optional(), Length(max=300)],
                              description="Leave empty to keep each lead's current next action.")
    next_action_due = DateField("Next action due", [Optional()],
                                description="Leave empty to keep each lead's current due date.")


class MarkLostForm(Form):
    lost_reason = SelectField("Lost reason", choices=[("", "Choose a reason")]
                              + [(r, label(r)) for r in LOST_REASONS])
    lost_note = TextAreaField("Note", [Optional(), Length(max=2000)])
    reactivation_date = DateField("Reactivate on", [Optional()],
                                  description="A win-back task is created for the owner on this date.")
    reactivation_never = BooleanField("Never reactivate")


class SendProposalForm(Form):
    follow_up_date = DateField("Follow up on", [Optional()])
    decision_deadline = DateField("Decision deadline", [Optional()])
    message = TextAreaField("Note to the client", [Optional(), Length(max=2000)],
                            description="Optional: added to the email that carries the proposal.")


class RejectForm(Form):
    comment = TextAreaField("Why it is rejected", [Length(max=2000)], render_kw={"required": True},
                            description="Required: the requester reads it and revises the proposal.")
