"""Audit evidence as data: findings, baseline metrics and provider data, each with an internal raw
note and a client-safe wording that reaches a client only once an approver approved it.

Items change only while their audit is a draft: a completed audit's evidence is frozen (claims rest
on it). A correction is a new audit version (`new_audit_version`), a draft holding copies of the
items; once it is completed, the draft proposals' citations move to the copies, so their claims'
approval content changes and they need approval again (zarts.domain.parts).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Approval, Audit, ClaimCitation, EvidenceItem, Lead, Proposal, User
from ..models.vocab import BETTER, EVIDENCE_KINDS
from .approval_requests import request_approval
from .errors import Invalid
from .publication import clean_text, set_changed, supersede
from .trail import check_version, record_changes, record_event, require_lead_actor

ITEM_FIELDS = (
    "kind",
    "metric",
    "value",
    "unit",
    "period",
    "source",
    "better",
    "provider",
    "excerpt",
    "export_note",
    "raw_note",
    "client_text",
)
LIMITS = {"metric": 120, "unit": 40, "period": 60, "source": 200, "provider": 120, "export_note": 300}
MAX_VALUE = Decimal("1e13")
# Who works on audits: growth ops on their own leads (or unowned ones), delivery and admins on any
# (zarts.domain.audits reads it from here: audits complete, this module keeps their evidence).
AUDIT_ROLES = ("growth_ops", "delivery")
FROZEN = "The evidence of a completed audit is frozen. Start a new audit version to correct it."


def parse_value(raw, field: str = "value") -> Decimal | None:
    """A number as typed ("84", "1,250.5", "40 %"): None when blank; refused when it is not a number."""
    if raw is None or isinstance(raw, Decimal):
        return raw
    if isinstance(raw, (int, float)):
        return Decimal(str(raw))
    text = str(raw).replace(",", "").replace("%", "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise Invalid("Write the value as a number, such as 84 or 12.5.", field) from None
    if not value.is_finite() or abs(value) >= MAX_VALUE:
        raise Invalid("Write the value as a number, such as 84 or 12.5.", field)
    return value.quantize(Decimal("0.0001"))


def _clean(values: dict) -> dict:
    unknown = set(values) - set(ITEM_FIELDS)
    if unknown:
        raise Invalid(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    out = {}
    for name, raw in values.items():
        if name == "value":
            out[name] = parse_value(raw)
            continue
        value = clean_text(raw)
        if name in LIMITS and value and len(value) > LIMITS[name]:
            raise Invalid(f"Keep the {name.replace('_', ' ')} under {LIMITS[name]} characters.", name)
        out[name] = value
    if out.get("kind", "finding") not in EVIDENCE_KINDS:
        raise Invalid("Evidence is a finding, a baseline metric or provider data.", "kind")
    if out.get("better") not in (None, *BETTER):
        raise Invalid("Say whether higher or lower is better.", "better")
    return out


def _check_complete(item: EvidenceItem) -> None:
    """What each kind needs: a baseline its metric and value, provider data its provider and figure, a
    finding its words (internal or client-safe)."""
    if item.kind == "baseline":
        if not item.metric:
            raise Invalid("Name the metric of the baseline (e.g. cost per lead).", "metric")
        if item.value is None:
            raise Invalid("Give the baseline's value.", "value")
    elif item.kind == "provider_data":
        if not item.provider:
            raise Invalid("Name the provider the data comes from.", "provider")
        if not (item.excerpt or item.export_note):
            raise Invalid("Give the figure or excerpt, or note the export it comes from.", "excerpt")
    elif not (item.raw_note or item.client_text):
        raise Invalid("Write the finding.", "raw_note")


def _draft_audit(session: Session, audit: Audit, actor: User, action: str) -> Lead:
    lead = session.get(Lead, audit.lead_id)
    require_lead_actor(actor, lead, *AUDIT_ROLES, action=action)
    if audit.status != "draft":
        raise Invalid(FROZEN, "audit")
    return lead


def add_item(
    session: Session, audit: Audit, actor: User, *, via: str | None = None, **values
) -> EvidenceItem:
    """Add a piece of evidence to a draft audit (at the end), recorded on the lead's timeline."""
    lead = _draft_audit(session, audit, actor, "edit audits")
    clean = _clean({"kind": values.pop("kind", None) or "finding", **values})
    last = session.scalar(
        sa.select(sa.func.max(EvidenceItem.position)).where(EvidenceItem.audit_id == audit.id)
    )
    item = EvidenceItem(
        audit_id=audit.id, position=(last if last is not None else -1) + 1, client_safe_status="none"
    )
    before = set_changed(item, clean)
    _check_complete(item)
    session.add(item)
    session.flush()
    record_changes(session, lead, actor, item, dict.fromkeys(before), via=via)
    return item


def update_item(
    session: Session,
    item: EvidenceItem,
    actor: User,
    expected_version: int | None,
    *,
    via: str | None = None,
    **values,
) -> EvidenceItem:
    """Change a piece of evidence of a draft audit. A changed client text needs approval again."""
    audit = session.get(Audit, item.audit_id)
    lead = _draft_audit(session, audit, actor, "edit audits")
    check_version(item, expected_version, "This evidence")
    before = set_changed(item, _clean(values))
    _check_complete(item)
    if "client_text" in before:
        item.client_safe_status = "none"
        supersede(session, Approval.evidence_item_id == item.id)
    record_changes(session, lead, actor, item, before, via=via)
    session.flush()
    return item


