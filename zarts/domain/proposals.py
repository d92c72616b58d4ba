"""Proposals: drafted from audit evidence, scope typed and separated, everything the client reads
approved, frozen when sent, versioned on any later change, and tracked (viewed, objection, forecast,
decision)."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Approval, Client, Contract, Event, Lead, Proposal, ProposalItem, User, today, utcnow
from ..models.vocab import ITEM_KINDS
from . import citations, claims, gates
from .approval_requests import request_approval, withdraw
from .parts import (  # noqa: F401 (part of this module's API since before parts.py)
    APPROVAL_PARTS,
    _money,
    _text,
    ordered_items,
    part_content,
    scope_missing,
    unapproved_parts,
)
from .errors import Forbidden, GateRefused, Invalid, Missing
from .messaging import ensure_client_contact, log_message, render_message
from .notifications import notify
from .trail import (
    check_version,
    close_next_action_task,
    ensure_task,
    record_changes,
    record_event,
    require_lead_actor,
    snapshot_fields,
)

FROZEN = (
    "This proposal was sent and is frozen: what the client saw stays as it was. "
    "Revise it to make a new version."
)
EVIDENCE_FIELDS = {"price_cents", "timeline", "expected_improvement"}
TEXT_FIELDS = {
    "title",
    "summary",
    "timeline",
    "expected_improvement",
    "contract_language",
    "pricing_assumptions",
    "internal_notes",
    "currency",
}
MAX_CENTS = 10**12
ITEM_FIELDS = ("kind", "title", "description", "price_cents")  # what a scope item says to the client
ITEM_TRACKED = (*ITEM_FIELDS, "position")


def _require_evidence(session: Session, lead: Lead) -> None:
    missing = gates.proposal(session, lead)
    if missing:
        raise GateRefused("proposal", missing)


def _clean_item(raw: dict) -> dict:
    kind = raw.get("kind")
    title = (raw.get("title") or "").strip()
    if kind not in ITEM_KINDS:
        raise Invalid(
            "Each scope item needs a type: included, excluded, add-on, assumption or dependency.", "items"
        )
    if not title:
        raise Invalid("Each scope item needs a title.", "items")
    price = raw.get("price_cents")
    if price is not None and (not isinstance(price, int) or not 0 <= price <= MAX_CENTS):
        raise Invalid("An add-on price must be a positive amount.", "items")
    return {
        "kind": kind,
        "title": title[:300],
        "description": _text(raw.get("description")),
        "price_cents": price if kind == "add_on" else None,
    }


def _clean_items(items) -> list[dict]:
    return [{**_clean_item(raw), "position": pos} for pos, raw in enumerate(items or [])]


def _clean_fields(fields: dict) -> dict:
    """The fields as they are stored (text trimmed with plain newlines, currency upper case), checked."""
    out = {}
    for name, value in fields.items():
        if name == "price_cents":
            if value is not None and (not isinstance(value, int) or not 0 <= value <= MAX_CENTS):
                raise Invalid("Price must be a positive amount.", "price_cents")
        elif name in TEXT_FIELDS:
            value = value.replace("\r\n", "\n").strip() or None if isinstance(value, str) else value
            if name == "title" and not value:
                raise Invalid("The proposal needs a title.", "title")
            if name == "currency":
                value = (value or "EUR").upper()
                if len(value) != 3 or not value.isascii() or not value.isalpha():
                    raise Invalid("Currency is a three-letter code such as EUR.", "currency")
        elif name not in ("follow_up_date", "decision_deadline"):
            raise Invalid(f"“{name}” cannot be changed on a proposal.", name)
        out[name] = value
    return out


def _may_work_on(lead: Lead, actor: User, action: str) -> None:
    """Proposal work (draft, revise, approvals, send) is the lead owner's, and stops while it is paused."""
    require_lead_actor(actor, lead, action=action)
    if lead.is_paused:
        raise Invalid(f"The opportunity is paused ({lead.pause_reason}): resume it first.", "lead")


