"""Who may do what. Access is denied by default: every view declares the roles it admits."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, redirect, request, url_for
from flask_login import current_user

# Where each staff role may work in the generated admin (see zarts.admin).
ADMIN_TABLES = {
    "admin": "*",
    "growth_ops": {
        "leads",
        "audits",
        "proposals",
        "proposal_items",
        "approvals",
        "contracts",
        "messages",
        "tasks",
        "report_notes",
        "reports",
        "clients",
        "events",
    },
    "approver": {
        "leads",
        "audits",
        "proposals",
        "proposal_items",
        "approvals",
        "contracts",
        "report_notes",
        "reports",
        "events",
    },
    "delivery": {"projects", "tasks", "clients", "connectors", "events"},
}


def _to_login():
    """Anonymous: to the login page. An HTMX request gets HX-Redirect so the whole page navigates
    instead of swapping the login form into a fragment."""
    target = url_for("auth.login", next=request.full_path.rstrip("?"))
    if request.headers.get("HX-Request"):
        return "", 401, {"HX-Redirect": target}
    return redirect(target)


def roles_required(*roles: str):
    """Staff-only view guard: anonymous users go to the login page, anyone else gets a 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return _to_login()
            if not current_user.is_staff or (
                roles and current_user.role not in roles and current_user.role != "admin"
            ):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


staff_required = roles_required()


def client_required(view):
    """Portal guard: only a signed-in client contact of an existing client."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return _to_login()
        if not current_user.is_client or current_user.client_id is None:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def is_safe_next(target: str | None) -> bool:
    """Only same-site relative paths: no scheme, no host, no backslash or control characters."""
    if not target or not isinstance(target, str):
        return False
    if any(ch in target for ch in ("\\", "\r", "\n", "\t", "\x00")) or any(ord(c) < 32 for c in target):
        return False
    if not target.startswith("/") or target.startswith("//"):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def home_for(user) -> str:
    if user.is_client:
        return url_for("portal.home")
    return url_for("workspace.board")
