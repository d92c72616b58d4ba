"""A staff member's own account settings: the time zone the admin and the workspace show times in.

Times are stored naive UTC (zarts.models.utcnow); a screen shows them in the viewer's zone: their
`users.time_zone`, or the app's DEFAULT_TIME_ZONE when they chose none.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from ..models import User
from .errors import Forbidden, Invalid
from .trail import require_staff

FALLBACK_ZONE = "UTC"
MINUTE = "%d %b %Y %H:%M"  # "04 Dec 2026 19:05": what every screen shows of a time


@cache
def zone_names() -> frozenset[str]:
    """The IANA zones this machine knows (a user may choose only one of these)."""
    return frozenset(available_timezones())


def default_zone_name() -> str:
    name = current_app.config.get("DEFAULT_TIME_ZONE") if has_app_context() else None
    return name or FALLBACK_ZONE


@cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(FALLBACK_ZONE)


def zone_of(user) -> ZoneInfo:
    """The zone `user` reads times in (their choice, else the app's default; UTC if either is unknown)."""
    return _zone(getattr(user, "time_zone", None) or default_zone_name())


def local_time(dt: datetime, user) -> datetime:
    """A stored (naive UTC) time as `user` reads it."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(zone_of(user))


def set_time_zone(session: Session, actor: User | None, user: User, time_zone: str | None) -> User:
    """Set the zone `user` reads times in. Only for oneself (an admin changes nobody else's view of the
    clock either). An empty choice goes back to the app's default; an unknown name is refused with
    the field's message, and nothing changes."""
    require_staff(actor, action="change account settings")
    if user.id != actor.id:
        raise Forbidden("You can change only your own settings.")
    name = (time_zone or "").strip()
    if name and name not in zone_names():
        raise Invalid(
            f"“{name[:64]}” is not a time zone we know: choose one from the list, "
            "like Europe/Berlin or America/New_York.",
            "time_zone",
        )
    user.time_zone = name or None
    session.flush()
    return user