def remove_item(session: Session, item: EvidenceItem, actor: User, *, via: str | None = None) -> None:
    """Take a piece of evidence off a draft audit (nothing can cite a draft's evidence yet)."""
    audit = session.get(Audit, item.audit_id)
    lead = _draft_audit(session, audit, actor, "edit audits")
    supersede(session, Approval.evidence_item_id == item.id)
    for approval in session.scalars(sa.select(Approval).where(Approval.evidence_item_id == item.id)):
        session.delete(approval)  # withdrawn requests of words that are gone
    record_event(
        session,
        lead,
        "fields_changed",
        actor,
        table="evidence_items",
        row=item.id,
        deleted=True,
        changes=[{"field": "kind", "old": item.kind, "new": None}],
        via=via,
    )
    session.delete(item)
    session.flush()


def request_item_approval(session: Session, item: EvidenceItem, actor: User) -> Approval:
    """Route a piece of evidence's client-safe wording to an approver; only approved words reach a client."""
    audit = session.get(Audit, item.audit_id)
    lead = session.get(Lead, audit.lead_id)
    require_lead_actor(actor, lead, *AUDIT_ROLES, action="ask for approval of evidence wording")
    if not (item.client_text or "").strip():
        raise Invalid("Write the client-safe wording first.", "client_text")
    approval = request_approval(
        session, actor, kind="client_summary", content=item.client_text.strip(), lead=lead, evidence_item=item
    )
    if approval.state == "pending":
        item.client_safe_status = "pending"
    session.flush()
    return approval


def new_audit_version(session: Session, audit: Audit, actor: User) -> Audit:
    """Correct a completed audit: a new draft audit (previous_id) holding a copy of every item, its
    texts and summary. Complete it to make it the evidence; claims citing the old items then need
    approval again."""
    lead = session.get(Lead, audit.lead_id)
    require_lead_actor(actor, lead, *AUDIT_ROLES, action="start audits")
    if audit.status != "completed":
        raise Invalid("Only a completed audit gets a new version: edit the draft itself.", "audit")
    if session.scalar(sa.select(Audit.id).where(Audit.lead_id == lead.id, Audit.status == "draft").limit(1)):
        raise Invalid("This opportunity already has an audit in draft: finish that one.", "audit")
    copy = Audit(
        lead_id=lead.id,
        status="draft",
        previous_id=audit.id,
        findings=audit.findings,
        baseline_figures=audit.baseline_figures,
        raw_notes=audit.raw_notes,
        provider_caveats=audit.provider_caveats,
        client_summary=audit.client_summary,
        client_summary_status="none",
    )
    session.add(copy)
    session.flush()
    items = session.scalars(
        sa.select(EvidenceItem)
        .where(EvidenceItem.audit_id == audit.id)
        .order_by(EvidenceItem.position, EvidenceItem.id)
    ).all()
    for item in items:
        session.add(
            EvidenceItem(
                audit_id=copy.id,
                copied_from_id=item.id,
                position=item.position,
                client_safe_status="none",
                **{name: getattr(item, name) for name in ITEM_FIELDS},
            )
        )
    record_changes(session, lead, actor, copy, {"previous_id": None}, via=None)
    session.flush()
    return copy


def carry_citations(session: Session, audit: Audit) -> int:
    """A new audit version was completed: the draft proposals of the lead that cite items of an
    earlier version now cite the copies (a copy removed in the new version takes its citations
    with it: the claim must cite again). Returns how many citations moved or went."""
    if audit.previous_id is None:
        return 0
    copies = dict(
        session.execute(
            sa.select(EvidenceItem.copied_from_id, EvidenceItem.id).where(
                EvidenceItem.audit_id == audit.id, EvidenceItem.copied_from_id.is_not(None)
            )
        ).all()
    )
    older = (
        sa.select(EvidenceItem.id)
        .join(Audit, Audit.id == EvidenceItem.audit_id)
        .where(Audit.lead_id == audit.lead_id, Audit.id != audit.id)
    )
    rows = session.scalars(
        sa.select(ClaimCitation)
        .join(Proposal, Proposal.id == ClaimCitation.proposal_id)
        .where(
            Proposal.lead_id == audit.lead_id,
            Proposal.status == "draft",
            ClaimCitation.evidence_item_id.in_(older),
        )
    ).all()
    for citation in rows:
        new_id = _newest_copy(copies, citation.evidence_item_id, session)
        if new_id is None:
            session.delete(citation)
        else:
            citation.evidence_item_id = new_id
    session.flush()
    return len(rows)


def _newest_copy(copies: dict[int, int], item_id: int, session: Session) -> int | None:
    """The copy in the new version of `item_id` (an item of any older version, copied along the chain)."""
    seen = set()
    while item_id not in copies and item_id not in seen:
        seen.add(item_id)
        found = session.scalar(
            sa.select(EvidenceItem.id)
            .where(EvidenceItem.copied_from_id == item_id)
            .order_by(EvidenceItem.id.desc())
            .limit(1)
        )
        if found is None:
            return None
        item_id = found
    return copies.get(item_id)
