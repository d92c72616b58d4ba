"""The lead page's files: the Attachments box (the lead's, its audits', proposals' and contract's files),
upload, download, delete, ask for a client-safe copy; and a sent proposal's PDF for staff.

The box is its own fragment, loaded by the lead page after it renders (so the lead page's queries
stay what they were) and also a full page at the same URL. Every staff member reads a lead's files
(the workspace is staff-only); who may add or delete one is the domain's call (SECURITY.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from ..auth.access import staff_required
from ..domain import Invalid, attachments
from ..extensions import db
from ..models import Attachment, Audit, Contract, Lead, Proposal
from ..models.vocab import CLIENT_SAFE_STATUS_LABELS
from ..pdf import download_response, pdf_response
from ..portal.pdf_views import PRINTABLE, proposal_pdf, proposal_pdf_name
from ..storage import UNAVAILABLE, StorageError, chunks, storage
from . import bp
from .common import actor, attempt, render, wants_fragment

UPLOAD_SLACK = 1024 * 1024  # the form's other fields and the multipart framing around the file
UPLOAD_ENDPOINT = "workspace.upload_file"


class FileTooLarge(RequestEntityTooLarge):
    """An upload over ATTACHMENT_MAX_BYTES announced by its Content-Length: refused before it is read."""


@bp.url_value_preprocessor
def _upload_limit(endpoint, values):
    # Before CSRF reads the form: an attachment may be bigger than the app's MAX_CONTENT_LENGTH.
    if endpoint != UPLOAD_ENDPOINT or request.method != "POST":
        return
    limit = current_app.config["ATTACHMENT_MAX_BYTES"] + UPLOAD_SLACK
    if request.content_length is not None and request.content_length > limit:
        raise FileTooLarge()
    request.max_content_length = limit


@bp.errorhandler(FileTooLarge)
def _file_too_large(error):
    lead_id = (request.view_args or {}).get("lead_id")
    if lead_id is None:
        return error
    message = (
        f"The file is larger than {attachments.mb(current_app.config['ATTACHMENT_MAX_BYTES'])}, "
        "the most an attachment may be."
    )
    return _box(lead_id, error=Invalid(message, "file"), status=413)


# ---------------------------------------------------------------- reads


def _lead(lead_id: int) -> Lead:
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        abort(404)
    return lead


def _targets(lead: Lead) -> list[tuple[str, str]]:
    """Where a file can go: (value, label) for the lead, each audit, each proposal version, the contract."""
    out = [("lead", "The lead")]
    s = db.session
    for a in s.scalars(sa.select(Audit).where(Audit.lead_id == lead.id).order_by(Audit.id)):
        out.append((f"audit:{a.id}", f"Audit #{a.id} (evidence)"))
    for p in s.scalars(sa.select(Proposal).where(Proposal.lead_id == lead.id).order_by(Proposal.number)):
        out.append((f"proposal:{p.id}", f"Proposal v{p.number} ({p.status})"))
    contract = s.scalar(sa.select(Contract).where(Contract.lead_id == lead.id))
    if contract is not None:
        out.append((f"contract:{contract.id}", "Contract (signed copy)"))
    return out


def _files(lead: Lead) -> list[Attachment]:
    """The lead's files and those of its audits, proposals and contract, newest first (not deleted)."""
    audits = sa.select(Audit.id).where(Audit.lead_id == lead.id)
    proposals = sa.select(Proposal.id).where(Proposal.lead_id == lead.id)
    contracts = sa.select(Contract.id).where(Contract.lead_id == lead.id)
    return list(
        db.session.scalars(
            sa.select(Attachment)
            .where(
                Attachment.deleted_at.is_(None),
                sa.or_(
                    Attachment.lead_id == lead.id,
                    Attachment.audit_id.in_(audits),
                    Attachment.proposal_id.in_(proposals),
                    Attachment.contract_id.in_(contracts),
                ),
            )
            .order_by(Attachment.id.desc())
        )
    )


