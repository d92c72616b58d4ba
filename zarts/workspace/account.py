"""Settings of one's own account: the time zone the admin and the workspace show times in."""

from __future__ import annotations

from flask import flash, redirect, url_for

from ..auth.access import staff_required
from ..domain.account import default_zone_name, local_time, set_time_zone, zone_names
from ..extensions import db
from ..models import utcnow
from . import bp
from .common import actor, attempt, render, text


def _page(status: int = 200, **context):
    me = actor()
    chosen = context.pop("chosen", me.time_zone or "")
    return render(
        "workspace/partials/settings_body.html",
        "workspace/settings.html",
        status,
        zones=sorted(zone_names()),
        chosen=chosen,
        default_zone=default_zone_name(),
        now=local_time(utcnow(), me),
        **context,
    )


@bp.route("/settings")
@staff_required
def settings():
    return _page()


@bp.post("/settings")
@staff_required
def save_settings():
    chosen = text("time_zone") or ""
    me = actor()  # always the signed-in user: nobody changes another's settings here
    error = attempt(lambda: set_time_zone(db.session, me, me, chosen))
    if error is not None:
        return _page(error.status, error=error.message, chosen=chosen)
    flash(f"Times are now shown in {me.time_zone or default_zone_name() + ' (the default)'}.", "success")
    return redirect(url_for("workspace.settings"))
