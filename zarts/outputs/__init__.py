"""outputs blueprint (filled in by its issue)."""

from flask import Blueprint

bp = Blueprint("outputs", __name__, url_prefix="/outputs")

from ..auth.access import staff_required  # noqa: E402


@bp.route("/")
@staff_required
def index():
    return "outputs"