def draft_proposal(session: Session, lead: Lead, actor: User, *, title: str, items=(), **fields) -> Proposal:
    """Start version 1 for an open lead. Scope, price, timeline and claims need a completed audit."""
    _may_work_on(lead, actor, "draft proposals")
    if not lead.is_open:
        raise Invalid("Proposals are drafted for open opportunities only.", "lead")
    _require_evidence(session, lead)
    if session.execute(sa.select(Proposal.id).where(Proposal.lead_id == lead.id).limit(1)).first():
        raise Invalid("This opportunity already has a proposal: revise it instead.", "lead")
    audit = gates.completed_audit(session, lead.id)
    proposal = Proposal(
        lead_id=lead.id,
        number=1,
        service=lead.service,
        client_id=lead.client_id,
        audit_id=audit.id,
        **_clean_fields({"title": title, **fields}),
    )
    proposal.items = [ProposalItem(**i) for i in _clean_items(items)]
    session.add(proposal)
    session.flush()
    _value_to_lead(lead, proposal)
    record_event(session, lead, "proposal_drafted", actor, proposal_id=proposal.id, number=1)
    session.flush()
    return proposal


def revise_proposal(
    session: Session,
    proposal: Proposal,
    actor: User,
    expected_version: int | None,
    *,
    items=None,
    via: str | None = None,
    **fields,
) -> Proposal:
    """Change a proposal. A draft changes in place; a sent one is frozen, so a new version is made.

    Only what differs counts (saving an unchanged form makes no new version); the changed fields are
    a change record on the lead's timeline (`via`: where, e.g. "admin"). Approvals cover exact
    content: a changed part needs approval again. Accepted or declined proposals no longer change.
    """
    lead = proposal.lead
    _may_work_on(lead, actor, "revise proposals")
    check_version(proposal, expected_version, "This proposal")
    if proposal.status in ("accepted", "declined", "superseded"):
        raise Invalid(f"A {proposal.status} proposal cannot be changed.")
    latest = gates.latest_proposal(session, lead.id)
    if latest.id != proposal.id:
        raise Invalid("A newer version of this proposal exists: revise that one.")
    changes = {
        name: value for name, value in _clean_fields(fields).items() if getattr(proposal, name) != value
    }
    new_items = None if items is None else _clean_items(items)
    if new_items is not None and [tuple(i[f] for f in ITEM_FIELDS) for i in new_items] == _scope_of(proposal):
        new_items = None  # the same scope (renumbered at most)
    if not changes and new_items is None:
        return proposal
    if EVIDENCE_FIELDS & set(changes) or new_items:
        _require_evidence(session, lead)
    before = snapshot_fields(proposal, changes)
    target = proposal if proposal.status == "draft" else _new_version(session, proposal, actor)
    for name, value in changes.items():
        setattr(target, name, value)
    if new_items is not None:
        kept = citations.item_claims(target)  # promises survive a scope edit (matched by kind and title)
        target.items = [ProposalItem(**i) for i in new_items]
        citations.restore_item_claims(session, target, kept)
        _touch(target)
    if {"price_cents", "currency"} & set(changes):
        _value_to_lead(lead, target)
    _supersede_stale_approvals(session, target)
    session.flush()
    record_changes(session, lead, actor, target, before, via=via)
    return target


def _value_to_lead(lead: Lead, proposal: Proposal, add_on_ids=()) -> None:
    """The lead's value follows its current proposal: the price (plus the add-ons accepted), in the
    proposal's currency. A proposal without a price leaves the lead's own estimate alone."""
    if proposal.price_cents is None:
        return
    chosen = set(add_on_ids)
    items = (proposal.snapshot or {}).get("items", []) if chosen else []
    total = proposal.price_cents + sum(
        i.get("price_cents") or 0 for i in items if i.get("kind") == "add_on" and i.get("id") in chosen
    )
    currency = (proposal.currency or "EUR").upper()
    if (lead.value_cents, lead.currency) != (total, currency):
        lead.value_cents, lead.currency = total, currency


def _scope_of(proposal: Proposal) -> list[tuple]:
    """What the client reads of the scope, in order (positions aside)."""
    return [tuple(getattr(i, f) for f in ITEM_FIELDS) for i in ordered_items(proposal)]


def _touch(proposal: Proposal) -> None:
    """Its scope changed: a new row version, so a form opened on the old scope is refused as stale."""
    proposal.updated_at = utcnow()


def _draft_scope(proposal: Proposal, actor: User) -> None:
    """Scope items change one by one only on a draft; a sent proposal's are what the client saw."""
    _may_work_on(proposal.lead, actor, "change scope items")
    if proposal.status != "draft":
        raise Invalid(FROZEN, "proposal")


