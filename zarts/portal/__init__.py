"""The client portal: what a client contact sees and decides, scoped to their own client.

Every read goes through `queries` (scoped to current_user.client_id, returning the allow-listed view
models of `views_models`); every change goes through `zarts.domain`.
"""

from flask import Blueprint

bp = Blueprint("portal", __name__, url_prefix="/portal")

from . import pages, proposal_views  # noqa: F401  (routes)
from .common import portal_links

bp.add_app_template_filter(portal_links, "portal_links")
