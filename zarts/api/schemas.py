"""What the API reads and writes, as marshmallow schemas (they are also the OpenAPI document)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..models.integrations import WEBHOOK_EVENTS  # noqa: F401  (documented in the README)
from ..models.vocab import (
    CONSENT,
    EVENT_KINDS,
    LOST_REASONS,
    SERVICE_FIT,
    SERVICES,
    SOURCES,
    STAGES,
    URGENCY,
)

Text = fields.String


class PageQuery(Schema):
    after = fields.Integer(
        validate=validate.Range(min=0), metadata={"description": "Id of the last row seen"}
    )
    limit = fields.Integer(validate=validate.Range(min=1, max=500), metadata={"description": "Rows per page"})


class LeadQuery(PageQuery):
    stage = fields.String(validate=validate.OneOf(STAGES))
    owner = fields.String(metadata={"description": "A user id, or `me`"})
    source = fields.String(validate=validate.OneOf(SOURCES))
    service = fields.String(validate=validate.OneOf(SERVICES))
    updated_since = fields.DateTime(metadata={"description": "ISO 8601, UTC"})


class EventQuery(PageQuery):
    lead_id = fields.Integer(validate=validate.Range(min=1))
    kind = fields.String(validate=validate.OneOf(EVENT_KINDS))


class TaskQuery(PageQuery):
    lead_id = fields.Integer(validate=validate.Range(min=1))
    open = fields.Boolean(metadata={"description": "Only open tasks (default true)"})


class ProposalQuery(PageQuery):
    lead_id = fields.Integer(validate=validate.Range(min=1))


class LeadOut(Schema):
    id = fields.Integer()
    version = fields.Integer()
    title = Text()
    company = Text()
    contact_name = Text(allow_none=True)
    contact_email = Text(allow_none=True)
    contact_phone = Text(allow_none=True)
    contact_path = Text(allow_none=True)
    source = Text()
    source_context = Text(allow_none=True)
    service = Text()
    service_fit = Text(allow_none=True)
    urgency = Text(allow_none=True)
    decision_owner = Text(allow_none=True)
    decision_criteria = Text(allow_none=True)
    budget_signal = Text(allow_none=True)
    pain_points = Text(allow_none=True)
    current_lead_flow = Text(allow_none=True)
    provider_stack = Text(allow_none=True)
    discovery_notes = Text(allow_none=True)
    stage = Text()
    probability = fields.Integer(allow_none=True)
    next_action = Text(allow_none=True)
    next_action_due = fields.Date(allow_none=True)
    decision_deadline = fields.Date(allow_none=True)
    consent = Text()
    consent_recorded_at = fields.DateTime(allow_none=True)
    paused_at = fields.DateTime(allow_none=True)
    pause_reason = Text(allow_none=True)
    lost_reason = Text(allow_none=True)
    lost_at = fields.DateTime(allow_none=True)
    reactivation_date = fields.Date(allow_none=True)
    won_at = fields.DateTime(allow_none=True)
    value_cents = fields.Integer(allow_none=True)
    currency = Text(allow_none=True)
    owner_id = fields.Integer(allow_none=True)
    client_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


def _text(n: int, **kw):
    return fields.String(validate=validate.Length(max=n), allow_none=True, **kw)


class LeadEdit(Schema):
    """The descriptive fields (pipeline.EDITABLE_FIELDS)."""

    title = fields.String(validate=validate.Length(min=1, max=200))
    company = fields.String(validate=validate.Length(min=1, max=200))
    contact_name = _text(120)
    contact_email = _text(254)
    contact_phone = _text(40)
    contact_path = _text(200)
    source = fields.String(validate=validate.OneOf(SOURCES))
    source_context = _text(5000)
    service = fields.String(validate=validate.OneOf(SERVICES))
    service_fit = fields.String(validate=validate.OneOf(SERVICE_FIT), allow_none=True)
    urgency = fields.String(validate=validate.OneOf(URGENCY), allow_none=True)
    decision_owner = _text(120)
    decision_criteria = _text(5000)
    budget_signal = _text(200)
    pain_points = _text(5000)
    current_lead_flow = _text(5000)
    provider_stack = _text(5000)
    discovery_notes = _text(20000)
    probability = fields.Integer(validate=validate.Range(min=0, max=100), allow_none=True)
    consent = fields.String(validate=validate.OneOf(CONSENT))


class LeadCreate(LeadEdit):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    company = fields.String(required=True, validate=validate.Length(min=1, max=200))
    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    service = fields.String(required=True, validate=validate.OneOf(SERVICES))
    next_action = _text(300)
    next_action_due = fields.Date(allow_none=True)
    decision_deadline = fields.Date(allow_none=True)
    owner_id = fields.Integer(allow_none=True)
    client_id = fields.Integer(allow_none=True)


class MoveIn(Schema):
    stage = fields.String(required=True, validate=validate.OneOf(STAGES))
    next_action = _text(300)
    next_action_due = fields.Date(allow_none=True)
    probability = fields.Integer(validate=validate.Range(min=0, max=100), allow_none=True)
    lost_reason = fields.String(validate=validate.OneOf(LOST_REASONS), allow_none=True)
    lost_note = _text(5000)
    reactivation_date = fields.Date(allow_none=True)
    reactivation_never = fields.Boolean()


class LostIn(Schema):
    lost_reason = fields.String(required=True, validate=validate.OneOf(LOST_REASONS))
    lost_note = _text(5000)
    reactivation_date = fields.Date(allow_none=True)
    reactivation_never = fields.Boolean()


class ClientOut(Schema):
    id = fields.Integer()
    version = fields.Integer()
    name = Text()
    status = Text()
    domain = Text(allow_none=True)
    report_cadence = Text()
    owner_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ProposalItemOut(Schema):
    id = fields.Integer()
    kind = Text()
    title = Text()
    description = Text(allow_none=True)
    price_cents = fields.Integer(allow_none=True)
    position = fields.Integer()


class ProposalInternal(Schema):
    pricing_assumptions = Text(allow_none=True)
    internal_notes = Text(allow_none=True)


class ProposalOut(Schema):
    id = fields.Integer()
    version = fields.Integer()
    lead_id = fields.Integer()
    client_id = fields.Integer(allow_none=True)
    number = fields.Integer()
    status = Text()
    service = Text()
    title = Text()
    summary = Text(allow_none=True)
    price_cents = fields.Integer(allow_none=True)
    currency = Text()
    timeline = Text(allow_none=True)
    expected_improvement = Text(allow_none=True)
    contract_language = Text(allow_none=True)
    sent_at = fields.DateTime(allow_none=True)
    viewed_at = fields.DateTime(allow_none=True)
    follow_up_date = fields.Date(allow_none=True)
    decision_deadline = fields.Date(allow_none=True)
    objection = Text(allow_none=True)
    probability = fields.Integer(allow_none=True)
    accepted_at = fields.DateTime(allow_none=True)
    declined_at = fields.DateTime(allow_none=True)
    decline_reason = Text(allow_none=True)
    items = fields.List(fields.Nested(ProposalItemOut))
    internal = fields.Nested(
        ProposalInternal,
        allow_none=True,
        metadata={"description": "Internal text: present for staff roles only"},
    )


class TaskOut(Schema):
    id = fields.Integer()
    version = fields.Integer()
    kind = Text()
    title = Text()
    notes = Text(allow_none=True)
    owner_id = fields.Integer()
    due = fields.Date()
    done_at = fields.DateTime(allow_none=True)
    done_by_id = fields.Integer(allow_none=True)
    lead_id = fields.Integer(allow_none=True)
    client_id = fields.Integer(allow_none=True)
    project_id = fields.Integer(allow_none=True)
    client_visible = fields.Boolean()


class EventOut(Schema):
    id = fields.Integer()
    lead_id = fields.Integer()
    kind = Text()
    actor_id = fields.Integer(allow_none=True)
    owner_id = fields.Integer(allow_none=True)
    stage = Text()
    next_action = Text(allow_none=True)
    next_action_due = fields.Date(allow_none=True)
    payload = fields.Dict()
    created_at = fields.DateTime()


def page_of(item_schema, name: str):
    return type(
        name,
        (Schema,),
        {
            "data": fields.List(fields.Nested(item_schema)),
            "next_after": fields.Integer(
                allow_none=True, metadata={"description": "Pass as `after` for the next page"}
            ),
            "next": fields.String(allow_none=True, metadata={"description": "URL of the next page"}),
        },
    )


LeadPage = page_of(LeadOut, "LeadPage")
ClientPage = page_of(ClientOut, "ClientPage")
ProposalPage = page_of(ProposalOut, "ProposalPage")
TaskPage = page_of(TaskOut, "TaskPage")
EventPage = page_of(EventOut, "EventPage")
