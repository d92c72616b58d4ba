"""Who may do what in the generated admin. Denied unless granted here.

A user's rights on a table are the intersection of three things:

1. the table is one of the role's tables in `zarts.auth.access.ADMIN_TABLES` (the single source of
   which role sees which table; client contacts and anonymous users have none);
2. what the role does with its tables (`ROLE_RIGHTS`): growth ops and delivery keep their tables up
   to date, approvers only read (their decisions go through the domain layer), admins do everything;
3. what the table allows at all (`rights_limit` on its view): the event trail is read-only, leads
   are never deleted, the outbox is only looked at, and so on.

Besides the generated CRUD rights there are the rights to the domain actions of the lists (`MOVE`,
`PROPOSE`, `DECIDE`, `MERGE`): no table allows them unless its view adds them to its `rights_limit`. They
only open the action; zarts.domain then checks the actor again (only the owner moves a lead, nobody
approves their own request).
"""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_login import current_user

from ..auth.access import ADMIN_TABLES

VIEW, CREATE, EDIT, DELETE, EXPORT = "view", "create", "edit", "delete", "export"
ALL_RIGHTS = frozenset({VIEW, CREATE, EDIT, DELETE, EXPORT})
READ_ONLY = frozenset({VIEW, EXPORT})
NO_DELETE = ALL_RIGHTS - {DELETE}
# Domain actions: move a lead's stage or mark it lost; request approvals for and send a proposal;
# approve or reject an approval; open the merge screen of two leads or two clients
# (zarts.workspace.merge's MERGERS, whose merges zarts.domain.merge checks again).
MOVE, PROPOSE, DECIDE, MERGE = "move", "propose", "decide", "merge"
ACTION_RIGHTS = frozenset({MOVE, PROPOSE, DECIDE, MERGE})

ROLE_RIGHTS: dict[str, frozenset[str]] = {
    "admin": ALL_RIGHTS | ACTION_RIGHTS,
    "growth_ops": frozenset({VIEW, CREATE, EDIT, EXPORT, MOVE, PROPOSE, MERGE}),
    "approver": READ_ONLY | {DECIDE},
    "delivery": frozenset({VIEW, CREATE, EDIT, EXPORT}),
}


def sees_table(user, table: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_staff", False):
        return False
    tables = ADMIN_TABLES.get(user.role)
    return tables == "*" or (tables is not None and table in tables)


def rights_for(user, table: str, limit: frozenset[str] = ALL_RIGHTS) -> frozenset[str]:
    """What `user` may do with `table` in the admin; empty when the table is not theirs."""
    if not sees_table(user, table):
        return frozenset()
    return ROLE_RIGHTS.get(user.role, frozenset()) & limit


def may_open_admin(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_staff", False)
        and ADMIN_TABLES.get(user.role)
    )


def login_redirect():
    """Anonymous visitors sign in first and come back to the page they asked for."""
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def signed_in() -> bool:
    return bool(current_user and current_user.is_authenticated)
