"""The REST API's resources: leads, clients, proposals (read only), tasks and events.

Every write calls the same zarts.domain function as the screens, as the token's user, inside one
transaction (`unit`): gates, approvals, rights, change records and events are theirs. Lists page by
keyset (`?after=<id>&limit=`): each page is one indexed range read, at any depth.
"""

from __future__ import annotations

from urllib.parse import urlencode

import sqlalchemy as sa
from flask import current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE
from sqlalchemy.orm import selectinload

from ..domain import pipeline, unit
from ..domain.tasks import set_task_done
from ..extensions import db
from ..models import Client, Event, Lead, Proposal, Task
from . import schemas as s
from .problems import problem

bp = Blueprint("api", __name__, url_prefix="/api/v1", description="ZartsAlgo Sales Ops REST API")

MAX_LIMIT = 500


class ApiProblem(Exception):
    def __init__(self, response):
        super().__init__(response.get_json().get("detail"))
        self.response = response


def _missing(what: str):
    return ApiProblem(problem(404, "Not found", f"There is no {what} with this id."))


def _get(model, row_id: int, what: str):
    row = db.session.get(model, row_id)
    if row is None:
        raise _missing(what)
    return row


def expected_version(row) -> int:
    """The version the client saw, from If-Match (428 without it; 412 when the row changed since)."""
    raw = request.headers.get("If-Match")
    if raw is None or not raw.strip():
        raise ApiProblem(
            problem(
                428,
                "If-Match required",
                "Send If-Match with the version you last read "
                "(the `version` field or the ETag) so a change made since is not overwritten.",
            )
        )
    text = raw.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 12:
        raise ApiProblem(problem(400, "Bad If-Match", "If-Match must be the row's version, a whole number."))
    if int(text) != row.version:
        raise ApiProblem(
            problem(
                412,
                "Changed since you read it",
                "The row was changed since that version: read it again and retry.",
                current_version=row.version,
            )
        )
    return int(text)


def _etag(row) -> dict:
    return {"ETag": f'"{row.version}"'}


