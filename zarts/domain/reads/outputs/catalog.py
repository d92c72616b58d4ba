"""The eight outputs of the guide, each a row per opportunity.

Every row preserves the seven fields the guide asks for — source, owner, stage, due date, scope state,
client-safe status and next action — followed by the output's own columns. Rows are plain JSON values
(ISO dates, cents) so the page, the CSV and the JSON export show the same thing. Internal caveats are
never row columns: they are returned apart (`internal`) for the staff page, which marks them internal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from ....models import Approval, Audit, Contract, Event, Lead, Proposal
from ...claims import claims_of, figures
from ...proposals import part_content
from .context import Context

PROPOSAL_PARTS = ("pricing", "claim", "contract_language")
COMMON_COLUMNS = (
    ("lead_id", "Lead"),
    ("title", "Opportunity"),
    ("company", "Company"),
    ("service", "Service"),
    ("source", "Source"),
    ("owner", "Owner"),
    ("stage", "Stage"),
    ("due_date", "Due date"),
    ("due_kind", "Due for"),
    ("scope_state", "Scope state"),
    ("scope_items", "Scope items"),
    ("client_safe_status", "Client-safe status"),
    ("next_action", "Next action"),
    ("next_action_due", "Next action due"),
)
# The guide's seven preserved fields, by row key.
PRESERVED = ("source", "owner", "stage", "due_date", "scope_state", "client_safe_status", "next_action")
ITEM_ORDER = (
    ("included", "included"),
    ("excluded", "excluded"),
    ("add_on", "add-on"),
    ("assumption", "assumption"),
    ("dependency", "dependency"),
)


def iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    return value.isoformat()


@dataclass(frozen=True)
class Output:
    slug: str
    number: int
    title: str
    summary: str
    columns: tuple[tuple[str, str], ...]  # the output's own columns (key, label)
    needs: tuple[str, ...]  # context loaders
    member: Callable[[], sa.ColumnElement]  # which opportunities the list holds
    date_expr: Callable[[], sa.ColumnElement]  # the output's own date, for the date filter
    date_label: str
    build: Callable[[Lead, Context], dict]  # due, scope, client-safe status and own columns
    internal: Callable[[Lead, Context], dict]  # internal caveats for the staff page only

    @property
    def all_columns(self) -> tuple[tuple[str, str], ...]:
        return COMMON_COLUMNS + self.columns


# ---------------------------------------------------------------- shared pieces


def _scope(lead: Lead, ctx: Context) -> dict:
    latest = ctx.latest(lead.id)
    counts = ctx.item_counts.get(lead.id, {})
    parts = [f"{counts[k]} {label}" for k, label in ITEM_ORDER if counts.get(k)]
    return {"scope_state": latest.status if latest else "none", "scope_items": ", ".join(parts) or None}


def _lead_client_safe(lead: Lead, ctx: Context) -> str:
    """Where the opportunity's client-facing text stands: a sent snapshot, an approved summary, or none."""
    live = ctx.live(lead.id)
    if live is not None:
        return f"client-facing: proposal v{live.number} {live.status}"
    audit = ctx.audits.get(lead.id)
    if audit is not None and audit.client_summary_status != "none":
        return f"audit summary {audit.client_summary_status}"
    return "internal only"


def _next_action_due(lead: Lead) -> dict:
    return {"due_date": iso(lead.next_action_due), "due_kind": "next action"}


def _deadline_or_next(lead: Lead, deadline: date | None, kind: str) -> dict:
    if deadline is not None:
        return {"due_date": iso(deadline), "due_kind": kind}
    return _next_action_due(lead)


def _user_name(user) -> str | None:
    return user.name if user is not None else None


def _exists(model, *where) -> sa.ColumnElement:
    return sa.exists().where(model.lead_id == Lead.id, *where)


