"""Saved views: the "Views" menu of the board, My tasks and the admin lists.

The menu loads its list when opened (htmx, `GET /workspace/views?page=…` with the page's current URL
in htmx's HX-Current-URL header), so the pages it sits on run no extra statement; without htmx the
same URL is a full page. Saving, updating and deleting are plain form POSTs through
zarts.domain.views (who may act: SECURITY.md), answered with a redirect to the page the view shows.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, request, url_for

from ..auth.access import ADMIN_TABLES, is_safe_next, staff_required
from ..domain import Invalid, views
from ..extensions import db
from ..models import SavedView
from . import bp
from .common import actor, attempt, flag, render, text, wants_fragment


def page_url(page: str) -> str | None:
    """The URL of the page a view belongs to (None: no such page here)."""
    if page == "board":
        return url_for("workspace.board")
    if page == "tasks":
        return url_for("workspace.my_tasks")
    if page.startswith("admin:"):
        endpoint = f"{page[6:]}.index_view"
        return url_for(endpoint) if endpoint in current_app.view_functions else None
    return None


def view_url(view: SavedView) -> str | None:
    base = page_url(view.page)
    if base is None:
        return None
    return f"{base}?{view.query}" if view.query else base


def may_use(user, page: str) -> bool:
    if not views.known_page(page):
        return False
    if page.startswith("admin:"):
        tables = ADMIN_TABLES.get(user.role)
        return tables == "*" or (tables is not None and page[6:] in tables)
    return True


def current_query(page: str) -> str:
    """The filters the user is looking at: the `current` argument (the full page), else the query of
    the URL htmx says the browser shows."""
    raw = request.args.get("current")
    if raw is None:
        shown = request.headers.get("HX-Current-URL", "")
        raw = urlsplit(shown).query if shown else ""
    try:
        return views.sanitise_query(page, raw)
    except Invalid:
        return ""


def menu_context(page: str, query: str) -> dict:
    """What workspace/partials/saved_views.html shows: the views, their links and the save form."""
    me = actor()
    items = [
        (v, view_url(v), v.owner_id == me.id or me.role == "admin")
        for v in views.views_for(db.session, me, page)
    ]
    return {
        "sv_page": page,
        "sv_items": [i for i in items if i[1]],
        "sv_query": query,
        "sv_label": views.page_label(page),
        "sv_here": page_url(page),
        "sv_me": me.id,
    }


def _page_arg() -> str:
    page = (request.values.get("page") or ("board" if request.method == "GET" else "")).strip()
    if not may_use(actor(), page):
        abort(404)
    return page


@bp.route("/views")
@staff_required
def views_menu():
    """The Views menu's body (htmx) or, reloaded, the full page of the views of ?page=."""
    page = _page_arg()
    return render(
        "workspace/partials/saved_views.html",
        "workspace/saved_views.html",
        sv_mode="body",
        sv_full=not wants_fragment(),
        **menu_context(page, current_query(page)),
    )


def _back(view_or_page) -> str:
    target = request.form.get("next")
    if is_safe_next(target):
        return target
    return (
        view_url(view_or_page) if isinstance(view_or_page, SavedView) else page_url(view_or_page)
    ) or url_for("workspace.board")


def _refused(page: str, error, query: str):
    return render(
        "workspace/partials/saved_views.html",
        "workspace/saved_views.html",
        error.status,
        sv_mode="body",
        sv_full=True,
        sv_error=error,
        sv_name=text("name") or "",
        **menu_context(page, query),
    )


@bp.post("/views")
@staff_required
def save_view():
    """Save the filters the user is looking at as a named view; then show it."""
    page = _page_arg()
    query = request.form.get("query", "")
    saved = {}

    def save():
        saved["view"] = views.save_view(db.session, actor(), page, text("name") or "", query, flag("shared"))

    error = attempt(save)
    if error is not None:
        return _refused(page, error, views.sanitise_query(page, query) if len(query) < 4000 else "")
    view = saved["view"]
    flash(f"View “{view.name}” saved{' and shared with the team' if view.shared else ''}.", "success")
    return redirect(view_url(view) or url_for("workspace.board"), 303)


def _view(view_id: int) -> SavedView:
    view = db.session.get(SavedView, view_id)
    if view is None or not (view.owner_id == actor().id or view.shared or actor().role == "admin"):
        abort(404)  # someone's private view: as if it did not exist
    return view


@bp.post("/views/<int:view_id>")
@staff_required
def update_view(view_id: int):
    """Rename a view, share or unshare it, or make it the filters shown now (`use_current`)."""
    view = _view(view_id)
    page = view.page
    query = request.form.get("query") if flag("use_current") else None
    error = attempt(
        lambda: views.update_view(
            db.session, actor(), view, name=text("name"), query=query, shared=flag("shared")
        )
    )
    if error is not None:
        return _refused(page, error, current_query(page))
    flash("View updated.", "success")
    return redirect(_back(view), 303)


@bp.post("/views/<int:view_id>/delete")
@staff_required
def delete_view(view_id: int):
    view = _view(view_id)
    page, name = view.page, view.name
    error = attempt(lambda: views.delete_view(db.session, actor(), view))
    if error is not None:
        return _refused(page, error, current_query(page))
    flash(f"View “{name}” deleted.", "success")
    return redirect(_back(page), 303)


def admin_menu_context(endpoint: str) -> dict | None:
    """The Views menu of an admin list, filled in (the admin loads no htmx): for templates/admin/list.html."""
    page = f"admin:{endpoint}"
    if not may_use(actor(), page):
        return None
    return menu_context(page, views.sanitise_query(page, request.query_string.decode("utf-8", "replace")))


@bp.record_once
def _register_admin_global(state):
    state.app.jinja_env.globals["saved_views_admin"] = admin_menu_context
