"""Every promise cites its proof: the claims a proposal makes and the audit evidence each rests on.

A proposal's claims are its expected improvement, its timeline, and every scope item marked as
promising an outcome. Each cites one or more evidence items of the lead's latest completed audit
(zarts.models.ClaimCitation). Reads only (no writes): parts.py appends the evidence to the approval
content of a claim, so the approver approves the pair; zarts.domain.citations changes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..models import ClaimCitation, EvidenceItem, Proposal
from ..models.vocab import CLAIM_KIND_LABELS

UNCITED = "Cite the finding or baseline this claim rests on"


@dataclass(frozen=True)
class Claim:
    kind: str  # expected_improvement | timeline | item
    item_id: int | None
    label: str  # how staff name it: "Expected improvement", "Scope: Landing page rebuild"
    text: str  # the claim as the client reads it

    @property
    def key(self) -> str:
        return f"item:{self.item_id}" if self.kind == "item" else self.kind


def _text(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def claims_of(proposal: Proposal) -> list[Claim]:
    """The claims of a proposal, in the order the client reads them."""
    out = []
    for kind in ("expected_improvement", "timeline"):
        text = _text(getattr(proposal, kind))
        if text:
            out.append(Claim(kind, None, CLAIM_KIND_LABELS[kind], text))
    for item in sorted(proposal.items, key=lambda i: i.position):
        if item.promises_outcome and item.id is not None:
            text = item.title + (f" — {item.description}" if item.description else "")
            out.append(Claim("item", item.id, f"Scope: {item.title}", text))
    return out


def citations_of(proposal: Proposal, claim: Claim) -> list[ClaimCitation]:
    return [
        c
        for c in proposal.citations
        if c.claim_kind == claim.kind and (claim.kind != "item" or c.item_id == claim.item_id)
    ]


def uncited(proposal: Proposal, audit_id: int | None = None) -> list[Claim]:
    """The claims that cite nothing (with `audit_id`, the lead's latest completed audit: nothing of
    it; evidence an audit version corrected no longer counts). None of them may go to approval."""
    return [
        claim
        for claim in claims_of(proposal)
        if not any(
            audit_id is None or c.evidence_item.audit_id == audit_id for c in citations_of(proposal, claim)
        )
    ]


def refusal(claim: Claim) -> str:
    return f"{UNCITED}: {claim.label}."


def number(value: Decimal | None) -> str | None:
    """84.0000 -> "84", 12.5000 -> "12.5"."""
    if value is None:
        return None
    text = format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def figures(item: EvidenceItem) -> str | None:
    """A baseline's numbers ("cost per lead 84 EUR, Sep 2026"), a provider figure ("HubSpot: 120 leads")."""
    if item.kind == "baseline":
        value = " ".join(filter(None, (number(item.value), item.unit)))
        return ", ".join(filter(None, (" ".join(filter(None, (item.metric, value))), item.period))) or None
    if item.kind == "provider_data" and item.excerpt:
        return f"{item.provider}: {item.excerpt}" if item.provider else item.excerpt
    return None


def evidence_line(citation: ClaimCitation) -> str:
    """One cited item as the approver backs it: audit, client-safe wording, numbers, target."""
    item = citation.evidence_item
    words = _text(item.client_text) or "(no client-safe wording yet)"
    parts = [f"audit #{item.audit_id} {item.kind.replace('_', ' ')}: {words}"]
    numbers = figures(item)
    if numbers:
        parts.append(f"[{numbers}]")
    if citation.target_value is not None:
        parts.append(f"target {number(citation.target_value)}" + (f" {item.unit}" if item.unit else ""))
    return " ".join(parts)


def rests_on(proposal: Proposal, claim: Claim) -> str | None:
    """ "Rests on: …" for the approval content of a claim (None: it cites nothing)."""
    cited = sorted(citations_of(proposal, claim), key=lambda c: c.evidence_item_id)
    if not cited:
        return None
    return "Rests on: " + "; ".join(evidence_line(c) for c in cited)


def with_evidence(proposal: Proposal, kind: str, text: str | None) -> str | None:
    """A timeline or expected-improvement part with the evidence it rests on appended."""
    if text is None:
        return None
    proof = rests_on(proposal, Claim(kind, None, "", text))
    return f"{text}\n{proof}" if proof else text


def snapshot_claims(proposal: Proposal) -> list[dict]:
    """The claims as sent, frozen with the evidence shown: only approved client-safe wording (the
    ids stay for the promise ledger; a later audit version changes nothing here)."""
    out = []
    for claim in claims_of(proposal):
        evidence = []
        for c in sorted(citations_of(proposal, claim), key=lambda c: c.evidence_item_id):
            item = c.evidence_item
            shown = {
                "id": item.id,
                "kind": item.kind,
                "client_text": item.client_text.strip() if item.is_client_safe else None,
                "target_value": number(c.target_value),
            }
            if item.kind == "baseline":  # the numbers the approver backed with the claim (for the ledger)
                shown.update(
                    metric=item.metric,
                    value=number(item.value),
                    unit=item.unit,
                    period=item.period,
                    better=item.better,
                )
            evidence.append(shown)
        out.append(
            {
                "claim": claim.key,
                "kind": claim.kind,
                "item_id": claim.item_id,
                "text": claim.text,
                "evidence": evidence,
            }
        )
    return out
