"""The client portal: what a client contact sees and decides, scoped to their own client.

Every read goes through `queries` (scoped to current_user.client_id, returning the allow-listed view
models of `views_models`); every change goes through `zarts.domain`.
"""

from flask import Blueprint

bp = Blueprint("portal", __name__, url_prefix="/portal")

from . import pages, pdf_views, proposal_views  # noqa: F401  (routes)
from .common import portal_links

bp.add_app_template_filter(portal_links, "portal_links")


@bp.record_once
def _mail_attachments(state):
    # The proposal-sent email carries the PDF; the mail job (below the web packages) asks for it here.
    state.app.extensions.setdefault("zarts.mail_attachments", []).append(pdf_views.proposal_sent_attachments)
