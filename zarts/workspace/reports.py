"""Client reports: the list (overdue first) and one report, where its owner writes the client summary and
notes, asks for approval of both with one button, sees each decision, and publishes once approved.

Every staff member may read; who may write is the domain's call (zarts.domain.publication), and a
refusal is shown on the page in its own words. Forms post plainly (redirect after success) or via
htmx (the report section is swapped in place).
"""

from __future__ import annotations

from flask import abort, flash, redirect, url_for

from ..auth.access import staff_required
from ..domain import Invalid, promises, publication
from ..extensions import db
from ..models.vocab import NOTE_VISIBILITY
from . import bp
from . import report_queries as queries
from .common import actor, attempt, choice, int_field, render, text, version, wants_fragment


@bp.route("/reports")
@staff_required
def reports():
    return render(
        "workspace/reports_list.html", "workspace/reports.html", rows=queries.report_list(db.session)
    )


@bp.route("/reports/<int:report_id>")
@staff_required
def report(report_id: int):
    return _page(report_id)


def _page(report_id: int, status: int = 200, **context):
    view = queries.report_view(db.session, report_id)
    if view is None:
        abort(404)
    context.setdefault("error", None)
    context.setdefault("done", None)
    ledger = []  # the project's promise ledger: promised vs baseline vs measured (issue 21)
    if view.report.project_id is not None and view.report.kind == "client_report":
        ledger = promises.ledger(db.session, [view.report.project_id]).get(view.report.project_id, [])
    return render(
        "workspace/reports_item_body.html",
        "workspace/reports_item.html",
        status,
        view=view,
        ledger=ledger,
        ledger_rows=[row.as_json() for row in ledger],
        **context,
    )


def _act(report_id: int, action, done: str):
    """Run `action(report)` as one transaction; then the page (or its section) with the outcome."""
    report = queries.report_row(db.session, report_id)
    if report is None:
        abort(404)
    error = attempt(lambda: action(report))
    if error is not None:
        return _page(report_id, error.status, error=error)
    if not wants_fragment():
        flash(done, "success")
        return redirect(url_for(".report", report_id=report_id), 303)
    return _page(report_id, done=done)


@bp.post("/reports/<int:report_id>/summary")
@staff_required
def save_report(report_id: int):
    """The client summary (what the client will read, once approved) and the internal body."""

    def act(report):
        publication.update_report(
            db.session,
            report,
            actor(),
            version(),
            via="workspace",
            client_summary=text("client_summary"),
            internal_body=text("internal_body"),
        )

    return _act(report_id, act, "Saved.")


@bp.post("/reports/<int:report_id>/notes")
@staff_required
def add_report_note(report_id: int):
    def act(report):
        visibility = choice("visibility", NOTE_VISIBILITY, "visibility") or "internal"
        publication.add_note(
            db.session,
            actor(),
            body=text("body") or "",
            visibility=visibility,
            report=report,
            via="workspace",
        )

    return _act(report_id, act, "Note added.")


@bp.post("/reports/<int:report_id>/notes/edit")
@staff_required
def edit_report_note(report_id: int):
    """A note's words or visibility (the note named in the form; a note of another report is refused)."""

    def act(report):
        note = queries.note_row(db.session, report.id, int_field("note_id", "The note"))
        if note is None:
            raise Invalid("This note is not on this report: reload the page.", "note_id")
        publication.edit_note(
            db.session,
            note,
            actor(),
            version(),
            body=text("body"),
            visibility=choice("visibility", NOTE_VISIBILITY, "visibility"),
            via="workspace",
        )

    return _act(report_id, act, "Note saved.")


@bp.post("/reports/<int:report_id>/request-approval")
@staff_required
def request_report_approval(report_id: int):
    """One button: the draft's client summary and every client-safe note not yet asked for. Pending
    requests are reused; a rejected note is asked for again only once its words changed."""
    asked = []

    def act(report):
        if report.status == "draft":
            asked.append(publication.request_report_approval(db.session, report, actor()))
        for note in report.notes:
            if note.visibility == "client_safe" and note.status == "none":
                asked.append(publication.request_note_approval(db.session, note, actor()))
        if not asked:
            raise Invalid(
                "Nothing here waits for approval: the summary is approved and every client-safe "
                "note is approved, pending or rejected (edit a rejected note to ask again)."
            )

    return _act(report_id, act, "Approval requested: an approver decides in the approvals queue.")


@bp.post("/reports/<int:report_id>/publish")
@staff_required
def publish_report(report_id: int):
    def act(report):
        publication.publish_report(db.session, report, actor(), version())

    return _act(report_id, act, "Published: the client can read it in the portal.")


@bp.post("/reports/<int:report_id>/measurements")
@staff_required
def record_measurement(report_id: int):
    """Delivery enters what a promised metric measured in a period (a promise of the report's project)."""

    def act(report):
        from ..models import Promise

        promise_id = int_field("promise_id", "The promised metric")
        promise = db.session.get(Promise, promise_id) if promise_id is not None else None
        if promise is None or promise.project_id != report.project_id:
            raise Invalid("Choose a promised metric of this report's project.", "promise_id")
        promises.record_measurement(
            db.session, promise, actor(), period=text("period") or "", value=text("value"), note=text("note")
        )

    return _act(report_id, act, "Measurement recorded.")
