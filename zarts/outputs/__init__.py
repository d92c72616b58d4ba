"""Outputs: the guide's eight outputs as lists and per-opportunity pages (with CSV and JSON exports),
the printable handoff packet of a won deal, the weekly pipeline report and proposal version diffs.

Staff only, read only (GET): every number and text comes from pure reads in zarts.domain.reads.outputs,
zarts.domain.weekly and zarts.domain.diff.
"""

from flask import Blueprint, url_for
from werkzeug.routing import BuildError

bp = Blueprint("outputs", __name__, url_prefix="/outputs")


@bp.app_template_global("output_lead_url")
def output_lead_url(lead_id: int) -> str | None:
    """The lead's workspace page, when the workspace is there to link to."""
    try:
        return url_for("workspace.lead", lead_id=lead_id)
    except BuildError:
        return None


from . import lists, packets, reports  # noqa: F401  (routes)
