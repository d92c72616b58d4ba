"""API tokens: a staff member creates personal tokens for scripts (shown once) and revokes them."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import flash, redirect, request, url_for

from ..auth.access import staff_required
from ..domain.api_tokens import create_token, revoke_token
from ..extensions import db
from ..models import ApiToken, utcnow
from . import bp
from .common import actor, attempt, render, text

EXPIRY_DAYS = (0, 30, 90, 365)  # 0: never


def _page(status: int = 200, **context):
    tokens = db.session.scalars(
        sa.select(ApiToken)
        .where(ApiToken.user_id == actor().id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
        .limit(100)
    ).all()
    return render(
        "workspace/partials/api_tokens_body.html",
        "workspace/api_tokens.html",
        status,
        tokens=tokens,
        expiry_days=EXPIRY_DAYS,
        now=utcnow(),
        **context,
    )


@bp.route("/tokens")
@staff_required
def api_tokens():
    return _page()


@bp.post("/tokens")
@staff_required
def create_api_token():
    made = {}
    raw_days = (request.form.get("expires_days") or "0").strip()
    days = int(raw_days) if raw_days.isdigit() and int(raw_days) in EXPIRY_DAYS else 0
    expires = utcnow() + timedelta(days=days) if days else None

    def create():
        made["row"], made["token"] = create_token(db.session, actor(), text("name") or "", expires)

    error = attempt(create)
    if error is not None:
        return _page(error.status, error=error.message, name=text("name"))
    # Shown in this answer only: not in a flash (the session cookie) and not in a URL.
    return _page(201, new_token=made["token"], new_name=made["row"].name)


@bp.post("/tokens/revoke")
@staff_required
def revoke_api_token():
    raw = (request.form.get("token_id") or "").strip()
    token_id = int(raw) if raw.isdigit() and len(raw) < 12 else None
    error = attempt(lambda: revoke_token(db.session, actor(), token_id))
    if error is not None:
        return _page(error.status, error=error.message)
    flash("Token revoked: scripts using it are refused from now on.", "success")
    return redirect(url_for("workspace.api_tokens"))
