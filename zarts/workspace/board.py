"""The pipeline board: a column per stage, a card per opportunity, moves through the domain's gates.

A card moves by drag and drop (static/board.js submits the card's own Move form) or with that form
from the keyboard; both are the one POST below. Lost and won ask on the card for what they need.
"""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for

from ..auth.access import roles_required, staff_required
from ..domain import Invalid, duplicates, pipeline
from ..extensions import db
from ..models import Lead
from ..models.vocab import LOST_REASON_LABELS, LOST_REASONS, SERVICES, SOURCES, STAGES
from . import bp, queries
from .common import (
    actor,
    attempt,
    choice,
    date_field,
    flag,
    money_field,
    render,
    text,
    version,
    wants_fragment,
)

# A loss chosen on the board; "duplicate" is what a merge records, not a reason given by hand.
BOARD_LOST_REASONS = tuple((key, LOST_REASON_LABELS[key]) for key in LOST_REASONS if key != "duplicate")
OUTCOMES = ("lost", "won")


def may_move(user, owner_id: int | None) -> bool:
    """trail.require_lead_actor's rule, read without a query per card: admins move every lead, growth
    ops their own and unowned ones; approvers and delivery none. The domain still checks each move."""
    if not (user.is_staff and user.is_active):
        return False
    return user.role == "admin" or (user.role == "growth_ops" and owner_id in (None, user.id))


def allow_moves(cards, user) -> None:
    for card in cards:
        card.can_move = may_move(user, card.lead.owner_id)


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
    me = actor()
    data = queries.board(db.session, filters, me.id, _limit())
    for column in data["columns"]:
        allow_moves(column.cards, me)
    return render(
        "workspace/partials/board.html",
        "workspace/board.html",
        filters=filters,
        may_create=me.role in pipeline.OWNER_ROLES,
        accepts_value=accepts_value(),
        base_currency=current_app.config.get("BASE_CURRENCY", "EUR"),
        **data,
    )


@bp.route("/board/<stage>")
@staff_required
def board_column(stage: str):
    """The next cards of one column ("more"); reloaded on its own it is a page of that column."""
    if stage not in STAGES:
        abort(404)
    filters = _filters(request.args)
    column = queries.board_column(db.session, stage, filters, actor().id, request.args.get("after"), _limit())
    allow_moves(column.cards, actor())
    return render(
        "workspace/partials/column_cards.html", "workspace/column.html", column=column, filters=filters
    )


@bp.route("/leads/<int:lead_id>/card")
@staff_required
def card(lead_id: int):
    card = queries.card(db.session, lead_id)
    if card is None:
        abort(404)
    allow_moves([card], actor())
    return render(
        "workspace/partials/card.html",
        "workspace/card.html",
        card=card,
        filters=_filters(request.args),
        board_lost_reasons=BOARD_LOST_REASONS,
    )


@bp.post("/leads/<int:lead_id>/move")
@staff_required
def move_card(lead_id: int):
    """One HTMX POST carrying the card's version: the card moves, or shows the gate's gaps or a conflict.

    Lost or won chosen without the `outcome` marker first asks on the card (nothing moves): the
    loss's reason, note and reactivation date or "never", or the win's confirmation."""
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        abort(404)
    filters = _filters(request.form)
    stage = request.form.get("stage", "")
    from_stage = lead.stage
    me = actor()
    me_id, allowed = me.id, may_move(me, lead.owner_id)  # read before the commit expires the user

    if stage in OUTCOMES and not flag("outcome") and allowed and lead.is_open and _seen(lead):
        return _card(lead_id, allowed, filters, ask=stage)

    def move():
        if stage not in STAGES:
            raise Invalid("Choose the stage to move to.", "stage")
        pipeline.move(db.session, lead, stage, actor(), version(), **(_loss() if stage == "lost" else {}))

    error = attempt(move)
    if error is None and not wants_fragment():
        return redirect(url_for(".board", **filters.as_args()), 303)
    if error is None:
        card = queries.card(db.session, lead_id)
        card.can_move = allowed
        changed = tuple(s for s in STAGES if s in (from_stage, card.lead.stage))  # the two columns it changed
        return render_template(
            "workspace/partials/card_moved.html",
            card=card,
            filters=filters,
            totals=queries.column_totals(db.session, filters, me_id, changed),
        )
    ask = "lost" if stage == "lost" and error.status in (400, 422) else None  # fix it where it was asked
    return _card(lead_id, allowed, filters, error.status, error=error, ask=ask)


