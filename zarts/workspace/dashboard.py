"""The dashboard: pipeline, forecast, conversion, cycle time, wins and losses, and what waits — for a
period and an owner chosen in the URL (GET parameters, so a filtered view is a link to share), with
charts as server-rendered SVG."""

from __future__ import annotations

from flask import request, session
from flask_login import current_user

from ..auth.access import staff_required
from ..domain.money import amount_text, format_money, format_totals
from ..domain import promises
from ..extensions import db
from ..web import WROTE_AT
from ..models import today
from ..domain.reads import metrics
from . import bp
from .common import render

# Money in templates (every workspace page): `cents|amount(currency)` ("EUR 12,000", "USD 1,234.50"),
# `totals|amounts` (a dict currency -> cents), `cents|amount_input` (a form's value).
bp.add_app_template_filter(format_money, "amount")
bp.add_app_template_filter(format_totals, "amounts")
bp.add_app_template_filter(amount_text, "amount_input")  # cents as typed into a form: "1234.50"


@bp.route("/dashboard")
@staff_required
def dashboard():
    filters = metrics.Filters.parse(request.args, current_user.id)
    return render(
        "workspace/partials/dashboard.html",
        "workspace/dashboard.html",
        **metrics.dashboard(db.session, filters, fresh_after=session.get(WROTE_AT)),
        promise_tile=promises.quarter_tile(db.session, today()),
    )  # issue 21
