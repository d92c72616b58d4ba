"""What every portal view shares: who the client is, HTMX-or-full-page answers, domain calls."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import abort, current_app, request
from flask_login import current_user
from markupsafe import Markup, escape

from ..domain import DomainError, unit
from ..extensions import db


def client_id() -> int:
    """The signed-in contact's client: every portal read and write is scoped to it."""
    return current_user.client_id


def contact():
    """The signed-in client contact as a model (the domain functions take the user)."""
    return current_user._get_current_object()


def is_htmx() -> bool:
    return bool(getattr(request, "htmx", False))


def found(value):
    """Another client's row and a missing row look the same: 404, never a 403 that confirms it exists."""
    if value is None:
        abort(404)
    return value


def run(action: Callable[[], object]) -> DomainError | None:
    """One user action in one transaction. A refusal comes back as a value for the page to show."""
    try:
        with unit(db.session):
            action()
    except DomainError as err:
        return err
    return None


def form_version() -> str:
    # Always pass a version: a form without one must not skip the optimistic-lock check.
    return request.form.get("version", "")


def int_values(values) -> list[int]:
    """Lenient parse for previews (the total): anything that is not an id is ignored."""
    return [int(v) for v in map(str, values) if v.isascii() and v.isdigit() and len(v) <= 18]


_URL = re.compile(r"https?://[^\s<>\"']+")


def portal_links(text: str | None) -> Markup:
    """Plain message text, escaped, with links into this portal made clickable (relative, same site).

    Other addresses stay plain text: a message never turns into an off-site link.
    """
    base = current_app.config["BASE_URL"].rstrip("/")

    def link(match: re.Match) -> str:
        url = match.group(0)
        if not url.startswith(base + "/portal/"):
            return url
        path = url[len(base) :]  # already escaped with the rest of the text
        return f'<a href="{path}">{path}</a>'

    return Markup(_URL.sub(link, str(escape(text or ""))))