def keyset(query, model, args) -> dict:
    """One page of `query` in id order after `after`, with the link to the next one."""
    limit = min(args.get("limit") or current_app.config.get("API_PAGE_LIMIT", 100), MAX_LIMIT)
    if args.get("after"):
        query = query.where(model.id > args["after"])
    rows = list(db.session.scalars(query.order_by(model.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_after = rows[-1].id if more else None
    link = None
    if next_after is not None:
        params = {k: v for k, v in request.args.items() if k != "after"}
        params["after"] = next_after
        link = f"{request.path}?{urlencode(params)}"
    return {"data": rows, "next_after": next_after, "next": link}


def _paged(result):
    headers = {"Link": f'<{result["next"]}>; rel="next"'} if result["next"] else {}
    return result, 200, headers


def actor():
    return g.api_user


# -- leads -----------------------------------------------------------------------------------------


@bp.route("/leads")
class Leads(MethodView):
    @bp.doc(tags=["leads"])
    @bp.arguments(s.LeadQuery, location="query", unknown=RAISE)
    @bp.response(200, s.LeadPage)
    def get(self, args):
        """List leads (keyset pages), filtered by stage, owner, source, service, updated_since."""
        query = sa.select(Lead)
        if args.get("stage"):
            query = query.where(Lead.stage == args["stage"])
        if args.get("source"):
            query = query.where(Lead.source == args["source"])
        if args.get("service"):
            query = query.where(Lead.service == args["service"])
        if args.get("updated_since"):
            query = query.where(Lead.updated_at >= args["updated_since"].replace(tzinfo=None))
        owner = args.get("owner")
        if owner:
            if owner == "me":
                query = query.where(Lead.owner_id == actor().id)
            elif owner.isdigit() and len(owner) < 12:
                query = query.where(Lead.owner_id == int(owner))
            else:
                raise ApiProblem(
                    problem(
                        400,
                        "Invalid input",
                        "owner must be a user id or `me`.",
                        slug="invalid",
                        errors={"owner": ["A user id or `me`."]},
                    )
                )
        return _paged(keyset(query, Lead, args))

    @bp.doc(tags=["leads"])
    @bp.arguments(s.LeadCreate)
    @bp.response(201, s.LeadOut)
    def post(self, data):
        """Create a lead (pipeline.create_lead: growth ops create leads they own)."""
        with unit(db.session):
            lead = pipeline.create_lead(db.session, actor(), **data)
        return lead, 201, {"Location": f"/api/v1/leads/{lead.id}", **_etag(lead)}


@bp.route("/leads/<int:lead_id>")
class LeadItem(MethodView):
    @bp.doc(tags=["leads"])
    @bp.response(200, s.LeadOut)
    def get(self, lead_id):
        """One lead; its ETag is its version (send it back as If-Match)."""
        lead = _get(Lead, lead_id, "lead")
        return lead, 200, _etag(lead)

    @bp.doc(
        tags=["leads"],
        parameters=[{"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"}}],
    )
    @bp.arguments(s.LeadEdit)
    @bp.response(200, s.LeadOut)
    def patch(self, data, lead_id):
        """Edit descriptive fields (pipeline.update_lead, with a change record on the timeline)."""
        lead = _get(Lead, lead_id, "lead")
        version = expected_version(lead)
        with unit(db.session):
            pipeline.update_lead(db.session, lead, actor(), version, via="api", **data)
        return lead, 200, _etag(lead)


@bp.route("/leads/<int:lead_id>/move", methods=["POST"])
@bp.doc(tags=["leads"])
@bp.arguments(s.MoveIn)
@bp.response(200, s.LeadOut)
def move_lead(data, lead_id):
    """Move to a stage through its gate (422 with `missing` when refused); If-Match required."""
    lead = _get(Lead, lead_id, "lead")
    version = expected_version(lead)
    stage = data.pop("stage")
    data = {k: v for k, v in data.items() if v is not None}
    with unit(db.session):
        pipeline.move(db.session, lead, stage, actor(), version, **data)
    return lead, 200, _etag(lead)


@bp.route("/leads/<int:lead_id>/lost", methods=["POST"])
@bp.doc(tags=["leads"])
@bp.arguments(s.LostIn)
@bp.response(200, s.LeadOut)
def mark_lead_lost(data, lead_id):
    """Mark lost: a reason and a reactivation date (or `reactivation_never`); If-Match required."""
    lead = _get(Lead, lead_id, "lead")
    version = expected_version(lead)
    with unit(db.session):
        pipeline.mark_lost(db.session, lead, actor(), version, **data)
    return lead, 200, _etag(lead)


@bp.route("/leads/<int:lead_id>/won", methods=["POST"])
@bp.doc(tags=["leads"])
@bp.response(200, s.LeadOut)
def mark_lead_won(lead_id):
    """Mark won through the won gate (queues the handoff); If-Match required."""
    lead = _get(Lead, lead_id, "lead")
    version = expected_version(lead)
    with unit(db.session):
        pipeline.mark_won(db.session, lead, actor(), version)
    return lead, 200, _etag(lead)


@bp.route("/leads/<int:lead_id>/events")
@bp.doc(tags=["events"])
@bp.arguments(s.PageQuery, location="query", unknown=RAISE)
@bp.response(200, s.EventPage)
def lead_events(args, lead_id):
    """A lead's events, oldest first (keyset pages)."""
    _get(Lead, lead_id, "lead")
    return _paged(keyset(sa.select(Event).where(Event.lead_id == lead_id), Event, args))


# -- clients ---------------------------------------------------------------------------------------


@bp.route("/clients")
@bp.doc(tags=["clients"])
@bp.arguments(s.PageQuery, location="query", unknown=RAISE)
@bp.response(200, s.ClientPage)
def clients(args):
    """List clients (keyset pages)."""
    return _paged(keyset(sa.select(Client), Client, args))


@bp.route("/clients/<int:client_id>")
@bp.doc(tags=["clients"])
@bp.response(200, s.ClientOut)
def client(client_id):
    row = _get(Client, client_id, "client")
    return row, 200, _etag(row)


# -- proposals (read only) -------------------------------------------------------------------------


def _proposal(p: Proposal) -> dict:
    out = {
        name: getattr(p, name) for name in s.ProposalOut._declared_fields if name not in ("items", "internal")
    }
    out["items"] = sorted(p.items, key=lambda i: (i.position, i.id)) if hasattr(p, "items") else []
    # Internal text is for staff (every role that can hold a token); no other reader gets the key.
    out["internal"] = (
        {"pricing_assumptions": p.pricing_assumptions, "internal_notes": p.internal_notes}
        if actor().is_staff
        else None
    )
    return out


@bp.route("/proposals")
@bp.doc(tags=["proposals"])
@bp.arguments(s.ProposalQuery, location="query", unknown=RAISE)
@bp.response(200, s.ProposalPage)
def proposals(args):
    """List proposals (keyset pages), optionally of one lead."""
    query = sa.select(Proposal).options(selectinload(Proposal.items))
    if args.get("lead_id"):
        query = query.where(Proposal.lead_id == args["lead_id"])
    result = keyset(query, Proposal, args)
    result["data"] = [_proposal(p) for p in result["data"]]
    return _paged(result)


@bp.route("/proposals/<int:proposal_id>")
@bp.doc(tags=["proposals"])
@bp.response(200, s.ProposalOut)
def proposal(proposal_id):
    row = _get(Proposal, proposal_id, "proposal")
    return _proposal(row), 200, _etag(row)


# -- tasks -----------------------------------------------------------------------------------------


@bp.route("/tasks")
@bp.doc(tags=["tasks"])
@bp.arguments(s.TaskQuery, location="query", unknown=RAISE)
@bp.response(200, s.TaskPage)
def tasks(args):
    """Your tasks (default), or a lead's with `lead_id`; open ones only unless `open=false`."""
    query = sa.select(Task)
    if args.get("lead_id"):
        query = query.where(Task.lead_id == args["lead_id"])
    else:
        query = query.where(Task.owner_id == actor().id)
    if args.get("open", True):
        query = query.where(Task.done_at.is_(None))
    return _paged(keyset(query, Task, args))


def _task_done(task_id: int, done: bool):
    task = _get(Task, task_id, "task")
    version = expected_version(task)
    with unit(db.session):
        set_task_done(db.session, task, actor(), version, done)
    return task, 200, _etag(task)


@bp.route("/tasks/<int:task_id>/complete", methods=["POST"])
@bp.doc(tags=["tasks"])
@bp.response(200, s.TaskOut)
def complete_task(task_id):
    """Mark a task done (its assignee, its lead's owner or an admin); If-Match required."""
    return _task_done(task_id, True)


@bp.route("/tasks/<int:task_id>/reopen", methods=["POST"])
@bp.doc(tags=["tasks"])
@bp.response(200, s.TaskOut)
def reopen_task(task_id):
    """Mark a done task not done again; If-Match required."""
    return _task_done(task_id, False)


# -- events ----------------------------------------------------------------------------------------


@bp.route("/events")
@bp.doc(tags=["events"])
@bp.arguments(s.EventQuery, location="query", unknown=RAISE)
@bp.response(200, s.EventPage)
def events(args):
    """Every event, oldest first (keyset pages: poll with `after` = the last id you saw)."""
    query = sa.select(Event)
    if args.get("lead_id"):
        query = query.where(Event.lead_id == args["lead_id"])
    if args.get("kind"):
        query = query.where(Event.kind == args["kind"])
    return _paged(keyset(query, Event, args))