def _scalar(expr, model, *where) -> sa.ColumnElement:
    return sa.select(expr).where(model.lead_id == Lead.id, *where).correlate(Lead).scalar_subquery()


def _nothing(lead: Lead, ctx: Context) -> dict:
    return {}


# ---------------------------------------------------------------- 1 qualified opportunity


def _qualified(lead: Lead, ctx: Context) -> dict:
    return {
        **_next_action_due(lead),
        "client_safe_status": _lead_client_safe(lead, ctx),
        "service_fit": lead.service_fit,
        "urgency": lead.urgency,
        "decision_owner": lead.decision_owner,
        "budget_signal": lead.budget_signal,
        "contact_path": lead.contact_path,
        "consent": lead.consent,
        "probability": lead.probability,
        "qualified_at": iso(ctx.qualified_at.get(lead.id)),
        "paused": lead.pause_reason,
    }


QUALIFIED = Output(
    "qualified-opportunity",
    1,
    "Qualified opportunity",
    "Source, fit, urgency, decision owner, contact path and budget signal of every qualified opportunity.",
    (
        ("service_fit", "Fit"),
        ("urgency", "Urgency"),
        ("decision_owner", "Decision owner"),
        ("budget_signal", "Budget signal"),
        ("contact_path", "Contact path"),
        ("consent", "Consent"),
        ("probability", "Probability %"),
        ("qualified_at", "Qualified at"),
        ("paused", "Paused for"),
    ),
    ("proposals", "audits", "qualified"),
    lambda: sa.or_(Lead.stage.notin_(("new", "lost")), _exists(Event, Event.kind == "qualified")),
    lambda: _scalar(sa.func.min(Event.created_at), Event, Event.kind == "qualified"),
    "qualified at",
    _qualified,
    _nothing,
)


# ---------------------------------------------------------------- 2 discovery notes


def _discovery(lead: Lead, ctx: Context) -> dict:
    return {
        **_next_action_due(lead),
        "client_safe_status": _lead_client_safe(lead, ctx),
        "pain_points": lead.pain_points,
        "current_lead_flow": lead.current_lead_flow,
        "provider_stack": lead.provider_stack,
        "decision_criteria": lead.decision_criteria,
        "discovery_logged_at": iso(lead.discovery_logged_at),
    }


DISCOVERY = Output(
    "discovery-notes",
    2,
    "Discovery notes",
    "Pain points, current lead flow, provider stack and decision criteria captured in discovery.",
    (
        ("pain_points", "Pain points"),
        ("current_lead_flow", "Current lead flow"),
        ("provider_stack", "Provider stack"),
        ("decision_criteria", "Decision criteria"),
        ("discovery_logged_at", "Logged at"),
    ),
    ("proposals", "audits"),
    lambda: sa.or_(
        Lead.discovery_logged_at.is_not(None),
        Lead.stage.in_(("discovery", "audit", "proposal", "contract", "won")),
    ),
    lambda: Lead.discovery_logged_at,
    "discovery logged",
    _discovery,
    lambda lead, ctx: {"Discovery notes": lead.discovery_notes},
)


# ---------------------------------------------------------------- 3 audit proof


def _audit(lead: Lead, ctx: Context) -> dict:
    a = ctx.audits.get(lead.id)
    return {
        **_next_action_due(lead),
        "client_safe_status": f"summary {a.client_summary_status}" if a else "no audit",
        "audit_status": a.status if a else "none",
        "findings": a.findings if a else None,
        "baseline_figures": a.baseline_figures if a else None,
        "completed_at": iso(a.completed_at) if a else None,
        "client_summary": a.client_summary if a and a.client_summary_status == "approved" else None,
        "evidence_items": _evidence_items(lead, ctx),
        "claims_evidence": _claims_evidence(lead, ctx),
    }