def _seen(lead: Lead) -> bool:
    """The form carried the lead's current version (or none): else the move reports the conflict."""
    try:
        seen = version()
    except Invalid:
        return False
    return seen is None or seen == lead.version


def _loss() -> dict:
    return {
        "lost_reason": choice("lost_reason", [key for key, _ in BOARD_LOST_REASONS], "lost reason"),
        "lost_note": text("lost_note"),
        "reactivation_date": date_field("reactivation_date", "Reactivation date"),
        "reactivation_never": flag("reactivation_never"),
    }


def _card(lead_id: int, allowed: bool, filters, status: int = 200, **context):
    card = queries.card(db.session, lead_id)
    card.can_move = allowed
    return render(
        "workspace/partials/card.html",
        "workspace/card.html",
        status,
        card=card,
        filters=filters,
        board_lost_reasons=BOARD_LOST_REASONS,
        **context,
    )


# ---------------------------------------------------------------- a new lead from the board

NEW_LEAD_TEXT = ("title", "company", "contact_name", "contact_email", "next_action")


def accepts_value() -> bool:
    """The lead's value is a field create_lead takes (else the quick form leaves it out)."""
    return {"value_cents", "currency"} <= pipeline.NEW_LEAD_FIELDS


def _new_lead_fields() -> dict:
    fields = {name: text(name) or None for name in NEW_LEAD_TEXT}
    fields["source"] = choice("source", SOURCES, "source")
    fields["service"] = choice("service", SERVICES, "service")
    fields["next_action_due"] = date_field("next_action_due", "Next action due")
    if accepts_value():
        cents = money_field(request.form.get("value"), "Value", "value")
        currency = (request.form.get("currency") or "").strip().upper()
        if cents is not None and not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
            raise Invalid("Give the value's currency as three letters, such as EUR.", "currency")
        fields["value_cents"], fields["currency"] = cents, currency if cents is not None else None
    return fields


def _new_lead_form(status: int = 200, **context):
    return render(
        "workspace/partials/new_lead.html",
        "workspace/new_lead.html",
        status,
        accepts_value=accepts_value(),
        base_currency=current_app.config.get("BASE_CURRENCY", "EUR"),
        **{"error": None, "matches": (), "created": None, "values": request.form, **context},
    )


@bp.route("/leads/new", methods=["GET", "POST"])
@roles_required("growth_ops", "admin")
def new_lead():
    """The board's quick "New lead": likely duplicates are shown first (with links) and a second
    submit with `confirm` creates it anyway; the card then appears at the top of New."""
    if request.method == "GET":
        return _new_lead_form(values={})
    try:
        fields = _new_lead_fields()
    except Invalid as exc:
        return _new_lead_form(exc.status, error=exc)
    if not flag("confirm") and (fields.get("company") or fields.get("contact_email")):
        matches = duplicates.lead_duplicates(
            db.session, company=fields.get("company"), contact_email=fields.get("contact_email")
        )
        if matches:
            return _new_lead_form(matches=matches)
    made = {}

    def create():
        made["lead"] = pipeline.create_lead(db.session, actor(), **fields)

    me = actor()
    me_id, role = me.id, me.role
    error = attempt(create)
    if error is not None:
        return _new_lead_form(error.status, error=error)
    lead_id = made["lead"].id
    if not wants_fragment():
        return redirect(url_for(".board") + f"#card-{lead_id}", 303)
    card = queries.card(db.session, lead_id)
    card.can_move = role in pipeline.OWNER_ROLES
    filters = queries.BoardFilters()
    return render_template(
        "workspace/partials/lead_created.html",
        card=card,
        filters=filters,
        totals=queries.column_totals(db.session, filters, me_id, ("new",)),
        accepts_value=accepts_value(),
        values={},
        matches=(),
        error=None,
        base_currency=current_app.config.get("BASE_CURRENCY", "EUR"),
    )
