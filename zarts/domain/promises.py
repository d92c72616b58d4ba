"""The promise ledger delivery inherits: what the accepted proposal promised (each claim with the
baseline it rests on, the target if it states one, the date it was promised), and what delivery
measured since. "What was promised, what changed, what closed, and what delivery must inherit" as
one table, in the handoff packet and the client reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Lead, Project, Promise, PromiseMeasurement, Proposal, User
from .claims import number
from .errors import Invalid
from .evidence import parse_value
from .publication import clean_text
from .trail import check_version, record_changes, require_staff


def promise_key(lead_id: int, proposal_id: int, claim: str, evidence_id: int | None) -> str:
    return f"handoff:{lead_id}:promise:{proposal_id}:{claim}:{evidence_id or 0}"


def promises_for(project: Project, proposal: Proposal) -> list[Promise]:
    """The accepted version's promises as ledger rows (not added): one per claim and cited baseline,
    from the frozen snapshot (what the client was sent and the numbers the approver backed)."""
    promised_at = proposal.sent_at or proposal.accepted_at
    rows = []
    for claim in (proposal.snapshot or {}).get("claims") or []:
        evidence = claim.get("evidence") or []
        baselines = [e for e in evidence if e.get("kind") == "baseline"] or [None]
        for e in baselines:
            eid = e["id"] if e else (evidence[0]["id"] if evidence else None)
            rows.append(
                Promise(
                    project_id=project.id,
                    proposal_id=proposal.id,
                    claim_kind=claim["kind"],
                    item_id=claim.get("item_id"),
                    claim_text=str(claim.get("text") or ""),
                    evidence_item_id=eid,
                    metric=e.get("metric") if e else None,
                    baseline_value=_decimal(e.get("value")) if e else None,
                    unit=e.get("unit") if e else None,
                    period=e.get("period") if e else None,
                    target_value=_decimal(e.get("target_value")) if e else None,
                    better=e.get("better") if e else None,
                    promised_at=promised_at,
                    key=promise_key(project.lead_id, proposal.id, claim["claim"], eid),
                )
            )
    return rows


def _decimal(value) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def record_measurement(
    session: Session,
    promise: Promise,
    actor: User,
    *,
    period: str,
    value,
    note: str | None = None,
    expected_version: int | None = None,
) -> PromiseMeasurement:
    """Delivery records what a promised metric measured in a period (one value per period: entering a
    period again corrects it), on the lead's timeline."""
    require_staff(actor, "delivery", action="record measurements")
    period = clean_text(period)
    if not period:
        raise Invalid("Name the period measured, such as Nov 2026.", "period")
    if len(period) > 60:
        raise Invalid("Keep the period under 60 characters.", "period")
    measured = parse_value(value, "value")
    if measured is None:
        raise Invalid("Give the measured value.", "value")
    row = session.scalar(
        sa.select(PromiseMeasurement).where(
            PromiseMeasurement.promise_id == promise.id, PromiseMeasurement.period == period
        )
    )
    if row is None:
        row = PromiseMeasurement(promise_id=promise.id, period=period)
        session.add(row)
        before = {"period": None, "value": None, "note": None}
    else:
        check_version(row, expected_version, "This measurement")
        before = {"period": row.period, "value": row.value, "note": row.note}
    row.value, row.note, row.entered_by_id = measured, clean_text(note), actor.id
    session.flush()
    project = session.get(Project, promise.project_id)
    record_changes(session, session.get(Lead, project.lead_id), actor, row, before, via=None)
    return row