def _evidence_items(lead: Lead, ctx: Context) -> str | None:
    """The audit's evidence as data, one per line: kind, numbers, approved client wording (never raw notes)."""
    lines = []
    for e in ctx.evidence.get(lead.id, []):
        text = e.client_text if e.is_client_safe else "(wording not approved)"
        numbers = figures(e)
        lines.append(f"#{e.id} {e.kind.replace('_', ' ')}: {text}" + (f" [{numbers}]" if numbers else ""))
    return "\n".join(lines) or None


def _claims_evidence(lead: Lead, ctx: Context) -> str | None:
    """Claim → evidence for the latest proposal: each claim and the items it cites (or that it cites none)."""
    p = ctx.latest(lead.id)
    if p is None:
        return None
    cited: dict[tuple, list[int]] = {}
    for c in ctx.citations.get(lead.id, []):
        cited.setdefault((c.claim_kind, c.item_id), []).append(c.evidence_item_id)
    lines = []
    for claim in claims_of(p):
        ids = cited.get((claim.kind, claim.item_id))
        lines.append(f"{claim.label} → " + (", ".join(f"#{i}" for i in ids) if ids else "NO EVIDENCE CITED"))
    return "\n".join(lines) or None


AUDIT = Output(
    "audit-proof",
    3,
    "Audit proof",
    "The evidence (findings and baseline figures) that scope, price, timeline and claims rest on.",
    (
        ("audit_status", "Audit"),
        ("findings", "Findings"),
        ("baseline_figures", "Baseline figures"),
        ("completed_at", "Completed at"),
        ("client_summary", "Approved client summary"),
        ("evidence_items", "Evidence items"),
        ("claims_evidence", "Claim → evidence"),
    ),
    ("proposals", "audits", "evidence"),
    lambda: _exists(Audit),
    lambda: _scalar(sa.func.max(Audit.completed_at), Audit),
    "audit completed",
    _audit,
    lambda lead, ctx: (
        {
            "Raw audit notes": ctx.audits[lead.id].raw_notes,
            "Provider caveats": ctx.audits[lead.id].provider_caveats,
            "Evidence raw notes": "\n".join(
                f"#{e.id}: {e.raw_note}" + (f" (source: {e.source})" if e.source else "")
                for e in ctx.evidence.get(lead.id, [])
                if e.raw_note or e.source
            )
            or None,
        }
        if lead.id in ctx.audits
        else {}
    ),
)


# ---------------------------------------------------------------- 4 proposal draft


def _proposal_client_safe(lead: Lead, ctx: Context) -> str:
    latest, live = ctx.latest(lead.id), ctx.live(lead.id)
    if latest is None:
        return "none"
    if live is None:
        return "internal draft" if latest.status == "draft" else f"v{latest.number} {latest.status}"
    if live.id != latest.id:
        return f"client-facing: v{live.number} snapshot; v{latest.number} {latest.status}"
    return f"client-facing: v{live.number} snapshot"


def _proposal(lead: Lead, ctx: Context) -> dict:
    p = ctx.latest(lead.id)
    own = dict.fromkeys(
        (
            "version",
            "proposal_status",
            "price_cents",
            "currency",
            "timeline",
            "expected_improvement",
            "sent_at",
            "viewed_at",
            "follow_up_date",
            "decision_deadline",
            "objection",
            "probability",
        )
    )
    if p is not None:
        own.update(
            version=p.number,
            proposal_status=p.status,
            price_cents=p.price_cents,
            currency=p.currency,
            timeline=p.timeline,
            expected_improvement=p.expected_improvement,
            sent_at=iso(p.sent_at),
            viewed_at=iso(p.viewed_at),
            follow_up_date=iso(p.follow_up_date),
            decision_deadline=iso(p.decision_deadline),
            objection=p.objection,
            probability=lead.probability,
        )  # one forecast: the lead's (the page header's)
    deadline = (p.decision_deadline if p else None) or lead.decision_deadline
    return {
        **_deadline_or_next(lead, deadline, "decision deadline"),
        "client_safe_status": _proposal_client_safe(lead, ctx),
        **own,
    }


