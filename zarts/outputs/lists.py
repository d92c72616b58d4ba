"""The eight outputs: the index, a list across opportunities, one opportunity, and the exports."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import abort, render_template, request, url_for
from flask_login import current_user

from ..auth.access import staff_required
from ..domain.reads import outputs
from ..extensions import db
from ..models import User
from ..models.vocab import SERVICES, STAFF_ROLES, STAGES
from . import bp
from .export import download, envelope, to_csv, to_json
from .params import parse


def _output(slug: str) -> outputs.Output:
    output = outputs.OUTPUTS.get(slug)
    if output is None:
        abort(404)
    return output


def _staff() -> list[tuple[int, str]]:
    """(id, name) of staff users: the owner filter's choices (one statement)."""
    return [
        tuple(r)
        for r in db.session.execute(
            sa.select(User.id, User.name)
            .where(User.role.in_(STAFF_ROLES))
            .order_by(User.name, User.id)
            .limit(500)
        )
    ]


def _parsed(default_limit: int = outputs.PAGE_SIZE):
    staff = _staff()
    parsed = parse(
        request.args, me_id=current_user.id, staff_ids={i for i, _ in staff}, default_limit=default_limit
    )
    return parsed, staff


@bp.get("/")
@staff_required
def index():
    return render_template("outputs/index.html", outputs=list(outputs.OUTPUTS.values()))


@bp.get("/<slug>")
@staff_required
def output_list(slug: str):
    output = _output(slug)
    parsed, staff = _parsed()
    page = outputs.page(db.session, slug, parsed.filters, after=parsed.cursor, limit=parsed.limit)
    return render_template(
        "outputs/list.html",
        output=output,
        page=page,
        parsed=parsed,
        staff=staff,
        stages=STAGES,
        services=SERVICES,
        date_fields=outputs.DATE_FIELDS,
        sorts=tuple(outputs.SORTS),
        preserved=outputs.PRESERVED,
    )


@bp.get("/<slug>/<int:lead_id>")
@staff_required
def output_detail(slug: str, lead_id: int):
    _output(slug)
    found = outputs.detail(db.session, slug, lead_id)
    if found is None:
        abort(404)
    return render_template(
        "outputs/detail.html",
        d=found,
        output=found.output,
        preserved=outputs.PRESERVED,
        all_outputs=list(outputs.OUTPUTS.values()),
    )


@bp.get("/<slug>/export.<fmt>")
@staff_required
def output_export(slug: str, fmt: str):
    """The list's rows (same filters and cursor) as CSV or JSON; up to MAX_PAGE rows per file."""
    output = _output(slug)
    if fmt not in ("csv", "json"):
        abort(404)
    parsed, _ = _parsed(default_limit=outputs.MAX_PAGE)
    page = outputs.page(db.session, slug, parsed.filters, after=parsed.cursor, limit=parsed.limit)
    headers = {}
    next_url = None
    if page.next_cursor:
        next_url = url_for(
            "outputs.output_export",
            slug=slug,
            fmt=fmt,
            _external=False,
            **parsed.link_args(cursor=page.next_cursor),
        )
        headers["Link"] = f'<{next_url}>; rel="next"'
    stamp = date.today().strftime("%Y%m%d")
    if fmt == "csv":
        columns = [key for key, _ in output.all_columns]
        return download(to_csv(columns, page.rows), f"{slug}-{stamp}.csv", "text/csv", headers)
    data = envelope(
        slug, parsed.filters.as_dict(), page.rows, next_cursor=page.next_cursor, notices=parsed.notices
    )
    return download(to_json(data), f"{slug}-{stamp}.json", "application/json", headers)