def save_item(
    session: Session,
    proposal: Proposal,
    actor: User,
    item: ProposalItem | None = None,
    *,
    position: int | None = None,
    via: str | None = None,
    **values,
) -> ProposalItem:
    """Add a scope item to a draft (`item` None; at the end unless `position` says) or change one,
    with a change record on the lead's timeline.

    The scope and pricing approvals no longer cover the new scope, so they are superseded.
    """
    _draft_scope(proposal, actor)
    _require_evidence(session, proposal.lead)  # what the scope promises rests on the audit
    if item is not None and item.proposal_id != proposal.id:
        raise Invalid("This item belongs to another proposal.", "proposal")
    if position is not None and not 0 <= position <= 10_000:
        raise Invalid("Position is a number from 0 to 10000.", "position")
    clean = _clean_item(values)
    before = dict.fromkeys(ITEM_TRACKED) if item is None else snapshot_fields(item, ITEM_TRACKED)
    if item is None:
        last = max((i.position for i in proposal.items), default=-1)
        item = ProposalItem(**clean, position=last + 1 if position is None else position)
        proposal.items.append(item)
    else:
        for name, value in clean.items():
            setattr(item, name, value)
        if position is not None:
            item.position = position
    _touch(proposal)
    _supersede_stale_approvals(session, proposal)
    session.flush()
    record_changes(session, proposal.lead, actor, item, before, via=via)
    return item


def remove_item(session: Session, item: ProposalItem, actor: User, *, via: str | None = None) -> ProposalItem:
    """Take a scope item off a draft (on the lead's timeline); scope and pricing approvals are superseded."""
    proposal = item.proposal
    _draft_scope(proposal, actor)
    record_event(
        session,
        proposal.lead,
        "fields_changed",
        actor,
        table="proposal_items",
        row=item.id,
        deleted=True,
        changes=[{"field": "title", "old": item.title, "new": None}],
        via=via,
    )
    for citation in [c for c in proposal.citations if c.item_id == item.id]:
        proposal.citations.remove(citation)  # the promise goes with its item
    proposal.items.remove(item)  # delete-orphan: the row goes
    _touch(proposal)
    _supersede_stale_approvals(session, proposal)
    session.flush()
    return item


def _new_version(session: Session, sent: Proposal, actor: User) -> Proposal:
    copy = Proposal(
        lead_id=sent.lead_id,
        number=sent.number + 1,
        previous_id=sent.id,
        client_id=sent.client_id,
        project_id=sent.project_id,
        audit_id=sent.audit_id,
        service=sent.service,
        title=sent.title,
        summary=sent.summary,
        price_cents=sent.price_cents,
        currency=sent.currency,
        timeline=sent.timeline,
        expected_improvement=sent.expected_improvement,
        contract_language=sent.contract_language,
        pricing_assumptions=sent.pricing_assumptions,
        internal_notes=sent.internal_notes,
        follow_up_date=None,
        decision_deadline=sent.decision_deadline,
        probability=sent.probability,
    )
    copy.items = [
        ProposalItem(
            kind=i.kind,
            title=i.title,
            description=i.description,
            price_cents=i.price_cents,
            position=i.position,
        )
        for i in sent.items
    ]
    session.add(copy)
    session.flush()
    citations.copy_claims(session, sent, copy)  # the promises and the evidence they rest on
    record_event(
        session,
        sent.lead,
        "proposal_revised",
        actor,
        proposal_id=copy.id,
        number=copy.number,
        previous_id=sent.id,
    )
    return copy


def _supersede_stale_approvals(session: Session, proposal: Proposal) -> None:
    """An approval whose content is no longer the proposal's part is withdrawn: that part is asked again."""
    for approval in session.execute(
        sa.select(Approval).where(
            Approval.proposal_id == proposal.id, Approval.state.in_(("pending", "approved"))
        )
    ).scalars():
        if part_content(proposal, approval.kind) != approval.content:
            withdraw(session, approval)


def request_approvals(session: Session, proposal: Proposal, actor: User) -> list[Approval]:
    """Route each client-facing part not yet approved in its current wording to an approver."""
    _may_work_on(proposal.lead, actor, "request approvals")
    if proposal.status != "draft":
        raise Invalid("Only a draft is sent for approval; revise the proposal to change it.")
    audit = gates.completed_audit(session, proposal.lead_id)
    for claim in claims.uncited(proposal, audit.id if audit else None):
        raise Invalid(claims.refusal(claim), claim.key)  # every promise cites its proof
    parts = unapproved_parts(session, proposal)
    if not parts:
        raise Invalid("Nothing needs approval: every part the client reads is approved.")
    return [
        request_approval(
            session,
            actor,
            kind=kind,
            content=part_content(proposal, kind),
            lead=proposal.lead,
            proposal=proposal,
        )
        for kind, _ in parts
    ]


