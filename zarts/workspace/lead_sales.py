"""Lead-page forms for the evidence and the offer: audit, proposal (typed scope, approvals, send,
objection, forecast) and contract. Each posts one domain action through `lead_action`."""

from __future__ import annotations

from flask import abort, request

from ..auth.access import staff_required
from ..domain import Invalid, audits, contracts, proposals
from ..extensions import db
from ..models import Audit, Proposal
from ..models.vocab import CONTRACT_STATES, ITEM_KINDS, PAYMENT_STATES
from . import bp
from .common import actor, choice, date_field, int_field, money_field, text, version
from .lead import lead_action

PROPOSAL_TEXT = (
    "title",
    "summary",
    "timeline",
    "expected_improvement",
    "contract_language",
    "pricing_assumptions",
    "internal_notes",
)


# ---------------------------------------------------------------- audit


def _of_lead(model, lead, row_id: int):
    """A row (audit, proposal) of this lead, or 404: ids from the URL never reach another lead's rows."""
    row = db.session.get(model, row_id)
    if row is None or row.lead_id != lead.id:
        abort(404)
    return row


def _audit(lead, audit_id: int) -> Audit:
    return _of_lead(Audit, lead, audit_id)


@bp.post("/leads/<int:lead_id>/audits")
@staff_required
def start_audit(lead_id: int):
    return lead_action(
        lead_id, "audit", lambda lead: audits.start_audit(db.session, lead, actor()), "Audit started."
    )


@bp.post("/leads/<int:lead_id>/audits/<int:audit_id>")
@staff_required
def save_audit(lead_id: int, audit_id: int):
    """Save the audit form; its other buttons save and then complete it or route the summary to approval."""
    then = request.form.get("then", "")

    def save(lead):
        audit = _audit(lead, audit_id)
        names = audits.AUDIT_FIELDS if audit.status == "draft" else audits.AUDIT_FIELDS - set(audits.EVIDENCE)
        fields = {name: text(name) or "" for name in names if name in request.form}
        audits.save_audit(db.session, audit, actor(), version(), **fields)
        if then == "complete":
            audits.complete_audit(db.session, audit, actor(), None)
        elif then == "request_approval":
            audits.request_summary_approval(db.session, audit, actor())

    done = {"complete": "Audit completed.", "request_approval": "Client-safe summary sent for approval."}
    return lead_action(lead_id, "audit", save, done.get(then, "Audit saved."))


# ---------------------------------------------------------------- proposal


def scope_items() -> list[dict]:
    """Typed scope from one textarea per kind: a line is “title | description”; an add-on line is
    “title | price | description”."""
    items = []
    for kind in ITEM_KINDS:
        for line in (text(f"scope_{kind}") or "").splitlines():
            parts = [p.strip() for p in line.split("|")]
            if not parts[0]:
                continue
            item = {"kind": kind, "title": parts[0], "description": None, "price_cents": None}
            rest = parts[1:]
            if kind == "add_on" and rest:
                item["price_cents"] = money_field(
                    rest.pop(0), f"Price of add-on “{parts[0]}”", "scope_add_on"
                )
            item["description"] = " | ".join(p for p in rest if p) or None
            items.append(item)
    return items


def scope_lines(proposal: Proposal | None) -> dict[str, str]:
    """The inverse of scope_items, to pre-fill the revise form."""
    out = {kind: [] for kind in ITEM_KINDS}
    for item in proposal.items if proposal else ():
        parts = [item.title]
        if item.kind == "add_on":
            parts.append(f"{item.price_cents / 100:.2f}" if item.price_cents is not None else "")
        if item.description:
            parts.append(item.description)
        out[item.kind].append(" | ".join(parts).rstrip(" |"))
    return {kind: "\n".join(lines) for kind, lines in out.items()}


def _proposal_fields() -> dict:
    fields = {name: text(name) or "" for name in PROPOSAL_TEXT if name in request.form}
    if "price" in request.form:
        fields["price_cents"] = money_field(request.form.get("price"), "Price", "price")
    if "currency" in request.form:
        currency = (text("currency") or "EUR").upper()
        if len(currency) != 3 or not currency.isalpha():
            raise Invalid("Currency is a three-letter code such as EUR.", "currency")
        fields["currency"] = currency
    return fields


