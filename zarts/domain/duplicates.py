"""Likely duplicates of a lead or a client: same email, same company domain, same normalised name.

Reads only (zarts.models.keys keeps the match keys on every row, so each rule is one index probe).
Used by the create forms (a warning before saving), the import (skip / update / create per row) and
the merge screen. A merged record (merged_into_id set) is never offered again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Client, Lead
from ..models.keys import company_key, domain_of, email_domain, email_key

REASON_LABELS = {
    "email": "same contact email",
    "domain": "same email domain",
    "company": "same company name",
    "name": "same name",
}


@dataclass
class Match:
    record: object  # a Lead or a Client
    reasons: list[str] = field(default_factory=list)

    @property
    def why(self) -> str:
        return ", ".join(REASON_LABELS[r] for r in self.reasons)


def _rank(matches: dict[int, Match], order: tuple[str, ...], limit: int) -> list[Match]:
    def score(m: Match):
        return (min(order.index(r) for r in m.reasons), -len(m.reasons), -m.record.id)

    return sorted(matches.values(), key=score)[:limit]


def lead_duplicates(
    session: Session,
    *,
    company: str | None = None,
    contact_email: str | None = None,
    exclude_id: int | None = None,
    limit: int = 5,
) -> list[Match]:
    """Leads that look like the one described, best match first (email, then domain, then company)."""
    keys = {
        "email": email_key(contact_email),
        "domain": email_domain(contact_email),
        "company": company_key(company),
    }
    columns = {"email": Lead.email_key, "domain": Lead.email_domain, "company": Lead.company_key}
    matches: dict[int, Match] = {}
    for reason, value in keys.items():
        if not value:
            continue
        query = sa.select(Lead).where(columns[reason] == value, Lead.merged_into_id.is_(None))
        if exclude_id is not None:
            query = query.where(Lead.id != exclude_id)
        for lead in session.scalars(query.order_by(Lead.id.desc()).limit(limit)):
            matches.setdefault(lead.id, Match(lead)).reasons.append(reason)
    return _rank(matches, ("email", "domain", "company"), limit)


def client_duplicates(
    session: Session,
    *,
    name: str | None = None,
    domain: str | None = None,
    exclude_id: int | None = None,
    limit: int = 5,
) -> list[Match]:
    """Clients that look like the one described (same web domain, or same normalised name)."""
    keys = {"domain": domain_of(domain), "name": company_key(name)}
    columns = {"domain": Client.domain, "name": Client.name_key}
    matches: dict[int, Match] = {}
    for reason, value in keys.items():
        if not value:
            continue
        query = sa.select(Client).where(columns[reason] == value, Client.merged_into_id.is_(None))
        if exclude_id is not None:
            query = query.where(Client.id != exclude_id)
        for client in session.scalars(query.order_by(Client.id.desc()).limit(limit)):
            matches.setdefault(client.id, Match(client)).reasons.append(reason)
    return _rank(matches, ("domain", "name"), limit)