def _proposal_internal(lead: Lead, ctx: Context) -> dict:
    p = ctx.latest(lead.id)
    if p is None:
        return {}
    return {"Pricing assumptions": p.pricing_assumptions, "Internal notes": p.internal_notes}


PROPOSAL = Output(
    "proposal-draft",
    4,
    "Proposal draft",
    "The newest proposal version: price, timeline, claim, sent/viewed/follow-up dates, objection and deadline.",
    (
        ("version", "Version"),
        ("proposal_status", "Proposal"),
        ("price_cents", "Price (cents)"),
        ("currency", "Currency"),
        ("timeline", "Timeline"),
        ("expected_improvement", "Expected improvement"),
        ("sent_at", "Sent"),
        ("viewed_at", "Viewed"),
        ("follow_up_date", "Follow-up"),
        ("decision_deadline", "Decision deadline"),
        ("objection", "Objection"),
        ("probability", "Probability %"),
    ),
    ("proposals",),
    lambda: _exists(Proposal),
    lambda: Lead.decision_deadline,
    "decision deadline",
    _proposal,
    _proposal_internal,
)


# ---------------------------------------------------------------- 5 approval state


def part_state(proposal: Proposal | None, approvals: list[Approval], kind: str) -> str:
    """The state of one approval part of the newest version: approved / pending / rejected /
    not requested, or n/a when the version carries no such part."""
    if proposal is None:
        return "n/a"
    text = part_content(proposal, kind)
    if text is None:
        return "n/a"
    mine = [a for a in approvals if a.proposal_id == proposal.id and a.kind == kind and a.content == text]
    for state in ("approved", "pending", "rejected"):
        if any(a.state == state for a in mine):
            return state
    return "not requested"


def _summary_state(approvals: list[Approval]) -> str:
    mine = [a for a in approvals if a.kind == "client_summary" and a.state != "superseded"]
    return mine[-1].state if mine else "none"


def _approval(lead: Lead, ctx: Context) -> dict:
    approvals = ctx.approvals.get(lead.id, [])
    latest = ctx.latest(lead.id)
    states = {kind: part_state(latest, approvals, kind) for kind in PROPOSAL_PARTS}
    review_due = ctx.task_totals(lead.id).next_review_due
    decided = [a.decided_at for a in approvals if a.decided_at is not None]
    return {
        **_deadline_or_next(lead, review_due, "approval review"),
        "client_safe_status": f"summary {_summary_state(approvals)}",
        "version": latest.number if latest else None,
        **states,
        "client_summary": _summary_state(approvals),
        "pending": sum(1 for a in approvals if a.state == "pending"),
        "last_decided_at": iso(max(decided)) if decided else None,
    }


APPROVAL = Output(
    "approval-state",
    5,
    "Approval state",
    "Each sensitive part — pricing, claim, contract language, client-safe summary — and its approval.",
    (
        ("version", "Version"),
        ("pricing", "Pricing"),
        ("claim", "Claim"),
        ("contract_language", "Contract language"),
        ("client_summary", "Client-safe summary"),
        ("pending", "Pending"),
        ("last_decided_at", "Last decided"),
    ),
    ("proposals", "approvals", "tasks"),
    lambda: _exists(Approval),
    lambda: _scalar(sa.func.max(Approval.requested_at), Approval),
    "approval requested",
    _approval,
    lambda lead, ctx: {
        f"Approval #{a.id} comment": a.comment for a in ctx.approvals.get(lead.id, []) if a.comment
    },
)


# ---------------------------------------------------------------- 6 contract handoff


