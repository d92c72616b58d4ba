"""Saved views: a named set of filters of one page (the board, My tasks, an admin list), kept per
user and optionally shared with the team.

Who may act (SECURITY.md, "save, share or delete a saved view"): any staff member saves views of
their own; only a view's owner (or an admin) renames, re-shares, updates or deletes it. A shared
view is visible to every staff member, editable by its owner and admins only. Not a lead change:
no event.

What is stored is the page's query string reduced to the parameters that page knows (each value
checked where the page's vocabulary is known), so a saved view never carries anything the page
would not itself put in its URL.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Base, SavedView, User
from ..models.vocab import SERVICES, SOURCES
from .errors import Forbidden, Invalid
from .trail import require_staff

NAME_MAX = 80
QUERY_MAX = 2000
VALUE_MAX = 200
PAGES_PER_USER = 50  # views of one page a user may keep


def _owner_value(value: str) -> bool:
    return value in ("me", "none") or (value.isascii() and value.isdigit() and len(value) <= 18)


# page -> {parameter: check of its value}. The board's and My tasks' filters are those of their views
# (zarts.workspace.board._filters; My tasks has none yet, so its views keep the page itself).
PAGE_PARAMETERS = {
    "board": {"owner": _owner_value, "service": SERVICES.__contains__, "source": SOURCES.__contains__},
    "tasks": {},
}
# Flask-Admin's list arguments: search, sort column and direction, page size, and its filters
# (flt<position>_<filter index or name>). The page number is left out: a view starts at its top.
_ADMIN_FIXED = {"search", "sort", "desc", "page_size"}
_ADMIN_FILTER = re.compile(r"^flt\d{1,2}_[A-Za-z0-9_]{1,60}$")
_ADMIN_PAGE = re.compile(r"^admin:([a-z_]{1,40})$")


def page_label(page: str) -> str:
    match = _ADMIN_PAGE.match(page)
    if match:
        return f"admin {match.group(1).replace('_', ' ')}"
    return {"board": "board", "tasks": "My tasks"}.get(page, page)


def known_page(page: str) -> bool:
    match = _ADMIN_PAGE.match(page or "")
    if match:
        return match.group(1) in Base.metadata.tables
    return page in PAGE_PARAMETERS


def sanitise_query(page: str, query: str) -> str:
    """`query` (a query string, with or without "?") reduced to what `page` knows, re-encoded."""
    raw = (query or "").strip().lstrip("?")
    if len(raw) > QUERY_MAX * 2:
        raise Invalid("These filters are too long to save.", "query")
    pairs = parse_qsl(raw, keep_blank_values=False)
    kept = []
    if _ADMIN_PAGE.match(page):
        for key, value in pairs:
            if (
                (key in _ADMIN_FIXED or _ADMIN_FILTER.match(key))
                and len(value) <= VALUE_MAX
                and "\x00" not in value
            ):
                kept.append((key, value))
    else:
        allowed = PAGE_PARAMETERS.get(page, {})
        seen = set()
        for key, value in pairs:
            check = allowed.get(key)
            if check is not None and key not in seen and check(value):
                kept.append((key, value))
                seen.add(key)
    result = urlencode(kept)
    if len(result) > QUERY_MAX:
        raise Invalid("These filters are too long to save.", "query")
    return result


def _clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise Invalid("Give the view a name.", "name")
    if len(name) > NAME_MAX:
        raise Invalid(f"A view's name has at most {NAME_MAX} characters.", "name")
    return name


def _check_page(page: str) -> None:
    if not known_page(page):
        raise Invalid("Views can be saved for the board, My tasks and the admin lists only.", "page")


def _name_taken(session: Session, owner_id: int, page: str, name: str, exclude_id: int | None = None) -> bool:
    q = sa.select(SavedView.id).where(
        SavedView.owner_id == owner_id, SavedView.page == page, sa.func.lower(SavedView.name) == name.lower()
    )
    if exclude_id is not None:
        q = q.where(SavedView.id != exclude_id)
    return session.execute(q.limit(1)).first() is not None


def _require_editor(actor: User, view: SavedView, action: str) -> None:
    require_staff(actor, action=action)
    if view.owner_id != actor.id and actor.role != "admin":
        raise Forbidden(f"Only the owner of this view (or an admin) can {action}.")


def save_view(
    session: Session, actor: User, page: str, name: str, query: str, shared: bool = False
) -> SavedView:
    """Save the filters `query` of `page` as the actor's view `name` (1-80 characters, unique per user
    and page, whatever the case); `shared` lists it for the whole team. Refuses non-staff, an unknown
    page, a bad or taken name."""
    require_staff(actor, action="save a view")
    _check_page(page)
    name = _clean_name(name)
    clean = sanitise_query(page, query)
    if _name_taken(session, actor.id, page, name):
        raise Invalid(f"You already have a view called “{name}” here: choose another name.", "name")
    count = session.execute(
        sa.select(sa.func.count())
        .select_from(SavedView)
        .where(SavedView.owner_id == actor.id, SavedView.page == page)
    ).scalar_one()
    if count >= PAGES_PER_USER:
        raise Invalid(f"You keep {PAGES_PER_USER} views of this page already: delete one first.", "name")
    view = SavedView(owner_id=actor.id, page=page, name=name, query=clean, shared=bool(shared))
    session.add(view)
    session.flush()
    return view


def update_view(
    session: Session,
    actor: User,
    view: SavedView,
    *,
    name: str | None = None,
    query: str | None = None,
    shared: bool | None = None,
) -> SavedView:
    """Rename a view, replace its filters or share/unshare it (owner or admin only)."""
    _require_editor(actor, view, "change this view")
    if name is not None:
        name = _clean_name(name)
        if _name_taken(session, view.owner_id, view.page, name, exclude_id=view.id):
            raise Invalid(f"There is already a view called “{name}” here: choose another name.", "name")
        view.name = name
    if query is not None:
        view.query = sanitise_query(view.page, query)
    if shared is not None:
        view.shared = bool(shared)
    session.flush()
    return view


def delete_view(session: Session, actor: User, view: SavedView) -> None:
    """Delete a view (owner or admin only)."""
    _require_editor(actor, view, "delete this view")
    session.delete(view)
    session.flush()


_VIEWS = SavedView.__table__.c
# Every staff page with a Views menu asks this: a plain statement of the table's columns, built once
# (building and running an ORM statement cost twice its SQL, for a menu that is most often empty).
_VIEWS_OF_PAGE = (
    sa.select(_VIEWS.id, _VIEWS.owner_id, _VIEWS.page, _VIEWS.name, _VIEWS.query, _VIEWS.shared)
    .where(
        _VIEWS.page == sa.bindparam("page"),
        sa.or_(_VIEWS.owner_id == sa.bindparam("user_id"), _VIEWS.shared.is_(True)),
    )
    .order_by(_VIEWS.name, _VIEWS.id)
    .limit(200)
)


def views_for(session: Session, user: User, page: str) -> list:
    """The views of `page` `user` may use: their own, then the team's shared ones, by name. Rows of
    (id, owner_id, page, name, query, shared), for showing (change one through its SavedView)."""
    rows = session.execute(_VIEWS_OF_PAGE, {"page": page, "user_id": user.id}).all()
    return sorted(rows, key=lambda v: (v.owner_id != user.id, v.name.lower(), v.id))