def snapshot(proposal: Proposal) -> dict:
    """The frozen, client-facing content of a sent version (no internal fields)."""
    return {
        "number": proposal.number,
        "title": proposal.title,
        "summary": proposal.summary,
        "service": proposal.service,
        "price_cents": proposal.price_cents,
        "currency": proposal.currency,
        "timeline": proposal.timeline,
        "expected_improvement": proposal.expected_improvement,
        "contract_language": proposal.contract_language,
        "decision_deadline": proposal.decision_deadline.isoformat() if proposal.decision_deadline else None,
        "items": [
            {
                "id": i.id,
                "kind": i.kind,
                "title": i.title,
                "description": i.description,
                "price_cents": i.price_cents,
            }
            for i in ordered_items(proposal)
        ],
        # Each promise with the evidence shown beside it, frozen (approved client-safe wording only).
        "claims": claims.snapshot_claims(proposal),
    }


def send_proposal(
    session: Session,
    proposal: Proposal,
    actor: User,
    expected_version: int | None,
    *,
    follow_up_date: date | None,
    decision_deadline: date | None,
    message: str | None = None,
) -> Proposal:
    """Send a draft: scope separated, every client-facing part approved, follow-up and decision dates set.

    Freezes the snapshot, logs the message, creates the follow-up task, supersedes the earlier
    sent version and moves the lead from proposal to contract.
    """
    lead = proposal.lead
    _may_work_on(lead, actor, "send proposals")
    check_version(proposal, expected_version, "This proposal")
    if proposal.status != "draft":
        raise Invalid("This version was already sent; revise it to make a new version.")
    missing = scope_missing(proposal)
    missing += [
        Missing(f"approval_{k}", f"{label} is not approved", "approval")
        for k, label in unapproved_parts(session, proposal)
    ]
    if lead.stage not in ("proposal", "contract"):
        missing.append(Missing("stage", "The opportunity must be at the proposal stage", "proposal"))
    if lead.consent != "granted":
        missing.append(Missing("consent", "Consent to contact is not confirmed", "qualification"))
    if not lead.contact_email:
        missing.append(Missing("contact_email", "The contact has no email address", "qualification"))
    if follow_up_date is None or follow_up_date < today():
        missing.append(Missing("follow_up_date", "Follow-up date (today or later) is missing", "proposal"))
    if decision_deadline is None or decision_deadline <= today():
        missing.append(Missing("decision_deadline", "Decision deadline in the future is missing", "proposal"))
    if missing:
        raise GateRefused("contract", missing)

    now = utcnow()
    proposal.follow_up_date, proposal.decision_deadline = follow_up_date, decision_deadline
    proposal.snapshot = snapshot(proposal)
    proposal.status, proposal.sent_at = "sent", now
    for older in session.execute(
        sa.select(Proposal).where(
            Proposal.lead_id == lead.id, Proposal.id != proposal.id, Proposal.status == "sent"
        )
    ).scalars():
        older.status = "superseded"
    client = ensure_client(session, lead)
    proposal.client_id = client.id
    ensure_client_contact(session, client, email=lead.contact_email, name=lead.contact_name, lead=lead)
    subject, body = render_message(
        "proposal_sent", proposal=proposal, lead=lead, sender=actor, note=(message or "").strip()
    )
    msg = log_message(
        session,
        subject=subject,
        body=body,
        lead_id=lead.id,
        client_id=client.id,
        to_email=lead.contact_email,
        client_visible=True,
        author_id=actor.id,
        key=f"proposal:{proposal.id}:sent",
    )
    proposal.sent_message_id = msg.id
    ensure_task(
        session,
        key=f"proposal:{proposal.id}:follow_up",
        kind="follow_up",
        title=f"Follow up on proposal v{proposal.number} with {lead.company}",
        owner_id=lead.owner_id or actor.id,
        due=follow_up_date,
        lead_id=lead.id,
    )
    lead.decision_deadline = decision_deadline
    lead.next_action = f"Follow up on proposal v{proposal.number}"
    lead.next_action_due = follow_up_date
    close_next_action_task(session, lead, actor, "the proposal's follow-up task carries the next action")
    from_stage = lead.stage
    if lead.stage == "proposal":
        lead.stage = "contract"
        lead.probability = max(lead.probability or 0, 60)
    proposal.probability = lead.probability  # one forecast: the lead's, as it is after the send
    record_event(
        session,
        lead,
        "proposal_sent",
        actor,
        proposal_id=proposal.id,
        number=proposal.number,
        follow_up_date=follow_up_date,
        decision_deadline=decision_deadline,
    )
    if from_stage != lead.stage:
        record_event(session, lead, "stage_moved", actor, from_stage=from_stage, to_stage=lead.stage)
    session.flush()
    return proposal