def _contract(lead: Lead, ctx: Context) -> dict:
    c = ctx.contracts.get(lead.id)
    live = ctx.live(lead.id)
    accepted = live if live is not None and live.status == "accepted" else None
    if c is not None and c.kickoff_date is not None:
        due = {"due_date": iso(c.kickoff_date), "due_kind": "kickoff"}
    else:
        due = _deadline_or_next(lead, lead.decision_deadline if lead.is_open else None, "decision deadline")
    status = (
        f"client-facing: proposal v{accepted.number} accepted" if accepted else _lead_client_safe(lead, ctx)
    )
    if c is not None:
        status += "; client-safe blockers " + ("written" if c.client_launch_blockers else "none")
    return {
        **due,
        "client_safe_status": status,
        "contract_state": c.state if c else "none",
        "payment_state": c.payment_state if c else None,
        "signed_at": iso(c.signed_at) if c else None,
        "kickoff_date": iso(c.kickoff_date) if c else None,
        "onboarding_owner": _user_name(c.onboarding_owner) if c else None,
        "accepted_version": accepted.number if accepted else None,
        "client_launch_blockers": c.client_launch_blockers if c else None,
    }


CONTRACT = Output(
    "contract-handoff",
    6,
    "Contract handoff",
    "Contract state, payment state, signature, kickoff date, onboarding owner and launch blockers.",
    (
        ("contract_state", "Contract"),
        ("payment_state", "Payment"),
        ("signed_at", "Signed"),
        ("kickoff_date", "Kickoff"),
        ("onboarding_owner", "Onboarding owner"),
        ("accepted_version", "Accepted version"),
        ("client_launch_blockers", "Client-safe launch blockers"),
    ),
    ("proposals", "audits", "contracts"),
    lambda: sa.or_(_exists(Contract), Lead.stage.in_(("contract", "won"))),
    lambda: _scalar(Contract.kickoff_date, Contract),
    "kickoff",
    _contract,
    lambda lead, ctx: (
        {"Launch blockers (internal)": ctx.contracts[lead.id].launch_blockers}
        if lead.id in ctx.contracts
        else {}
    ),
)


# ---------------------------------------------------------------- 7 onboarding checklist


def _onboarding(lead: Lead, ctx: Context) -> dict:
    p, c, t = ctx.projects.get(lead.id), ctx.contracts.get(lead.id), ctx.task_totals(lead.id)
    kickoff = (p.kickoff_date if p else None) or (c.kickoff_date if c else None)
    if t.next_onboarding_due is not None:
        due = {"due_date": iso(t.next_onboarding_due), "due_kind": "next onboarding item"}
    else:
        due = _deadline_or_next(lead, kickoff, "kickoff")
    owner = (p.onboarding_owner if p else None) or (c.onboarding_owner if c else None)
    client_items = (
        f"{t.client_items_done}/{t.client_items_total} client items ticked"
        if t.client_items_total
        else "no client items"
    )
    return {
        **due,
        "client_safe_status": client_items,
        "project": p.name if p else None,
        "project_status": p.status if p else "not handed off",
        "kickoff_date": iso(kickoff),
        "onboarding_owner": _user_name(owner),
        "checklist_done": t.onboarding_done,
        "checklist_total": t.onboarding_total,
        "client_items_done": t.client_items_done,
        "client_items_total": t.client_items_total,
        "open_tasks": t.open_tasks,
        "client_launch_blockers": (p.client_launch_blockers if p else None)
        or (c.client_launch_blockers if c else None),
    }


ONBOARDING = Output(
    "onboarding-checklist",
    7,
    "Onboarding checklist",
    "What delivery inherits: the project, its checklist (client items too), open tasks and blockers.",
    (
        ("project", "Project"),
        ("project_status", "Project status"),
        ("kickoff_date", "Kickoff"),
        ("onboarding_owner", "Onboarding owner"),
        ("checklist_done", "Checklist done"),
        ("checklist_total", "Checklist items"),
        ("client_items_done", "Client items done"),
        ("client_items_total", "Client items"),
        ("open_tasks", "Open tasks"),
        ("client_launch_blockers", "Client-safe launch blockers"),
    ),
    ("proposals", "contracts", "projects", "tasks"),
    lambda: Lead.stage == "won",
    lambda: _scalar(Contract.kickoff_date, Contract),
    "kickoff",
    _onboarding,
    lambda lead, ctx: (
        {
            "Launch blockers (internal)": ctx.projects[lead.id].launch_blockers,
            "Handoff notes": ctx.projects[lead.id].handoff_notes,
        }
        if lead.id in ctx.projects
        else {}
    ),
)


