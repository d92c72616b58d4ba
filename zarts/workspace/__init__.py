"""The staff workspace: pipeline board, lead page, approvals queue, my tasks and dashboard.

Views parse input, call zarts.domain inside one transaction and render; reads go through the named
query functions of `queries` (and `metrics` for the dashboard). Every HTMX fragment is also reachable
as a full page, and every fragment checks access exactly like its page.
"""

from flask import Blueprint

from ..models.vocab import (
    CONSENT,
    CONTRACT_STATES,
    LOST_REASONS,
    OPEN_STAGES,
    PAUSE_REASONS,
    PAYMENT_STATES,
    SERVICE_FIT,
    SOURCES,
    STAGES,
    URGENCY,
)

bp = Blueprint("workspace", __name__, url_prefix="/workspace")

NEXT_STAGE = dict(zip(OPEN_STAGES, OPEN_STAGES[1:] + ("won",)))
BADGES = {
    "overdue": ("Overdue", "overdue"),
    "paused": ("Paused", "paused"),
    "awaiting_approval": ("Awaiting approval", "info"),
    "not_viewed": ("Proposal not viewed", "warn"),
}


@bp.context_processor
def _vocabulary():
    from ..domain.proposals import part_content
    from ..models import today
    from .lead_sales import scope_lines
    from .queries import count_label

    return {
        "today": today, "scope_lines": scope_lines, "part_content": part_content,
        "STAGES": STAGES, "OPEN_STAGES": OPEN_STAGES, "NEXT_STAGE": NEXT_STAGE, "BADGES": BADGES,
        "SOURCES": SOURCES, "SERVICE_FIT": SERVICE_FIT, "URGENCY": URGENCY, "CONSENT": CONSENT,
        "PAUSE_REASONS": PAUSE_REASONS, "LOST_REASONS": LOST_REASONS, "CONTRACT_STATES": CONTRACT_STATES,
        "PAYMENT_STATES": PAYMENT_STATES, "count_label": count_label,
    }


from . import approvals, board, dashboard, lead, lead_sales, tasks  # noqa: F401
