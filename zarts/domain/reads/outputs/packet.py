"""The handoff packet of a won deal, computed from the database (it does not wait for the handoff job).

Four parts, as the guide says: what was promised, what changed, what closed and what delivery must
inherit. The staff copy carries internal caveats under `internal` keys (pages mark them internal);
the client copy is a separate view model built from an explicit allow-list of client-safe fields —
never a filtered staff copy — so a new internal field cannot leak into it by default.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from ....models import (
    Approval,
    Audit,
    Connector,
    Contract,
    Lead,
    Project,
    Proposal,
    Report,
    ReportNote,
    Task,
)
from ...diff import diff_chain
from ...errors import Invalid
from ...promises import LedgerRow, ledger
from .catalog import iso

COPIES = ("staff", "client")
CLAIM_KINDS = ("pricing", "claim", "contract_language")
SNAPSHOT_KEYS = (
    "number",
    "title",
    "summary",
    "service",
    "price_cents",
    "currency",
    "timeline",
    "expected_improvement",
    "contract_language",
    "decision_deadline",
)
ITEM_KEYS = ("id", "kind", "title", "description", "price_cents")
SCOPE_KINDS = (
    ("included", "included"),
    ("excluded", "excluded"),
    ("add_ons", "add_on"),
    ("assumptions", "assumption"),
    ("dependencies", "dependency"),
)


def stored_packet_key(lead_id: int) -> str:
    return f"handoff:{lead_id}:packet"


@dataclass
class _Records:
    """Everything the packet reads, each table in one statement."""

    lead: Lead
    proposals: list[Proposal]
    approvals: list[Approval]
    audit: Audit | None
    contract: Contract | None
    project: Project | None
    tasks: list[Task]
    notes: list[ReportNote]
    connectors: list[Connector] = field(default_factory=list)
    stored: Report | None = None
    ledger: list = field(default_factory=list)  # the promise ledger (zarts.domain.promises.LedgerRow)

    @property
    def promised(self) -> Proposal | None:
        """The accepted version; before acceptance, the version the client holds."""
        for status in (("accepted",), ("sent",)):
            for p in reversed(self.proposals):
                if p.status in status:
                    return p
        return None


def _gather(session: Session, lead_id: int, held: dict | None = None) -> _Records | None:
    """`held`: records the caller already holds in this session (the handoff: lead, proposals with
    their items in number order, contract, project, connectors, stored), so they are not read again."""
    held = held or {}
    lead = (
        held.get("lead")
        or session.execute(
            sa.select(Lead).options(joinedload(Lead.owner), joinedload(Lead.client)).where(Lead.id == lead_id)
        ).scalar_one_or_none()
    )
    if lead is None:
        return None
    proposals = (
        held["proposals"]
        if "proposals" in held
        else list(
            session.execute(
                sa.select(Proposal)
                .options(selectinload(Proposal.items))
                .where(Proposal.lead_id == lead_id)
                .order_by(Proposal.number)
            ).scalars()
        )
    )
    approvals = list(
        session.execute(
            sa.select(Approval)
            .options(joinedload(Approval.decided_by))
            .where(Approval.lead_id == lead_id)
            .order_by(Approval.id)
        ).scalars()
    )
    audit = session.execute(
        sa.select(Audit)
        .where(Audit.lead_id == lead_id)
        .order_by((Audit.status == "completed").desc(), Audit.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    contract = (
        held["contract"]
        if "contract" in held
        else session.execute(
            sa.select(Contract)
            .options(joinedload(Contract.onboarding_owner))
            .where(Contract.lead_id == lead_id)
        ).scalar_one_or_none()
    )
    project = (
        held["project"]
        if "project" in held
        else session.execute(
            sa.select(Project).options(joinedload(Project.onboarding_owner)).where(Project.lead_id == lead_id)
        ).scalar_one_or_none()
    )
    tasks = list(
        session.execute(
            sa.select(Task)
            .options(joinedload(Task.owner))
            .where(Task.lead_id == lead_id)
            .order_by(Task.done_at.is_not(None), Task.due, Task.id)
            .limit(300)
        ).scalars()
    )
    audit_ids = sa.select(Audit.id).where(Audit.lead_id == lead_id)
    report_ids = sa.select(Report.id).where(Report.lead_id == lead_id)
    # A union, so each half reads its own index (an OR of the two made PostgreSQL walk every note).
    note_ids = sa.union(
        sa.select(ReportNote.id).where(ReportNote.audit_id.in_(audit_ids)),
        sa.select(ReportNote.id).where(ReportNote.report_id.in_(report_ids)),
    )
    notes = list(
        session.execute(
            sa.select(ReportNote).where(ReportNote.id.in_(note_ids)).order_by(ReportNote.id).limit(300)
        ).scalars()
    )
    records = _Records(lead, proposals, approvals, audit, contract, project, tasks, notes)
    if "connectors" in held:
        records.connectors = list(held["connectors"])
    elif project is not None:
        records.connectors = list(
            session.execute(
                sa.select(Connector).where(Connector.project_id == project.id).order_by(Connector.id)
            ).scalars()
        )
    if "promises" in held:  # made by this handoff: nothing measured yet
        records.ledger = [LedgerRow(p, None) for p in held["promises"]]
    elif project is not None:
        records.ledger = ledger(session, [project.id]).get(project.id, [])
    records.stored = (
        held["stored"]
        if "stored" in held
        else session.execute(
            sa.select(Report).where(Report.key == stored_packet_key(lead_id))
        ).scalar_one_or_none()
    )
    return records


def packet(session: Session, lead_id: int, copy: str = "staff", *, held: dict | None = None) -> dict | None:
    """The handoff packet of `lead_id` as JSON values, or None when there is no such lead.

    copy="staff": everything, internal caveats under keys named `internal`. copy="client": only
    client-safe fields (frozen snapshot, approved claims and summaries, client-safe launch blockers,
    client-visible checklist items). `won` is False for a deal not won yet (the packet is a preview).
    """
    if copy not in COPIES:
        raise Invalid("A packet copy is staff or client.", "copy")
    records = _gather(session, lead_id, held)
    if records is None:
        return None
    return client_packet(records) if copy == "client" else staff_packet(records)


# ---------------------------------------------------------------- shared, client-safe pieces


def _snapshot(p: Proposal | None) -> dict | None:
    if p is None or p.snapshot is None:
        return None
    snap = {k: p.snapshot.get(k) for k in SNAPSHOT_KEYS}
    snap["items"] = [{k: i.get(k) for k in ITEM_KEYS} for i in p.snapshot.get("items") or []]
    return snap


def _scope(snap: dict | None, add_on_ids) -> dict:
    items = snap["items"] if snap else []
    chosen = set(add_on_ids or [])
    scope = {name: [i for i in items if i["kind"] == kind] for name, kind in SCOPE_KINDS}
    scope["add_ons"] = [i for i in scope["add_ons"] if i["id"] in chosen]
    return scope


def _claims(records: _Records, p: Proposal | None, staff: bool) -> list[dict]:
    if p is None:
        return []
    out = []
    for a in records.approvals:
        if a.proposal_id == p.id and a.state == "approved" and a.kind in CLAIM_KINDS:
            # The client's copy: the claim's words only (the evidence the approver saw beside it is
            # internal wording until approved on its own; the promise ledger shows its numbers).
            content = a.content if staff else a.content.split("\nRests on: ", 1)[0]
            claim = {"kind": a.kind, "content": content, "approved_at": iso(a.decided_at)}
            if staff:
                claim.update(
                    approved_by=a.decided_by.name if a.decided_by else None,
                    internal={"comment": a.comment} if a.comment else {},
                )
            out.append(claim)
    return out


def _summaries(records: _Records) -> list[dict]:
    """Client-safe texts an approver approved: the audit summary and client-safe report notes."""
    out = []
    a = records.audit
    if a is not None and a.client_summary_status == "approved" and a.client_summary:
        out.append({"source": "audit summary", "text": a.client_summary})
    out += [{"source": "report note", "text": n.body} for n in records.notes if n.is_client_safe]
    return out


def _changes(records: _Records, sent_only: bool) -> list[dict]:
    versions = [p for p in records.proposals if p.snapshot is not None or not sent_only]
    return diff_chain([_snapshot(p) if p.snapshot is not None else p for p in versions])


def _client_blockers(records: _Records, staff: bool) -> str | None:
    """The client-safe launch blockers: the project's once there is one, the contract's before. The
    client's copy has only the project's, and only while its client text is approved as it stands
    (the contract's wording is a draft no approver has seen: it reaches a client through the project)."""
    project, contract = records.project, records.contract
    if not staff:
        approved = project is not None and project.client_text_status == "approved"
        return project.client_launch_blockers if approved else None
    if project is not None and project.client_launch_blockers:
        return project.client_launch_blockers
    return contract.client_launch_blockers if contract else None


def _kickoff(records: _Records):
    return (records.project.kickoff_date if records.project else None) or (
        records.contract.kickoff_date if records.contract else None
    )


def _checklist(records: _Records) -> list[dict]:
    return [
        {"title": t.title, "due": iso(t.due), "done": t.is_done} for t in records.tasks if t.client_visible
    ]


# ---------------------------------------------------------------- the two copies


def client_packet(records: _Records) -> dict:
    """The client's copy: built field by field from client-safe values only."""
    lead, p, c = records.lead, records.promised, records.contract
    snap = _snapshot(p)
    return {
        "copy": "client",
        "won": lead.stage == "won",
        "lead_id": lead.id,
        "client": lead.client.name if lead.client else lead.company,
        "project": records.project.name if records.project else None,
        "promised": {
            "proposal": snap,
            "accepted_add_on_ids": sorted(p.accepted_add_on_ids or []) if p else [],
            "approved_claims": _claims(records, p, staff=False),
            "approved_summaries": _summaries(records),
            "ledger": [row.as_json() for row in records.ledger],
        },
        "changed": _changes(records, sent_only=True),
        "closed": {
            "contract_state": c.state if c else None,
            "payment_state": c.payment_state if c else None,
            "signed_at": iso(c.signed_at) if c else None,
            "accepted_at": iso(p.accepted_at) if p else None,
            "kickoff_date": iso(_kickoff(records)),
        },
        "inherit": {
            "scope": _scope(snap, p.accepted_add_on_ids if p else None),
            "client_launch_blockers": _client_blockers(records, staff=False),
            "checklist": _checklist(records),
        },
    }


def staff_packet(records: _Records) -> dict:
    """The staff copy: the client copy's facts plus owners, open tasks and every internal caveat."""
    lead, p, c, proj, a = records.lead, records.promised, records.contract, records.project, records.audit
    snap = _snapshot(p)
    owner = (proj.onboarding_owner if proj else None) or (c.onboarding_owner if c else None)
    return {
        "copy": "staff",
        "won": lead.stage == "won",
        "lead_id": lead.id,
        "client": lead.client.name if lead.client else lead.company,
        "project": proj.name if proj else None,
        "lead": {
            "title": lead.title,
            "company": lead.company,
            "service": lead.service,
            "source": lead.source,
            "owner": lead.owner.name if lead.owner else None,
            "stage": lead.stage,
            "next_action": lead.next_action,
            "next_action_due": iso(lead.next_action_due),
            "won_at": iso(lead.won_at),
        },
        "promised": {
            "proposal": snap,
            "accepted_add_on_ids": sorted(p.accepted_add_on_ids or []) if p else [],
            "approved_claims": _claims(records, p, staff=True),
            "approved_summaries": _summaries(records),
            # Promised vs baseline vs measured, per promised metric (delivery inherits it).
            "ledger": [row.as_json() for row in records.ledger],
            "evidence": (
                {
                    "findings": a.findings,
                    "baseline_figures": a.baseline_figures,
                    "completed_at": iso(a.completed_at),
                }
                if a
                else None
            ),
        },
        "changed": _changes(records, sent_only=False),
        "closed": {
            "contract_state": c.state if c else None,
            "payment_state": c.payment_state if c else None,
            "signed_at": iso(c.signed_at) if c else None,
            "accepted_at": iso(p.accepted_at) if p else None,
            "accepted_version": p.number if p and p.status == "accepted" else None,
            "won_at": iso(lead.won_at),
            "kickoff_date": iso(_kickoff(records)),
            "onboarding_owner": owner.name if owner else None,
        },
        "inherit": {
            "scope": _scope(snap, p.accepted_add_on_ids if p else None),
            "client_launch_blockers": _client_blockers(records, staff=True),
            "checklist": _checklist(records),
            "open_tasks": [
                {
                    "title": t.title,
                    "kind": t.kind,
                    "owner": t.owner.name if t.owner else None,
                    "due": iso(t.due),
                    "client_visible": t.client_visible,
                }
                for t in records.tasks
                if not t.is_done
            ],
            "connectors": [{"name": k.name, "status": k.status} for k in records.connectors],
        },
        "internal": _internal(records),
        "stored_report": (
            {
                "id": records.stored.id,
                "key": records.stored.key,
                "status": records.stored.status,
                "created_at": iso(records.stored.created_at),
            }
            if records.stored
            else None
        ),
    }


def _internal(records: _Records) -> dict:
    """Every internal caveat of the deal, by label (empty ones left out)."""
    lead, p, c, proj, a = records.lead, records.promised, records.contract, records.project, records.audit
    texts = {
        "Discovery notes": lead.discovery_notes,
        "Raw audit notes": a.raw_notes if a else None,
        "Provider caveats": a.provider_caveats if a else None,
        "Pricing assumptions": p.pricing_assumptions if p else None,
        "Proposal internal notes": p.internal_notes if p else None,
        "Launch blockers (contract)": c.launch_blockers if c else None,
        "Launch blockers (project)": proj.launch_blockers if proj else None,
        "Handoff notes": proj.handoff_notes if proj else None,
    }
    out = {label: text for label, text in texts.items() if text and text.strip()}
    return {
        "texts": out,
        "notes": [
            {"body": n.body, "visibility": n.visibility, "status": n.status}
            for n in records.notes
            if not n.is_client_safe
        ],
        "task_notes": [{"task": t.title, "notes": t.notes} for t in records.tasks if t.notes],
        "connector_notes": [{"connector": k.name, "notes": k.notes} for k in records.connectors if k.notes],
    }
