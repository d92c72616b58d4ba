"""The staff workspace: pipeline board, lead page, approvals queue, my tasks and dashboard.

Views parse input, call zarts.domain inside one transaction and render; reads go through the named
query functions of `queries` (and `metrics` for the dashboard). Every HTMX fragment is also reachable
as a full page, and every fragment checks access exactly like its page.
"""

from functools import cache

from flask import Blueprint, g, url_for
from markupsafe import Markup, escape

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


@cache
def move_options(stage: str) -> Markup:
    """The <option>s of a card's "move to" list (every other stage, the next one selected): the same
    for every card of a stage, so built once."""
    from ..models.vocab import STAGE_LABELS

    return Markup(
        "".join(
            f'<option value="{s}"{" selected" if s == NEXT_STAGE.get(stage) else ""}>{escape(STAGE_LABELS[s])}</option>'
            for s in STAGES
            if s != stage
        )
    )


_ID = 918273645  # a placeholder id no URL otherwise contains


def lead_url(endpoint: str, lead_id: int) -> str:
    """url_for(endpoint, lead_id=...) built once per request and endpoint: a board renders two
    links for each of its 200 cards, and werkzeug builds each URL from scratch."""
    return _id_url(endpoint, "lead_id", lead_id)


def task_url(endpoint: str, task_id: int) -> str:
    """url_for(endpoint, task_id=...), as lead_url (a task list links each of its rows)."""
    return _id_url(endpoint, "task_id", task_id)


def _id_url(endpoint: str, name: str, ident: int) -> str:
    head, tail = id_url_parts(endpoint, name)
    return f"{head}{int(ident)}{tail}"


def id_url_parts(endpoint: str, name: str) -> tuple[str, str]:
    """url_for(endpoint, name=<id>) as the text before and after the id, built once per request."""
    built = g.setdefault("_id_urls", {})
    key = (endpoint, name)
    parts = built.get(key)
    if parts is None:
        head, _, tail = url_for(endpoint, **{name: _ID}).partition(str(_ID))
        parts = built[key] = (head, tail)
    return parts


@bp.app_template_filter("day")
def day_tag(d) -> Markup:
    """A date as <time> (the `day` macro, as a filter: cheaper in a loop of cards)."""
    if not d:
        return Markup("—")
    return Markup(f'<time datetime="{d.isoformat()}">{d.strftime("%d %b %Y")}</time>')


@bp.app_template_filter("when")
def when_tag(dt) -> Markup:
    """A UTC datetime as <time> (the `when` macro, as a filter: the task rows use it too)."""
    if not dt:
        return Markup("—")
    from flask_login import current_user

    from ..domain.account import MINUTE, local_time

    # The machine value stays UTC; the words are the viewer's own clock (zarts.domain.account).
    shown = local_time(dt, current_user).strftime(MINUTE)
    return Markup(f'<time datetime="{dt.isoformat()}Z">{shown}</time>')


@bp.context_processor
def _vocabulary():
    from ..domain.proposals import APPROVAL_PARTS, part_content
    from ..models import today
    from .cards import board_card
    from .lead_sales import scope_lines
    from .queries import count_label
    from .task_rows import task_row

    return {
        "today": today,
        "scope_lines": scope_lines,
        "part_content": part_content,
        "APPROVAL_PARTS": APPROVAL_PARTS,
        "STAGES": STAGES,
        "OPEN_STAGES": OPEN_STAGES,
        "NEXT_STAGE": NEXT_STAGE,
        "BADGES": BADGES,
        "SOURCES": SOURCES,
        "SERVICE_FIT": SERVICE_FIT,
        "URGENCY": URGENCY,
        "CONSENT": CONSENT,
        "PAUSE_REASONS": PAUSE_REASONS,
        "LOST_REASONS": LOST_REASONS,
        "CONTRACT_STATES": CONTRACT_STATES,
        "PAYMENT_STATES": PAYMENT_STATES,
        "count_label": count_label,
        "move_options": move_options,
        "lead_url": lead_url,
        "task_url": task_url,
        "board_card": board_card,
        "task_row": task_row,
    }


# The route modules (each registers its views on bp).
from . import (  # noqa: F401
    account,
    api_tokens,
    approvals,
    board,
    conversation,
    dashboard,
    imports,
    lead,
    lead_evidence,
    lead_files,
    lead_sales,
    merge,
    notifications,
    portal_access,
    reports,
    saved_views,
    search,
    tasks,
)
