"""The cells of one admin list row, built in Python.

Flask-Admin renders every cell and every row action of its list through Jinja macro calls: at 20
rows × 12 columns that is most of a list page's time. `list_row(context, row)` writes the same
markup as `admin/model/list.html`'s `list_row` block (checkbox, row actions, one cell per column)
in one pass: the view and edit links are built from one URL per page with the row id put in, the
values come from the view's own `get_list_value` (formatters included) and are escaped as Jinja's
autoescape would. Anything it does not know how to write the same way (an editable column, a row
action other than view and edit links) is rendered by Flask-Admin's own code for that cell.
"""

from __future__ import annotations

from typing import NamedTuple

from flask import g, url_for
from flask_admin.model.template import EditRowAction, ViewRowAction
from jinja2 import pass_context
from markupsafe import Markup, escape

from .display import WorkspaceRowAction

_ID = "0ZARTSROWID0"  # stands for the row id in a URL built once per page
_NUM_ID = 918273645  # the same, for routes whose id converter takes digits only (the workspace's)

_LINKS = {  # row action -> (endpoint, icon), as in Flask-Admin's row_actions.html
    ViewRowAction: (".details_view", "fa fa-eye glyphicon glyphicon-eye-open"),
    EditRowAction: (".edit_view", "fa fa-pencil glyphicon glyphicon-pencil"),
}


class _AttrLink(NamedTuple):
    """A row link whose id is a column of the row (WorkspaceRowAction), built once per page."""

    head: Markup
    tail: Markup
    attr: str


def _page_plan(context) -> dict:
    """What is the same for every row of the page, computed on the first row (each row's block
    gets a context of its own, so the plan is kept on `g` for this view and list URL)."""
    view, return_url = context["admin_view"], context["return_url"]
    key = (id(view), return_url, id(context["list_row_actions"]))
    cached = g.get("_admin_row_plan")
    if cached is not None and cached[0] == key:
        return cached[1]
    get_url = context["get_url"]
    links = []
    for action in context["list_row_actions"]:
        if isinstance(action, WorkspaceRowAction):  # its id is a column of the row (lead_id)
            head, _, tail = url_for(action.endpoint, **{action.arg: _NUM_ID}).partition(str(_NUM_ID))
            title = escape(action.title or "")
            links.append(
                _AttrLink(
                    Markup(f'<a class="icon" href="{escape(head)}'),
                    Markup(
                        f'{escape(tail)}" title="{title}">\n  <span class="{action.icon}"></span>\n</a>\n'
                    ),
                    action.attr,
                )
            )
            continue
        known = _LINKS.get(type(action))
        if known is None:
            links.append(action)  # rendered by Flask-Admin for each row
            continue
        endpoint, icon = known
        url = get_url(endpoint, id=_ID, url=return_url)
        head, sep, tail = url.partition(_ID)
        if not sep or _ID in tail:
            links.append(action)
            continue
        title = escape(action.title or "")
        links.append(
            (
                Markup(f'<a class="icon" href="{escape(head)}'),
                Markup(f'{escape(tail)}" title="{title}">\n  <span class="{icon}"></span>\n</a>\n'),
                action,
            )
        )
    plan = {
        "view": view,
        "columns": [(c, Markup(f'<td class="col-{escape(c)}">')) for c, _ in context["list_columns"]],
        "editable": any(view.is_editable(c) for c, _ in context["list_columns"]),
        "checkbox": bool(context["actions"]),
        "select_title": escape(context["_gettext"]("Select record")),
        "actions_column": bool(view.column_display_actions),
        "links": links,
    }
    g._admin_row_plan = (key, plan)
    return plan


@pass_context
def list_row(context, row) -> Markup | None:
    """The row's cells; None when the page has an editable column (the template then renders
    Flask-Admin's block)."""
    plan = _page_plan(context)
    if plan["editable"]:  # the inline editor needs the page's list forms: Flask-Admin's own block
        return None
    view = plan["view"]
    pk = view.get_pk_value(row)
    # An id that needs no quoting in a URL. Flask-Admin hands integer keys over as text
    # (flask_admin.tools.escape), so digits count too.
    by_id = isinstance(pk, int) or (isinstance(pk, str) and pk.isascii() and pk.isdigit())
    out = []
    if plan["checkbox"]:
        out.append(
            f'<td>\n<input type="checkbox" name="rowid" class="action-checkbox" value="{escape(pk)}" '
            f'title="{plan["select_title"]}" />\n</td>\n'
        )
    if plan["actions_column"]:
        out.append('<td class="list-buttons-column">\n')
        quoted = escape(pk)
        for link in plan["links"]:
            if isinstance(link, _AttrLink):
                ident = getattr(row, link.attr, None)
                if isinstance(ident, int):
                    out.append(f"{link.head}{ident}{link.tail}")
                continue
            if by_id and isinstance(link, tuple):
                out.append(f"{link[0]}{quoted}{link[1]}")
            else:
                out.append(
                    str((link if not isinstance(link, tuple) else link[2]).render_ctx(context, pk, row))
                )
        out.append("</td>")
    get_value = view.get_list_value
    for name, cell in plan["columns"]:
        out.append(f"\n{cell}\n{escape(get_value(context, row, name))}\n</td>")
    return Markup("".join(out))
