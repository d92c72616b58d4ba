"""Import: leads or clients from a CSV or XLSX file (zarts.domain.imports does the work).

Upload → the mapping page (columns guessed from the header, options for every row, a preview of
the first rows with their errors and duplicates) → "Start import" queues the job → the progress bar
polls until the counts are final, with the error report to download.

Growth ops and admins only. An import is its uploader's: another user gets a 404 for it (as if it
did not exist), its error report included.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import abort, current_app, redirect, request, send_file, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from ..auth.access import roles_required
from ..domain import DomainError, imports as domain
from ..domain.import_files import mb
from ..domain.import_rows import FIELDS
from ..extensions import db
from ..models import ImportJob, User
from ..models.vocab import CONSENT, DUPLICATE_ACTIONS, SERVICE_LABELS, SERVICES, SOURCES
from . import bp
from .common import actor, attempt, render, text, wants_fragment

LIST_LIMIT = 30
UPLOAD_SLACK = 1024 * 1024  # the form's other fields and the multipart framing around the file
importers = roles_required("growth_ops")


class UploadTooLarge(RequestEntityTooLarge):
    """An upload over IMPORT_MAX_BYTES, refused before it is read: answered on the import page."""


@bp.url_value_preprocessor
def _upload_limit(endpoint, values):
    # Runs before every before_request hook, and so before CSRF and the NUL check read the form:
    # the import's upload may be bigger than the app's MAX_CONTENT_LENGTH (forms of text only).
    if endpoint != "workspace.import_upload" or request.method != "POST":
        return
    limit = current_app.config["IMPORT_MAX_BYTES"] + UPLOAD_SLACK
    if request.content_length is not None and request.content_length > limit:
        raise UploadTooLarge()
    request.max_content_length = limit


@bp.errorhandler(UploadTooLarge)
def _upload_too_large(error):
    message = (
        f"The file is larger than {mb(current_app.config['IMPORT_MAX_BYTES'])}, the most an import "
        "takes. Split it into smaller files."
    )
    return _list_page(message, 413)


# ---------------------------------------------------------------- reads


def _visible(me):
    query = sa.select(ImportJob).order_by(ImportJob.id.desc()).limit(LIST_LIMIT)
    return query if me.role == "admin" else query.where(ImportJob.owner_id == me.id)


def _own(import_id: int) -> ImportJob:
    """The import, if the signed-in user may see it (its uploader, or an admin); else 404."""
    job = db.session.get(ImportJob, import_id)
    if job is None or not domain.may_see(actor(), job):
        abort(404)
    return job


def _owners():
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.role.in_(("growth_ops", "admin")), User.active.is_(True))
            .order_by(User.name)
        )
    )


def _folder() -> str:
    return current_app.config["IMPORT_FOLDER"]


def _list_page(error: str | None = None, status: int = 200):
    me = actor()
    items = list(db.session.scalars(_visible(me)))
    return render(
        "workspace/partials/imports_body.html",
        "workspace/imports.html",
        status,
        items=items,
        error=error,
        max_bytes=mb(current_app.config["IMPORT_MAX_BYTES"]),
        max_rows=current_app.config["IMPORT_MAX_ROWS"],
    )


def _item(job: ImportJob, error: DomainError | None = None, status: int = 200):
    """The import's page (or its body, for htmx): mapping and preview before it runs, then progress."""
    context = {
        "job": job,
        "error": error,
        "fields": FIELDS[job.kind],
        "SOURCES": SOURCES,
        "SERVICES": SERVICES,
        "SERVICE_LABELS": SERVICE_LABELS,
        "CONSENT": CONSENT,
        "DUPLICATE_ACTIONS": DUPLICATE_ACTIONS,
    }
    if job.status == "uploaded":
        try:
            context["rows"] = domain.preview(db.session, job, _folder())
        except DomainError as exc:  # the kept file went missing or unreadable: say so, never a 500
            context["rows"], context["error"] = [], error or exc
        context["missing"] = domain.missing_choices(job)
        context["columns"] = [
            (job.headers.index(h), name) for h, name in job.mapping.items() if h in job.headers
        ]
        context["earlier"] = domain.earlier_imports_of_same_file(db.session, job)
        context["owners"] = _owners() if actor().role == "admin" else []
    context["has_report"] = os.path.exists(domain.error_report_path(job, _folder())) and job.error_count > 0
    return render("workspace/partials/import_body.html", "workspace/imports_item.html", status, **context)


