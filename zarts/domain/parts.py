"""What a proposal says to the client, part by part: the exact content each approval backs, which
parts still lack an approval, and whether the scope is separated.

Reads only. The gates (zarts.domain.gates) and the proposal flow (zarts.domain.proposals) both ask
here, so neither imports the other's module for it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Approval, Proposal, ProposalItem
from ..models.vocab import APPROVAL_KIND_LABELS
from .claims import Claim, rests_on, with_evidence
from .errors import Missing


def _money(currency: str, cents: int | None) -> str:
    return f"{currency} {cents / 100:,.2f}" if cents is not None else "no price"


def _text(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def ordered_items(proposal: Proposal) -> list[ProposalItem]:
    """The scope in the order the client reads it (items added in this session may not be yet)."""
    return sorted(proposal.items, key=lambda i: i.position)


def _summary_part(p: Proposal) -> str:
    # The title is client-facing too (the portal's heading, the sent message): approved with the summary.
    return f"Title: {p.title}" + (f"\nSummary: {p.summary.strip()}" if _text(p.summary) else "")


def _scope_part(p: Proposal) -> str | None:
    lines = []
    for i in ordered_items(p):
        line = f"{i.kind.replace('_', '-').capitalize()}: {i.title}" + (
            f" — {i.description}" if i.description else ""
        )
        if i.promises_outcome:  # a promise: approved with the evidence it rests on (zarts.domain.claims)
            proof = rests_on(p, Claim("item", i.id, "", ""))
            line += "\n  Promises an outcome. " + (proof or "Rests on nothing yet.")
        lines.append(line)
    return "\n".join(lines) or None


def _pricing_part(p: Proposal) -> str | None:
    """The base price and every add-on with its price: each total the client can accept."""
    parts = [_money(p.currency, p.price_cents)] if p.price_cents is not None else []
    parts += [
        f"add-on: {i.title} {_money(p.currency, i.price_cents)}"
        for i in ordered_items(p)
        if i.kind == "add_on"
    ]
    return "; ".join(parts) or None


# Every client-facing part of a proposal and the exact content an approval of that kind backs
# (internal fields, pricing assumptions and notes, need none). Sending needs all of them approved.
APPROVAL_PARTS = {
    "summary": _summary_part,
    "scope": _scope_part,
    "pricing": _pricing_part,
    # A claim is approved with the evidence it cites: a change of either needs approval again.
    "timeline": lambda p: with_evidence(p, "timeline", _text(p.timeline)),
    "claim": lambda p: with_evidence(p, "expected_improvement", _text(p.expected_improvement)),
    "contract_language": lambda p: _text(p.contract_language),
}


def part_content(proposal: Proposal, kind: str) -> str | None:
    """The exact content an approval of `kind` backs, or None when the proposal has no such part."""
    return APPROVAL_PARTS[kind](proposal)


def unapproved_parts(
    session: Session, proposal: Proposal, approved: set[tuple[str, str]] | None = None
) -> list[tuple[str, str]]:
    """(kind, label) of every part the proposal carries that has no approval of its current content
    (`approved`: the (kind, content) of its approved parts, when the caller has them loaded)."""
    if approved is None:
        approved = {
            (a.kind, a.content)
            for a in session.execute(
                sa.select(Approval).where(Approval.proposal_id == proposal.id, Approval.state == "approved")
            ).scalars()
        }
    out = []
    for kind in APPROVAL_PARTS:
        content = part_content(proposal, kind)
        if content is not None and (kind, content) not in approved:
            out.append((kind, APPROVAL_KIND_LABELS[kind]))
    return out


def scope_missing(proposal: Proposal) -> list[Missing]:
    """Scope must be separated: included deliverables, excluded work and assumptions at least."""
    kinds = {item.kind for item in proposal.items}
    m = []
    for kind, label in (
        ("included", "included deliverables"),
        ("excluded", "excluded work"),
        ("assumption", "assumptions"),
    ):
        if kind not in kinds:
            m.append(Missing(f"scope_{kind}", f"Scope lists no {label}", "proposal"))
    return m