def _proposal(lead, proposal_id: int) -> Proposal:
    return _of_lead(Proposal, lead, proposal_id)


@bp.post("/leads/<int:lead_id>/proposals")
@staff_required
def draft_proposal(lead_id: int):
    def draft(lead):
        fields = _proposal_fields()
        title = fields.pop("title", "")
        if not title:
            raise Invalid("The proposal needs a title.", "title")
        proposals.draft_proposal(db.session, lead, actor(), title=title, items=scope_items(), **fields)

    return lead_action(lead_id, "proposal", draft, "Proposal drafted.")


@bp.post("/leads/<int:lead_id>/proposals/<int:proposal_id>")
@staff_required
def revise_proposal(lead_id: int, proposal_id: int):
    def revise(lead):
        proposals.revise_proposal(
            db.session,
            _proposal(lead, proposal_id),
            actor(),
            version(),
            items=scope_items(),
            via="workspace",
            **_proposal_fields(),
        )

    return lead_action(lead_id, "proposal", revise, "Proposal saved.")


@bp.post("/leads/<int:lead_id>/proposals/<int:proposal_id>/approvals")
@staff_required
def request_approvals(lead_id: int, proposal_id: int):
    return lead_action(
        lead_id,
        "approval",
        lambda lead: proposals.request_approvals(db.session, _proposal(lead, proposal_id), actor()),
        "Sent for approval.",
    )


@bp.post("/leads/<int:lead_id>/proposals/<int:proposal_id>/send")
@staff_required
def send_proposal(lead_id: int, proposal_id: int):
    return lead_action(
        lead_id,
        "proposal",
        lambda lead: proposals.send_proposal(
            db.session,
            _proposal(lead, proposal_id),
            actor(),
            version(),
            follow_up_date=date_field("follow_up_date", "Follow-up date"),
            decision_deadline=date_field("decision_deadline", "Decision deadline"),
            message=text("message"),
        ),
        "Proposal sent.",
    )


@bp.post("/leads/<int:lead_id>/proposals/<int:proposal_id>/objection")
@staff_required
def record_objection(lead_id: int, proposal_id: int):
    return lead_action(
        lead_id,
        "proposal",
        lambda lead: proposals.record_objection(
            db.session, _proposal(lead, proposal_id), actor(), version(), text("objection") or ""
        ),
        "Objection logged.",
    )


@bp.post("/leads/<int:lead_id>/proposals/<int:proposal_id>/forecast")
@staff_required
def update_forecast(lead_id: int, proposal_id: int):
    return lead_action(
        lead_id,
        "proposal",
        lambda lead: proposals.update_forecast(
            db.session,
            _proposal(lead, proposal_id),
            actor(),
            version(),
            probability=int_field("probability", "Probability"),
            decision_deadline=date_field("decision_deadline", "Decision deadline"),
        ),
        "Forecast updated.",
    )


# ---------------------------------------------------------------- contract


@bp.post("/leads/<int:lead_id>/contract")
@staff_required
def update_contract(lead_id: int):
    def save(lead):
        owner = (request.form.get("onboarding_owner_id") or "").strip()
        if owner and not (owner.isascii() and owner.isdigit() and len(owner) <= 18):
            raise Invalid("Choose the onboarding owner from the list.", "onboarding_owner_id")
        contracts.update_contract(
            db.session,
            lead,
            actor(),
            version(),
            state=choice("state", CONTRACT_STATES, "contract state"),
            payment_state=choice("payment_state", PAYMENT_STATES, "payment state"),
            kickoff_date=date_field("kickoff_date", "Kickoff date"),
            onboarding_owner_id=int(owner) if owner else None,
            launch_blockers=text("launch_blockers"),
            client_launch_blockers=text("client_launch_blockers"),
            via="workspace",
        )

    return lead_action(lead_id, "contract", save, "Contract saved.")