# ---------------------------------------------------------------- views


@bp.route("/imports")
@importers
def imports():
    return _list_page()


@bp.post("/imports")
@importers
def import_upload():
    """Keep the uploaded file and go to its mapping page; a refused file stays on this page, saying why."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _list_page("Choose a CSV or XLSX file to upload.", 400)
    created = {}

    def action():
        job = domain.start_import(
            db.session,
            actor(),
            kind=request.form.get("kind") or "leads",
            filename=upload.filename,
            stream=upload.stream,
            folder=_folder(),
            max_bytes=current_app.config["IMPORT_MAX_BYTES"],
            max_rows=current_app.config["IMPORT_MAX_ROWS"],
        )
        created["job"], created["path"] = job, os.path.join(_folder(), job.stored_name)

    try:
        error = attempt(action)
    except BaseException:
        _forget_file(created)
        raise
    if error is not None:  # e.g. refused at commit, after the file was kept: keep no file without an import
        _forget_file(created)
        return _list_page(error.message, error.status if error.status != 400 else 422)
    return redirect(url_for(".import_page", import_id=created["job"].id), 303)


def _forget_file(created: dict) -> None:
    path = created.get("path")
    if path and os.path.exists(path):
        os.remove(path)


@bp.route("/imports/<int:import_id>")
@importers
def import_page(import_id: int):
    return _item(_own(import_id))


@bp.post("/imports/<int:import_id>/mapping")
@importers
def import_mapping(import_id: int):
    """Save the mapping and options; the page (or its body) shows the preview with them."""
    job = _own(import_id)
    mapping = {header: request.form.get(f"map-{index}", "") for index, header in enumerate(job.headers)}
    options = {
        name: text(name)
        for name in ("source", "service", "consent", "source_context", "owner_id", "duplicate_action")
    }
    error = attempt(
        lambda: domain.set_mapping(
            db.session, job, actor(), request.form.get("version"), mapping=mapping, options=options
        )
    )
    if error is not None:
        db.session.refresh(job)
    return _item(job, error, error.status if error is not None else 200)


@bp.post("/imports/<int:import_id>/confirm")
@importers
def import_confirm(import_id: int):
    """Start the import (the job runs now without Redis, on a worker with it); then its progress."""
    job = _own(import_id)
    decisions = {
        key.removeprefix("row-"): value
        for key, value in request.form.items()
        if key.startswith("row-") and value
    }
    error = attempt(
        lambda: domain.confirm_import(db.session, job, actor(), request.form.get("version"), decisions)
    )
    db.session.refresh(job)
    if error is not None:
        return _item(job, error, error.status)
    if not wants_fragment():
        return redirect(url_for(".import_page", import_id=job.id), 303)
    return _item(job)


@bp.route("/imports/<int:import_id>/progress")
@importers
def import_progress(import_id: int):
    """The progress bar (polled while the import runs); as a page, the import's page."""
    return _item(_own(import_id))


@bp.route("/imports/<int:import_id>/errors.csv")
@importers
def import_errors(import_id: int):
    """The rows that were not imported and why (cells neutralised against spreadsheet formulas)."""
    job = _own(import_id)
    path = domain.error_report_path(job, _folder())
    if not os.path.exists(path):
        abort(404)
    return send_file(
        path, mimetype="text/csv", as_attachment=True, download_name=f"import-{job.id}-errors.csv", max_age=0
    )
