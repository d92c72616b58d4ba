"""Query-string parameters of the output lists, whitelisted into a typed `Filters`.

Only known names and known values pass; anything else is dropped and reported back to the user as a
notice ("Unknown stage “x” ignored"). Nothing read from the request reaches SQL except as a validated
int, date or vocabulary value bound as a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from ..domain.reads.outputs import DATE_FIELDS, MAX_PAGE, PAGE_SIZE, SORTS, Filters, decode_cursor
from ..models.vocab import SERVICES, STAGES

# The parameters a list understands (others, such as tracking tags, are ignored silently).
KNOWN = ("owner", "stage", "service", "date_field", "date_from", "date_to", "sort", "cursor", "limit")


@dataclass
class Parsed:
    filters: Filters
    cursor: tuple[datetime, int] | None = None
    limit: int = PAGE_SIZE
    notices: list[str] = field(default_factory=list)
    args: dict = field(default_factory=dict)  # the accepted parameters, to rebuild links

    def link_args(self, drop: tuple[str, ...] = ("cursor",), **override) -> dict:
        """The accepted parameters (less `drop`) with `override`: for next-page and export links."""
        out = {k: v for k, v in self.args.items() if k not in drop}
        out.update(override)
        return out


def _date(raw: str, name: str, notices: list[str]) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        notices.append(f"“{raw[:40]}” is not a date (use YYYY-MM-DD): the {name} filter was ignored.")
        return None


def parse(args, *, me_id: int | None, staff_ids: set[int], default_limit: int = PAGE_SIZE) -> Parsed:
    """Whitelist `args` (a request's query string) into filters, a cursor and a page size."""
    notices: list[str] = []
    kept: dict[str, str] = {}
    values: dict = {}

    def raw(name: str) -> str:
        return (args.get(name) or "").strip()

    owner = raw("owner")
    if owner == "me" and me_id is not None:
        values["owner_id"] = me_id
    elif owner == "none":
        values["unowned"] = True
    elif owner.isascii() and owner.isdigit() and len(owner) <= 18 and int(owner) in staff_ids:
        values["owner_id"] = int(owner)
    elif owner:
        notices.append(f"Unknown owner “{owner[:40]}”: showing every owner.")
        owner = ""
    if owner:
        kept["owner"] = owner

    for name, allowed in (("stage", STAGES), ("service", SERVICES)):
        value = raw(name)
        if value in allowed:
            values[name] = kept[name] = value
        elif value:
            notices.append(f"Unknown {name} “{value[:40]}” ignored.")

    for name, allowed, default in (("date_field", DATE_FIELDS, "updated"), ("sort", tuple(SORTS), "updated")):
        value = raw(name)
        if value in allowed:
            values[name] = value
            if value != default:
                kept[name] = value
        elif value:
            notices.append(f"Unknown {name.replace('_', ' ')} “{value[:40]}”: using “{default}”.")

    for name in ("date_from", "date_to"):
        value = raw(name)
        if value:
            parsed = _date(value, name.replace("_", " "), notices)
            if parsed is not None:
                values[name], kept[name] = parsed, parsed.isoformat()
    if values.get("date_from") and values.get("date_to") and values["date_from"] > values["date_to"]:
        notices.append("The date range ends before it starts: it was ignored.")
        for name in ("date_from", "date_to"):
            values.pop(name)
            kept.pop(name)

    cursor = None
    if raw("cursor"):
        cursor = decode_cursor(raw("cursor"))
        if cursor is None:
            notices.append("That page link is broken: showing the first page.")
        else:
            kept["cursor"] = raw("cursor")

    limit = default_limit
    if raw("limit"):
        value = raw("limit")
        if value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_PAGE:
            limit = int(value)
            kept["limit"] = value
        else:
            notices.append(f"Page size must be between 1 and {MAX_PAGE}: using {default_limit}.")

    return Parsed(filters=Filters(**values), cursor=cursor, limit=limit, notices=notices, args=kept)