def ensure_client(session: Session, lead: Lead, status: str = "prospect") -> Client:
    """The organisation behind the lead: linked if known, else created (once) with `status`."""
    if lead.client_id is not None:
        return session.get(Client, lead.client_id)
    client = Client(name=lead.company, status=status, owner_id=lead.owner_id)
    session.add(client)
    session.flush()
    lead.client_id = client.id
    return client


def record_view(session: Session, proposal: Proposal, viewer: User) -> bool:
    """The first time the client opens a sent version: viewed date and an event. Later opens: nothing."""
    if proposal.viewed_at is not None or proposal.status not in ("sent", "accepted", "declined"):
        return False
    proposal.viewed_at = utcnow()
    record_event(
        session, proposal.lead, "proposal_viewed", viewer, proposal_id=proposal.id, number=proposal.number
    )
    notify(session, "proposal_viewed", proposal.id, proposal.lead.owner_id, proposal_id=proposal.id)
    session.flush()
    return True


OBJECTION_LIMIT = 2000


def record_objection(
    session: Session, proposal: Proposal, actor: User, expected_version: int | None, objection: str
) -> Proposal:
    """Log one more objection: its text is kept in the `objection_logged` event (the history, each one
    kept) and `proposal.objection` holds the latest."""
    require_lead_actor(actor, proposal.lead, action="log objections")
    check_version(proposal, expected_version, "This proposal")
    text = (objection or "").replace("\r\n", "\n").strip()[:OBJECTION_LIMIT]
    if not text:
        raise Invalid("Write the objection.", "objection")
    proposal.objection = text
    record_event(
        session,
        proposal.lead,
        "objection_logged",
        actor,
        proposal_id=proposal.id,
        number=proposal.number,
        objection=text,
    )
    session.flush()
    return proposal


def objection_history(session: Session, lead_id: int, proposals=()) -> list[dict]:
    """Every objection logged on the lead's proposals, newest first: text, version, who and when.

    `proposals`: every version of the lead (as the page loaded them). One statement, and none when no
    version carries an objection. One logged before the texts were kept shows its version's latest text.
    """
    if not any(p.objection for p in proposals):  # every version of the lead without one: none logged
        return []
    events = session.execute(
        sa.select(Event.payload, Event.created_at, User.name.label("actor_name"))
        .outerjoin(User, User.id == Event.actor_id)
        .where(Event.lead_id == lead_id, Event.kind == "objection_logged")
        .order_by(Event.created_at.desc(), Event.id.desc())
    ).all()
    latest = {p.id: p for p in proposals}
    out, shown_latest = [], set()
    for event in events:
        payload = event.payload or {}
        text = payload.get("objection")
        pid = payload.get("proposal_id")
        if text is None:  # logged before the texts were kept
            if pid not in latest or pid in shown_latest or not latest[pid].objection:
                continue
            text = latest[pid].objection
        shown_latest.add(pid)
        out.append(
            {
                "text": text,
                "number": payload.get("number") or getattr(latest.get(pid), "number", None),
                "who": event.actor_name or "System",
                "at": event.created_at,
            }
        )
    return out


def update_forecast(
    session: Session,
    proposal: Proposal,
    actor: User,
    expected_version: int | None,
    *,
    probability: int | None,
    decision_deadline: date | None,
) -> Proposal:
    """Probability and decision deadline are sales tracking, not client content: allowed when sent."""
    require_lead_actor(actor, proposal.lead, action="update forecasts")
    check_version(proposal, expected_version, "This proposal")
    if probability is not None and not 0 <= probability <= 100:
        raise Invalid("Probability must be between 0 and 100.", "probability")
    if decision_deadline is not None and decision_deadline < today():
        raise Invalid("The decision deadline cannot be in the past.", "decision_deadline")
    lead = proposal.lead
    if probability is not None:
        proposal.probability = lead.probability = probability
    if decision_deadline is not None:
        proposal.decision_deadline = lead.decision_deadline = decision_deadline
    record_event(
        session,
        lead,
        "forecast_updated",
        actor,
        proposal_id=proposal.id,
        probability=probability,
        decision_deadline=decision_deadline,
    )
    session.flush()
    return proposal


