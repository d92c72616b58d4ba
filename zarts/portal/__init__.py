"""portal blueprint (filled in by its issue)."""

from flask import Blueprint

bp = Blueprint("portal", __name__, url_prefix="/portal")

from ..auth.access import client_required  # noqa: E402


@bp.route("/")
@client_required
def home():
    return "home"


@bp.route("/proposals")
@client_required
def proposals():
    return "proposals"


@bp.route("/reports")
@client_required
def reports():
    return "reports"


@bp.route("/messages")
@client_required
def messages():
    return "messages"
