"""The dashboard: pipeline, forecast, wins and losses, conversion, and what waits — charts as server SVG."""

from __future__ import annotations

from ..auth.access import staff_required
from ..extensions import db
from . import bp, metrics
from .common import render


@bp.route("/dashboard")
@staff_required
def dashboard():
    return render("workspace/partials/dashboard.html", "workspace/dashboard.html", **metrics.dashboard(db.session))
