"""The pipeline board: a column per stage, a card per opportunity, moves through the domain's gates."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for

from ..auth.access import staff_required
from ..domain import Invalid, pipeline
from ..extensions import db
from ..models import Lead
from ..models.vocab import SERVICES, SOURCES, STAGES
from . import bp, queries
from .common import actor, attempt, render, version, wants_fragment


def is_id(raw: str) -> bool:
    """ASCII digits that fit a database id ('²'.isdigit() is True, but int('²') fails)."""
    return raw.isascii() and raw.isdigit() and len(raw) <= 18


def _filters(values) -> queries.BoardFilters:
    owner = (values.get("owner") or "").strip()
    service = (values.get("service") or "").strip()
    source = (values.get("source") or "").strip()
    return queries.BoardFilters(
        owner=owner if owner in ("me", "none") or is_id(owner) else "",
        service=service if service in SERVICES else "",
        source=source if source in SOURCES else "",
    )


def _limit() -> int:
    return int(current_app.config.get("BOARD_COLUMN_LIMIT", 25))


@bp.route("/")
@staff_required
def board():
    filters = _filters(request.args)
    data = queries.board(db.session, filters, actor().id, _limit())
    return render("workspace/partials/board.html", "workspace/board.html", filters=filters, **data)


@bp.route("/board/<stage>")
@staff_required
def board_column(stage: str):
    """The next cards of one column ("more"); reloaded on its own it is a page of that column."""
    if stage not in STAGES:
        abort(404)
    filters = _filters(request.args)
    column = queries.board_column(db.session, stage, filters, actor().id, request.args.get("after"), _limit())
    return render("workspace/partials/column_cards.html", "workspace/column.html", column=column,
                  filters=filters)


@bp.route("/leads/<int:lead_id>/card")
@staff_required
def card(lead_id: int):
    card = queries.card(db.session, lead_id)
    if card is None:
        abort(404)
    return render("workspace/partials/card.html", "workspace/card.html", card=card,
                  filters=_filters(request.args))


@bp.post("/leads/<int:lead_id>/move")
@staff_required
def move_card(lead_id: int):
    """One HTMX POST carrying the card's version: the card moves, or shows the gate's gaps or a conflict."""
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        abort(404)
    filters = _filters(request.form)
    stage = request.form.get("stage", "")
    from_stage = lead.stage
    me = actor().id  # read before the commit expires the signed-in user (one statement less)

    def move():
        if stage not in STAGES:
            raise Invalid("Choose the stage to move to.", "stage")
        pipeline.move(db.session, lead, stage, actor(), version())

    error = attempt(move)
    card = queries.card(db.session, lead_id)
    if error is None and not wants_fragment():
        return redirect(url_for(".board", **filters.as_args()), 303)
    if error is None:
        changed = tuple(s for s in STAGES if s in (from_stage, card.lead.stage))  # the two columns it changed
        return render_template("workspace/partials/card_moved.html", card=card, filters=filters,
                               counts=queries.column_counts(db.session, filters, me, changed))
    return render("workspace/partials/card.html", "workspace/card.html", error.status, card=card,
                  error=error, filters=filters)
