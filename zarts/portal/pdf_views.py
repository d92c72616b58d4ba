"""A proposal's PDF and a proposal's approved files, for the client; the same PDF for staff and email.

The PDF is printed from the portal's own view model of the version (`queries.proposal_page`, the
frozen snapshot through its allow-list) and the approved audit summary: what the client reads on the
proposal page, nothing else. Drafts have no PDF.
"""

from __future__ import annotations

from flask import abort

from ..auth.access import client_required
from ..extensions import db
from ..domain.attachments import served_type
from ..models import Message, Proposal
from ..models.vocab import PROPOSAL_STATUS_LABELS
from ..pdf import download_response, pdf_response, render_pdf, safe_filename
from ..storage import UNAVAILABLE, StorageError, chunks, storage
from . import bp, queries
from .common import client_id, found

PRINTABLE = ("sent", "accepted", "declined")


def proposal_pdf(session, proposal: Proposal) -> bytes:
    """The client's copy of a sent version as a PDF (never a draft's: it has no snapshot)."""
    if proposal.status not in PRINTABLE + ("superseded",) or not proposal.snapshot:
        raise ValueError("only a sent version has a PDF")
    page = queries.proposal_page(proposal, queries.lead_stage(session, proposal))
    summary = (
        queries.audit_summary(session, proposal.client_id, proposal.lead_id) if proposal.client_id else None
    )
    return render_pdf(
        "pdf/proposal.html", p=page, audit_summary=summary, PROPOSAL_STATUS_LABELS=PROPOSAL_STATUS_LABELS
    )


def proposal_pdf_name(proposal: Proposal) -> str:
    title = str((proposal.snapshot or {}).get("title") or "proposal")
    return safe_filename(f"{title} v{proposal.number}")


def proposal_sent_attachments(session, message: Message) -> list[tuple[str, str, bytes]]:
    """The proposal-sent email carries the version's PDF, printed when it is delivered (from the stored
    snapshot, so a re-send carries the same document). Registered with the mail job (zarts.jobs.mail)."""
    proposal = session.query(Proposal).filter(Proposal.sent_message_id == message.id).one_or_none()
    if proposal is None or not proposal.snapshot:
        return []
    return [(proposal_pdf_name(proposal), "application/pdf", proposal_pdf(session, proposal))]


@bp.get("/proposals/<int:proposal_id>/pdf")
@client_required
def proposal_pdf_download(proposal_id: int):
    """Only a version the client received (sent, accepted or declined), of their own client."""
    proposal = found(queries.proposal_row(db.session, client_id(), proposal_id))
    if proposal.status not in PRINTABLE:
        abort(404)
    return pdf_response(proposal_pdf(db.session, proposal), proposal_pdf_name(proposal))


@bp.get("/files/<int:attachment_id>")
@client_required
def attachment_download(attachment_id: int):
    """An approved client-safe file of one of the client's own sent proposals or contracts; else 404."""
    row = found(queries.client_attachment_row(db.session, client_id(), attachment_id))
    try:
        stream = storage().open(row.storage_key)
    except FileNotFoundError:
        abort(404)
    except StorageError:
        abort(503, description=UNAVAILABLE)
    return download_response(chunks(stream), row.filename, served_type(row.content_type))
