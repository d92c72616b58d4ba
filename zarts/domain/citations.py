"""Citing evidence: which audit evidence each claim of a draft proposal rests on, and which scope
items promise an outcome. A change re-opens the approval of every part whose content it changes
(the content of a claim includes its evidence: zarts.domain.parts)."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Approval, ClaimCitation, EvidenceItem, Proposal, User, utcnow
from . import gates
from .approval_requests import withdraw
from .claims import claims_of
from .errors import Invalid
from .evidence import parse_value
from .parts import part_content
from .trail import check_version, record_event, require_lead_actor

FROZEN = (
    "This proposal was sent and is frozen: what the client saw stays as it was. "
    "Revise it to make a new version."
)


def cite(
    session: Session,
    proposal: Proposal,
    actor: User,
    expected_version: int | None,
    citations: dict[str, Iterable[int]],
    *,
    promising: Iterable[int] | None = None,
    targets: dict[tuple[str, int], object] | None = None,
    via: str | None = None,
) -> Proposal:
    """Set the evidence the claims of a draft cite: `citations` maps a claim ("expected_improvement",
    "timeline", "item:<id>") to evidence item ids of the lead's latest completed audit (claims not
    named keep theirs); `promising`, when given, is every scope item id that promises an outcome;
    `targets` the number a claim promises for a cited baseline ((claim, evidence id) -> value).

    Refuses evidence of another lead or of an older audit version, a claim the proposal does not
    make, and any change to a sent version."""
    lead = proposal.lead
    require_lead_actor(actor, lead, action="cite evidence")
    if lead.is_paused:
        raise Invalid(f"The opportunity is paused ({lead.pause_reason}): resume it first.", "lead")
    check_version(proposal, expected_version, "This proposal")
    if proposal.status != "draft":
        raise Invalid(FROZEN, "proposal")
    before = {
        c.claim: sorted(x.evidence_item_id for x in proposal.citations if x.claim == c.claim)
        for c in proposal.citations
    }
    if promising is not None:
        _set_promising(proposal, {int(i) for i in promising})
    audit = gates.completed_audit(session, lead.id)
    allowed = (
        set()
        if audit is None
        else set(session.scalars(sa.select(EvidenceItem.id).where(EvidenceItem.audit_id == audit.id)))
    )
    keys = {claim.key for claim in claims_of(proposal)}
    wanted = {}
    for key, ids in citations.items():
        if key not in keys:
            raise Invalid(
                "This proposal makes no such claim: write it (or mark the item as a promise) first.", key
            )
        ids = sorted({int(i) for i in ids})
        if set(ids) - allowed:
            raise Invalid("Cite evidence of this opportunity's latest completed audit.", key)
        wanted[key] = ids
    targets = {(k, int(e)): parse_value(v, "target_value") for (k, e), v in (targets or {}).items()}
    for citation in list(proposal.citations):
        if citation.claim not in keys or citation.claim in wanted:
            proposal.citations.remove(citation)  # delete-orphan
    session.flush()
    for key, ids in wanted.items():
        kind, _, item = key.partition(":")
        for evidence_id in ids:
            proposal.citations.append(
                ClaimCitation(
                    claim_kind=kind,
                    item_id=int(item) if item else None,
                    evidence_item_id=evidence_id,
                    target_value=targets.get((key, evidence_id)),
                )
            )
    session.flush()
    session.expire(proposal, ["citations"])
    after = {
        c.claim: sorted(x.evidence_item_id for x in proposal.citations if x.claim == c.claim)
        for c in proposal.citations
    }
    changes = [
        {"field": key, "old": before.get(key), "new": after.get(key)}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]
    if changes or promising is not None:
        proposal.updated_at = utcnow()  # a new row version: a form opened on the old citations is stale
        supersede_stale(session, proposal)
    if changes:
        record_event(
            session,
            lead,
            "fields_changed",
            actor,
            table="claim_citations",
            row=proposal.id,
            changes=changes,
            via=via,
        )
    session.flush()
    return proposal


def _set_promising(proposal: Proposal, ids: set[int]) -> None:
    known = {item.id for item in proposal.items}
    if ids - known:
        raise Invalid("Mark items of this proposal only.", "promising")
    for item in proposal.items:
        item.promises_outcome = item.id in ids


def supersede_stale(session: Session, proposal: Proposal) -> None:
    """An approval whose content is no longer the proposal's part is withdrawn: that part is asked again."""
    for approval in session.scalars(
        sa.select(Approval).where(
            Approval.proposal_id == proposal.id, Approval.state.in_(("pending", "approved"))
        )
    ):
        if part_content(proposal, approval.kind) != approval.content:
            withdraw(session, approval)


# ---------------------------------------------------------------- kept across scope edits and versions


def item_claims(proposal: Proposal) -> dict[tuple[str, str], list[tuple[int, object]]]:
    """The promising items of a proposal by (kind, title) with what they cite, before its scope is
    replaced (the rows of the old scope go; their promises are restored on the new rows)."""
    out = {}
    for item in proposal.items:
        if item.promises_outcome:
            out[(item.kind, item.title)] = [
                (c.evidence_item_id, c.target_value) for c in proposal.citations if c.item_id == item.id
            ]
    for citation in [c for c in proposal.citations if c.claim_kind == "item"]:
        proposal.citations.remove(citation)
    return out


def restore_item_claims(
    session: Session, proposal: Proposal, kept: dict[tuple[str, str], list[tuple[int, object]]]
) -> None:
    if not kept:
        return
    session.flush()  # the new items' ids
    for item in proposal.items:
        cited = kept.get((item.kind, item.title))
        if cited is None:
            continue
        item.promises_outcome = True
        for evidence_id, target in cited:
            proposal.citations.append(
                ClaimCitation(
                    claim_kind="item", item_id=item.id, evidence_item_id=evidence_id, target_value=target
                )
            )


def copy_claims(session: Session, sent: Proposal, copy: Proposal) -> None:
    """A new version keeps the promises and citations of the version it revises (items matched by
    position), citing the newest copy of each item if the audit got a new version since."""
    by_position = {i.position: i for i in copy.items}
    item_map = {}
    for old in sent.items:
        new = by_position.get(old.position)
        if new is not None:
            new.promises_outcome = old.promises_outcome
            item_map[old.id] = new.id
    audit = gates.completed_audit(session, copy.lead_id)
    current = (
        {}
        if audit is None
        else {
            (row.copied_from_id or row.id): row.id
            for row in session.scalars(sa.select(EvidenceItem).where(EvidenceItem.audit_id == audit.id))
        }
    )
    current.update({v: v for v in list(current.values())})
    for c in sent.citations:
        if c.claim_kind == "item" and c.item_id not in item_map:
            continue
        evidence_id = current.get(c.evidence_item_id, c.evidence_item_id)
        copy.citations.append(
            ClaimCitation(
                claim_kind=c.claim_kind,
                item_id=item_map.get(c.item_id),
                evidence_item_id=evidence_id,
                target_value=c.target_value,
            )
        )
    session.flush()