# ---------------------------------------------------------------- 8 won or lost reason


def _outcome(lead: Lead, ctx: Context) -> dict:
    c = ctx.contracts.get(lead.id)
    accepted = next((p for p in reversed(ctx.proposals.get(lead.id, [])) if p.status == "accepted"), None)
    if lead.stage == "lost":
        due = {
            "due_date": iso(lead.reactivation_date),
            "due_kind": "reactivation never" if lead.reactivation_never else "reactivation",
        }
    elif lead.stage == "won":
        due = _deadline_or_next(lead, c.kickoff_date if c else None, "kickoff")
    else:
        due = _deadline_or_next(lead, lead.decision_deadline, "decision deadline")
    outcome = lead.stage if lead.stage in ("won", "lost") else "open"
    # What the client was shown, as for every opportunity: the accepted (or last sent) proposal, or
    # the audit summary's approval state, or nothing client-facing.
    return {
        **due,
        "client_safe_status": _lead_client_safe(lead, ctx),
        "outcome": outcome,
        "reason": lead.lost_reason
        if outcome == "lost"
        else ("accepted proposal" if outcome == "won" else None),
        "closed_at": iso(lead.won_at if outcome == "won" else lead.lost_at if outcome == "lost" else None),
        "reactivation_date": iso(lead.reactivation_date),
        "reactivation_never": bool(lead.reactivation_never) if outcome == "lost" else None,
        "won_price_cents": accepted.price_cents if accepted and outcome == "won" else None,
    }


OUTCOME = Output(
    "won-lost-reason",
    8,
    "Won or lost reason",
    "How each closed opportunity ended, why, and when a lost one is worth winning back.",
    (
        ("outcome", "Outcome"),
        ("reason", "Reason"),
        ("closed_at", "Closed at"),
        ("reactivation_date", "Reactivation date"),
        ("reactivation_never", "Never reactivate"),
        ("won_price_cents", "Won price (cents)"),
    ),
    ("proposals", "audits", "contracts"),
    lambda: Lead.stage.in_(("won", "lost")),
    lambda: sa.func.coalesce(Lead.won_at, Lead.lost_at),
    "closed",
    _outcome,
    lambda lead, ctx: {"Lost note": lead.lost_note},
)


OUTPUTS: dict[str, Output] = {
    o.slug: o for o in (QUALIFIED, DISCOVERY, AUDIT, PROPOSAL, APPROVAL, CONTRACT, ONBOARDING, OUTCOME)
}

# Output dates that are plain dates (the others are timestamps).
DATE_ONLY = {"proposal-draft", "contract-handoff", "onboarding-checklist"}


def row(output: Output, lead: Lead, ctx: Context) -> dict:
    """One opportunity as a row of `output`: common columns first, then the output's own."""
    own = output.build(lead, ctx)
    common = {
        "lead_id": lead.id,
        "title": lead.title,
        "company": lead.company,
        "service": lead.service,
        "source": lead.source,
        "owner": _user_name(lead.owner),
        "stage": lead.stage,
        "due_date": own.pop("due_date"),
        "due_kind": own.pop("due_kind"),
        **_scope(lead, ctx),
        "client_safe_status": own.pop("client_safe_status"),
        "next_action": lead.next_action,
        "next_action_due": iso(lead.next_action_due),
    }
    return {**common, **{key: own.get(key) for key, _ in output.columns}}