def _box(lead_id: int, *, error=None, done: str | None = None, status: int = 200, chosen: str | None = None):
    lead = _lead(lead_id)
    return render(
        "workspace/partials/attachments.html",
        "workspace/partials/attachments_page.html",
        status,
        lead=lead,
        files=_files(lead),
        targets=_targets(lead),
        chosen=chosen,
        error=error,
        done=done,
        max_bytes=attachments.mb(current_app.config["ATTACHMENT_MAX_BYTES"]),
        accepted=attachments.ACCEPTED,
        owner_labels=attachments.OWNER_LABELS,
        human_size=attachments.human_size,
        CLIENT_SAFE_STATUS_LABELS=CLIENT_SAFE_STATUS_LABELS,
    )


def _of_lead(lead: Lead, attachment_id: int) -> Attachment:
    row = db.session.get(Attachment, attachment_id)
    if (
        row is None
        or row.deleted_at is not None
        or attachments.lead_of(attachments.owner_of(db.session, row)).id != lead.id
    ):
        abort(404)
    return row


def _target(lead: Lead, raw: str | None):
    kind, _, raw_id = (raw or "lead").partition(":")
    if kind == "lead":
        return lead
    model = {"audit": Audit, "proposal": Proposal, "contract": Contract}.get(kind)
    row = db.session.get(model, int(raw_id)) if model is not None and raw_id.isdigit() else None
    if row is None or row.lead_id != lead.id:
        raise Invalid(
            "Choose where the file goes: this lead, its audit, a proposal or the contract.", "target"
        )
    return row


def _answer(lead_id: int, error, done: str, chosen: str | None = None):
    if error is None and not wants_fragment():
        flash(done, "success")
        return redirect(url_for(".lead_files", lead_id=lead_id), 303)
    return _box(
        lead_id,
        error=error,
        done=None if error else done,
        status=error.status if error else 200,
        chosen=chosen if error else None,
    )


@bp.get("/leads/<int:lead_id>/files")
@staff_required
def lead_files(lead_id: int):
    return _box(lead_id)


@bp.post("/leads/<int:lead_id>/files")
@staff_required
def upload_file(lead_id: int):
    lead = _lead(lead_id)
    upload = request.files.get("file")

    def add():
        if upload is None or not upload.filename:
            raise Invalid("Choose a file to attach.", "file")
        attachments.add_attachment(
            db.session,
            actor(),
            _target(lead, request.form.get("target")),
            filename=upload.filename,
            stream=upload.stream,
            max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"],
        )

    return _answer(lead_id, attempt(add), "File attached.", chosen=request.form.get("target"))


@bp.post("/leads/<int:lead_id>/files/<int:attachment_id>/delete")
@staff_required
def delete_file(lead_id: int, attachment_id: int):
    row = _of_lead(_lead(lead_id), attachment_id)
    return _answer(
        lead_id, attempt(lambda: attachments.delete_attachment(db.session, row, actor())), "File deleted."
    )


@bp.post("/leads/<int:lead_id>/files/<int:attachment_id>/client-copy")
@staff_required
def request_file_approval(lead_id: int, attachment_id: int):
    row = _of_lead(_lead(lead_id), attachment_id)
    return _answer(
        lead_id,
        attempt(lambda: attachments.request_client_copy(db.session, row, actor())),
        "Sent for approval: the client sees the file once an approver approves it.",
    )


@bp.get("/leads/<int:lead_id>/files/<int:attachment_id>")
@staff_required
def download_file(lead_id: int, attachment_id: int):
    row = _of_lead(_lead(lead_id), attachment_id)
    return serve(row)


def serve(row: Attachment):
    """The stored bytes, streamed through the app, as a download; a file missing from storage answers
    404, a storage that does not answer 503 (with a message)."""
    try:
        stream = storage().open(row.storage_key)
    except FileNotFoundError:
        abort(404)
    except StorageError:
        abort(503, description=UNAVAILABLE)
    return download_response(chunks(stream), row.filename, attachments.served_type(row.content_type))


@bp.get("/leads/<int:lead_id>/proposals/<int:proposal_id>.pdf")
@staff_required
def proposal_pdf_file(lead_id: int, proposal_id: int):
    """The client's copy of a sent version, as the client downloads it (drafts have none: 404)."""
    proposal = db.session.get(Proposal, proposal_id)
    if (
        proposal is None
        or proposal.lead_id != lead_id
        or proposal.status not in PRINTABLE + ("superseded",)
        or not proposal.snapshot
    ):
        abort(404)
    return pdf_response(proposal_pdf(db.session, proposal), proposal_pdf_name(proposal))
