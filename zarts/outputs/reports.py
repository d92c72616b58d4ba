"""The weekly pipeline report (stored by the scheduler, previewed live) and proposal version diffs."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, render_template, request
from sqlalchemy.orm import joinedload, selectinload

from ..auth.access import staff_required
from ..domain.diff import FIELD_LABELS, diff_proposals
from ..domain.weekly import FIGURE_LABELS, week_start_of, weekly_figures
from ..extensions import db
from ..models import Proposal, Report, today
from . import bp

WEEKS_LISTED = 104


@bp.get("/weekly")
@staff_required
def weekly_list():
    reports = db.session.execute(
        sa.select(Report.id, Report.title, Report.period_start, Report.updated_at)
        .where(Report.kind == "pipeline_weekly")
        .order_by(Report.period_start.desc())
        .limit(WEEKS_LISTED)
    ).all()
    current = week_start_of(today())
    stored_current = any(r.period_start == current for r in reports)
    preview = weekly_figures(db.session, current)
    return render_template(
        "outputs/weekly_list.html",
        reports=reports,
        preview=preview,
        stored_current=stored_current,
        labels=FIGURE_LABELS,
    )


@bp.get("/weekly/<int:report_id>")
@staff_required
def weekly_report(report_id: int):
    report = db.session.get(Report, report_id)
    if report is None or report.kind != "pipeline_weekly":
        abort(404)
    figures = report.figures or {}
    return render_template("outputs/weekly.html", report=report, figures=figures, labels=FIGURE_LABELS)


def _proposal(proposal_id: int) -> Proposal | None:
    return db.session.execute(
        sa.select(Proposal)
        .options(selectinload(Proposal.items), joinedload(Proposal.lead))
        .where(Proposal.id == proposal_id)
    ).scalar_one_or_none()


@bp.get("/proposals/<int:proposal_id>/diff")
@staff_required
def proposal_diff(proposal_id: int):
    """What changed from the previous version (or from ?against=<id>, a version of the same lead)."""
    new = _proposal(proposal_id)
    if new is None:
        abort(404)
    notice = None
    old = None
    against = (request.args.get("against") or "").strip()
    if against:
        is_id = against.isascii() and against.isdigit() and len(against) <= 18
        old = _proposal(int(against)) if is_id else None
        if old is None or old.lead_id != new.lead_id or old.id == new.id:
            notice = "That version is not another version of this proposal: comparing with the previous one."
            old = None
    if old is None:
        old = db.session.execute(
            sa.select(Proposal)
            .options(selectinload(Proposal.items))
            .where(Proposal.lead_id == new.lead_id, Proposal.number < new.number)
            .order_by(Proposal.number.desc())
            .limit(1)
        ).scalar_one_or_none()
    versions = db.session.execute(
        sa.select(Proposal.id, Proposal.number, Proposal.status)
        .where(Proposal.lead_id == new.lead_id)
        .order_by(Proposal.number)
    ).all()
    diff = diff_proposals(old, new) if old is not None else None
    return render_template(
        "outputs/diff.html",
        new=new,
        old=old,
        diff=diff,
        notice=notice,
        versions=versions,
        field_labels=FIELD_LABELS,
    )