def _client_may_decide(session: Session, proposal: Proposal, client_user: User) -> None:
    if client_user is None or not client_user.is_client:
        raise Forbidden("Only the client decides on a proposal.")
    if proposal.lead.client_id != client_user.client_id:
        raise Forbidden("This proposal is not addressed to your organisation.")
    if proposal.status == "accepted":
        raise Invalid("This proposal is already accepted.")
    if proposal.status == "declined":
        raise Invalid("This proposal was declined.")
    if proposal.status == "superseded":
        raise Invalid("A newer version of this proposal replaced this one. Open the latest version.")
    if proposal.status != "sent":
        raise Invalid("This proposal is not open for a decision.")
    if proposal.lead.stage != "contract":  # lost, or taken back by the team (reactivated, reopened)
        raise Invalid("This proposal is no longer open for a decision. Message the team to pick it up again.")
    if proposal.decision_deadline is not None and proposal.decision_deadline < today():
        raise Invalid("The decision deadline of this proposal has passed. Ask the team for an update.")


def accept_proposal(
    session: Session, proposal: Proposal, client_user: User, expected_version: int | None, add_on_ids=()
) -> Proposal:
    """The client accepts the sent version with the add-ons they chose; the owner gets a contract task."""
    check_version(proposal, expected_version, "This proposal")
    _client_may_decide(session, proposal, client_user)
    offered = {i["id"] for i in proposal.snapshot.get("items", []) if i["kind"] == "add_on"}
    try:
        chosen = sorted({int(i) for i in add_on_ids})
    except (TypeError, ValueError):
        raise Invalid("Choose add-ons from this proposal only.", "add_ons") from None
    if not set(chosen) <= offered:
        raise Invalid("Choose add-ons from this proposal only.", "add_ons")
    lead = proposal.lead
    proposal.status, proposal.accepted_at, proposal.accepted_add_on_ids = "accepted", utcnow(), chosen
    _value_to_lead(lead, proposal, chosen)
    contract = session.execute(sa.select(Contract).where(Contract.lead_id == lead.id)).scalar_one_or_none()
    if contract is None:
        session.add(Contract(lead_id=lead.id, proposal_id=proposal.id, state="draft"))
    else:
        contract.proposal_id = proposal.id
    ensure_task(
        session,
        key=f"proposal:{proposal.id}:accepted",
        kind="contract_step",
        title=f"{lead.company} accepted v{proposal.number}: prepare and send the contract",
        owner_id=lead.owner_id,
        due=today() + timedelta(days=1),
        lead_id=lead.id,
    )
    record_event(session, lead, "proposal_accepted", client_user, proposal_id=proposal.id, add_on_ids=chosen)
    notify(session, "proposal_accepted", proposal.id, lead.owner_id, proposal_id=proposal.id)
    session.flush()
    return proposal


def decline_proposal(
    session: Session, proposal: Proposal, client_user: User, expected_version: int | None, reason: str
) -> Proposal:
    """The client declines with a reason; the owner gets a task to respond."""
    check_version(proposal, expected_version, "This proposal")
    _client_may_decide(session, proposal, client_user)
    text = (reason or "").strip()
    if not text:
        raise Invalid("Tell us why, so the team can respond.", "reason")
    lead = proposal.lead
    proposal.status, proposal.declined_at, proposal.decline_reason = "declined", utcnow(), text[:2000]
    ensure_task(
        session,
        key=f"proposal:{proposal.id}:declined",
        kind="follow_up",
        title=f"{lead.company} declined v{proposal.number}: respond or mark lost",
        owner_id=lead.owner_id,
        due=today() + timedelta(days=1),
        lead_id=lead.id,
    )
    record_event(session, lead, "proposal_declined", client_user, proposal_id=proposal.id)
    notify(session, "proposal_declined", proposal.id, lead.owner_id, proposal_id=proposal.id)
    session.flush()
    return proposal
