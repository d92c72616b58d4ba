"""Prepared reads of the outputs: a keyset page of rows for one output, or one opportunity's row.

Filters arrive typed (a `Filters` built by the web layer from whitelisted parameters); nothing here
ever puts request text into SQL. A page is one statement for the leads plus one per related table,
and never counts the leads table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from ....models import Lead
from .catalog import DATE_ONLY, OUTPUTS, Output, row
from .context import lead_tasks, load

PAGE_SIZE = 50
MAX_PAGE = 500
SORTS = {"updated": "updated_at", "created": "created_at"}
DATE_FIELDS = ("updated", "created", "output")


@dataclass(frozen=True)
class Filters:
    """What a list shows. Every value is already validated (ids as ints, names from the vocabulary)."""

    owner_id: int | None = None
    unowned: bool = False
    stage: str | None = None
    service: str | None = None
    date_field: str = "updated"
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "updated"

    def as_dict(self) -> dict:
        """The filters as JSON values (the `filters` object of the JSON export)."""
        return {
            "owner": "none" if self.unowned else self.owner_id,
            "stage": self.stage,
            "service": self.service,
            "date_field": self.date_field,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "sort": self.sort,
        }


@dataclass
class Page:
    output: Output
    rows: list[dict]
    next_cursor: str | None = None
    filters: Filters = field(default_factory=Filters)


def encode_cursor(lead: Lead, sort: str) -> str:
    return f"{getattr(lead, SORTS[sort]).isoformat()}_{lead.id}"


def decode_cursor(raw: str | None) -> tuple[datetime, int] | None:
    """(timestamp, id) of a cursor made by `encode_cursor`, or None when it is not one."""
    if not raw or len(raw) > 64:
        return None
    stamp, _, ident = raw.rpartition("_")
    try:
        return datetime.fromisoformat(stamp), int(ident)
    except ValueError:
        return None


def _date_clauses(output: Output, f: Filters) -> list:
    if f.date_from is None and f.date_to is None:
        return []
    if f.date_field == "output":
        column = output.date_expr()
        if output.slug in DATE_ONLY:
            return [
                c
                for c in (
                    (column >= f.date_from) if f.date_from else None,
                    (column <= f.date_to) if f.date_to else None,
                )
                if c is not None
            ]
    else:
        column = getattr(Lead, SORTS[f.date_field])
    out = []
    if f.date_from is not None:
        out.append(column >= datetime.combine(f.date_from, time.min))
    if f.date_to is not None:
        out.append(column < datetime.combine(f.date_to + timedelta(days=1), time.min))
    return out


def clauses(output: Output, f: Filters) -> list:
    out = [output.member()]
    if f.unowned:
        out.append(Lead.owner_id.is_(None))
    elif f.owner_id is not None:
        out.append(Lead.owner_id == f.owner_id)
    if f.stage is not None:
        out.append(Lead.stage == f.stage)
    if f.service is not None:
        out.append(Lead.service == f.service)
    return out + _date_clauses(output, f)


def page(
    session: Session,
    slug: str,
    filters: Filters = Filters(),
    *,
    after: tuple[datetime, int] | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """One page of `slug`'s rows, newest first by the filters' sort, after the cursor `after`.

    Raises KeyError for an unknown output. `limit` is capped at MAX_PAGE.
    """
    output = OUTPUTS[slug]
    limit = max(1, min(int(limit), MAX_PAGE))
    sort_col = getattr(Lead, SORTS[filters.sort])
    q = sa.select(Lead).options(joinedload(Lead.owner)).where(*clauses(output, filters))
    if after is not None:
        stamp, ident = after
        q = q.where(sa.or_(sort_col < stamp, sa.and_(sort_col == stamp, Lead.id < ident)))
    leads = list(session.execute(q.order_by(sort_col.desc(), Lead.id.desc()).limit(limit + 1)).scalars())
    more = len(leads) > limit
    leads = leads[:limit]
    ctx = load(session, leads, output.needs)
    return Page(
        output=output,
        rows=[row(output, lead, ctx) for lead in leads],
        filters=filters,
        next_cursor=encode_cursor(leads[-1], filters.sort) if more else None,
    )


@dataclass
class Detail:
    output: Output
    lead: Lead
    row: dict
    internal: dict  # label -> internal text (only non-empty ones)
    tasks: list = field(default_factory=list)
    approvals: list = field(default_factory=list)
    proposals: list = field(default_factory=list)


def detail(session: Session, slug: str, lead_id: int) -> Detail | None:
    """One opportunity as `slug`'s row, with its internal caveats apart (None: no such lead).

    The row is computed for any lead, in the list or not (a lead not yet at that point shows "none").
    """
    output = OUTPUTS[slug]
    lead = session.execute(
        sa.select(Lead).options(joinedload(Lead.owner)).where(Lead.id == lead_id)
    ).scalar_one_or_none()
    if lead is None:
        return None
    needs = tuple(dict.fromkeys(output.needs + ("proposals", "approvals")))
    ctx = load(session, [lead], needs)
    internal = {k: v for k, v in output.internal(lead, ctx).items() if v and str(v).strip()}
    tasks = lead_tasks(session, lead.id) if slug in ("onboarding-checklist", "contract-handoff") else []
    return Detail(
        output=output,
        lead=lead,
        row=row(output, lead, ctx),
        internal=internal,
        tasks=tasks,
        approvals=ctx.approvals.get(lead.id, []),
        proposals=ctx.proposals.get(lead.id, []),
    )
