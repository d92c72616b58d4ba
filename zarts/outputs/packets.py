"""The handoff packet: a printable page and downloads, in a staff copy and a client copy.

The client copy is rendered from `packet(..., copy="client")`, a view model holding client-safe
fields only; the same templates render both copies, and internal sections exist only in the staff
model, so they cannot appear in the client copy.
"""

from __future__ import annotations

from flask import abort, make_response, render_template, request

from ..auth.access import staff_required
from ..domain.diff import FIELD_LABELS
from ..domain.reads.outputs import COPIES, packet
from ..extensions import db
from ..models import Report, utcnow
from ..pdf import pdf_response, render_pdf
from . import bp
from .export import download, to_json

FORMATS = {"json": "application/json", "txt": "text/plain", "html": "text/html", "pdf": "application/pdf"}


def _copy() -> str:
    """The copy asked for. An unknown one is refused: guessing "staff" could print internal caveats
    for someone who meant the client's copy."""
    copy = request.args.get("copy", "staff")
    if copy not in COPIES:
        abort(
            make_response(
                render_template(
                    "error.html",
                    code=400,
                    title="Which copy?",
                    message="A packet copy is either staff or client (?copy=client).",
                ),
                400,
            )
        )
    return copy


def _packet(lead_id: int, copy: str) -> dict:
    data = packet(db.session, lead_id, copy)
    if data is None:
        abort(404)
    return data


@bp.get("/packet/<int:lead_id>")
@staff_required
def packet_page(lead_id: int):
    copy = _copy()
    return render_template(
        "outputs/packet.html", p=_packet(lead_id, copy), copy=copy, field_labels=FIELD_LABELS
    )


@bp.get("/packet/<int:lead_id>.<fmt>")
@staff_required
def packet_download(lead_id: int, fmt: str):
    if fmt not in FORMATS:
        abort(404)
    copy = _copy()
    data = _packet(lead_id, copy)
    name = f"handoff-packet-{lead_id}-{copy}.{fmt}"
    if fmt == "json":
        body = to_json(data)
    elif fmt == "txt":
        body = render_template("outputs/packet.txt", p=data, copy=copy, field_labels=FIELD_LABELS)
    elif fmt == "pdf":
        return pdf_response(
            render_pdf(
                "pdf/packet.html",
                p=data,
                copy=copy,
                field_labels=FIELD_LABELS,
                generated_at=utcnow().replace(microsecond=0).isoformat(),
            ),
            name,
        )
    else:
        body = render_template(
            "outputs/packet_file.html",
            p=data,
            copy=copy,
            field_labels=FIELD_LABELS,
            generated_at=utcnow().replace(microsecond=0).isoformat(),
        )
    return download(body, name, FORMATS[fmt])


@bp.get("/packet/<int:lead_id>/stored")
@staff_required
def packet_stored(lead_id: int):
    """The packet the handoff job stored at the time of the handoff (staff only, internal)."""
    report = db.session.query(Report).filter_by(key=f"handoff:{lead_id}:packet").one_or_none()
    if report is None:
        abort(404)
    return render_template(
        "outputs/packet_stored.html", report=report, lead_id=lead_id, figures=to_json(report.figures or {})
    )