@dataclass(frozen=True)
class LedgerRow:
    """One promised metric: promised (claim, target), baseline, measured (latest), reached or not."""

    promise: Promise
    measured: PromiseMeasurement | None

    @property
    def reached(self) -> bool | None:
        """Measured ≥ target (or ≤ when lower is better), else improved on the baseline in the
        promised direction; None while nothing is measured or there is nothing to compare with."""
        p, m = self.promise, self.measured
        if m is None or (p.target_value is None and p.baseline_value is None):
            return None
        lower = p.better == "lower" or (
            p.better is None
            and p.target_value is not None
            and p.baseline_value is not None
            and p.target_value < p.baseline_value
        )
        if p.target_value is not None:
            return m.value <= p.target_value if lower else m.value >= p.target_value
        return m.value < p.baseline_value if lower else m.value > p.baseline_value

    def as_json(self) -> dict:
        p, m = self.promise, self.measured
        return {
            "claim": p.claim_text,
            "claim_kind": p.claim_kind,
            "metric": p.metric,
            "baseline": number(p.baseline_value),
            "unit": p.unit,
            "baseline_period": p.period,
            "target": number(p.target_value),
            "better": p.better,
            "promised_at": p.promised_at.replace(microsecond=0).isoformat() if p.promised_at else None,
            "proposal_id": p.proposal_id,
            "measured": number(m.value) if m else None,
            "measured_period": m.period if m else None,
            "reached": self.reached,
        }


def ledger(
    session: Session, project_ids, promises: list[Promise] | None = None
) -> dict[int, list[LedgerRow]]:
    """The ledger of each project (two statements whatever the number of promises): every promise
    with its latest measurement. `promises`: rows the caller holds (made in this transaction)."""
    ids = list(project_ids)
    if not ids:
        return {}
    if promises is None:
        promises = list(
            session.scalars(
                sa.select(Promise).where(Promise.project_id.in_(ids)).order_by(Promise.project_id, Promise.id)
            )
        )
    latest: dict[int, PromiseMeasurement] = {}
    if promises and any(p.id is not None for p in promises):
        for m in session.scalars(
            sa.select(PromiseMeasurement)
            .where(PromiseMeasurement.promise_id.in_([p.id for p in promises]))
            .order_by(PromiseMeasurement.created_at, PromiseMeasurement.id)
        ):
            latest[m.promise_id] = m
    out: dict[int, list[LedgerRow]] = {}
    for p in promises:
        out.setdefault(p.project_id, []).append(LedgerRow(p, latest.get(p.id)))
    return out


def quarter_start(day) -> datetime:
    return datetime(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_tile(session: Session, on) -> dict:
    """The dashboard's promise tile: promises made this quarter (claims of the versions sent since the
    quarter began that the client still holds), how many rest on baseline numbers, and of the projects
    delivery measured, how many reached what was promised. Three statements."""
    from ..models import ClaimCitation, EvidenceItem

    since = quarter_start(on)
    rows = session.execute(
        sa.select(
            ClaimCitation.proposal_id,
            ClaimCitation.claim_kind,
            ClaimCitation.item_id,
            sa.func.max(sa.case((EvidenceItem.kind == "baseline", 1), else_=0)),
        )
        .join(Proposal, Proposal.id == ClaimCitation.proposal_id)
        .join(EvidenceItem, EvidenceItem.id == ClaimCitation.evidence_item_id)
        .where(Proposal.sent_at >= since, Proposal.status.in_(("sent", "accepted")))
        .group_by(ClaimCitation.proposal_id, ClaimCitation.claim_kind, ClaimCitation.item_id)
    ).all()
    by_project = ledger(session, _measured_projects(session))
    measured = {
        pid: [r.reached for r in rows_ if r.measured is not None] for pid, rows_ in by_project.items()
    }
    measured = {pid: flags for pid, flags in measured.items() if flags}
    return {
        "since": since.date(),
        "made": len(rows),
        "with_baseline": sum(1 for r in rows if r[3]),
        "projects_measured": len(measured),
        "projects_reached": sum(1 for flags in measured.values() if all(flags)),
    }


def _measured_projects(session: Session) -> list[int]:
    return list(
        session.scalars(
            sa.select(Promise.project_id)
            .join(PromiseMeasurement, PromiseMeasurement.promise_id == Promise.id)
            .distinct()
        )
    )
