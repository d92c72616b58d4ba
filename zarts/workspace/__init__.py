"""workspace blueprint (filled in by its issue)."""

from flask import Blueprint

bp = Blueprint("workspace", __name__, url_prefix="/workspace")

from ..auth.access import staff_required  # noqa: E402


@bp.route("/")
@staff_required
def board():
    return "board"


@bp.route("/tasks")
@staff_required
def my_tasks():
    return "tasks"


@bp.route("/approvals")
@staff_required
def approvals():
    return "approvals"


@bp.route("/dashboard")
@staff_required
def dashboard():
    return "dashboard"
