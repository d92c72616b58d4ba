"""What a client contact may see: an explicit allow-list of fields per page.

Portal templates receive only these frozen dataclasses, built by `zarts.portal.queries`. A field
that is not declared here cannot reach a client, whatever a model grows later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Progress:
    """Ticked / total client checklist items, and the team's onboarding work as counts only."""

    ticked: int = 0
    total: int = 0
    team_done: int = 0
    team_total: int = 0

    @property
    def team_open(self) -> int:
        return self.team_total - self.team_done


@dataclass(frozen=True)
class ProjectCard:
    id: int
    name: str
    service: str
    status: str
    kickoff_date: date | None
    next_steps: str | None  # project.client_next_steps
    launch_blockers: str | None  # project.client_launch_blockers (never the internal ones)
    progress: Progress


@dataclass(frozen=True)
class ProposalLine:
    """One proposal version in a list: enough to find it and see whether it waits for a decision."""

    id: int
    number: int
    title: str
    status: str
    sent_on: date | None
    decision_deadline: date | None
    price_cents: int | None
    currency: str
    expired: bool
    closed: bool  # the opportunity left the contract stage (lost, reopened): no decision possible

    @property
    def awaiting_decision(self) -> bool:
        return self.status == "sent" and not self.expired and not self.closed


@dataclass(frozen=True)
class ScopeItem:
    id: int
    kind: str
    title: str
    description: str | None
    price_cents: int | None


@dataclass(frozen=True)
class PromiseLine:
    """A promise of a sent version (its expected improvement, timeline, or a scope item promising an
    outcome) with the audit evidence it rests on: only wording an approver approved for the client,
    frozen in the snapshot when the version was sent."""

    claim: str  # "expected_improvement", "timeline" or "item:<id>"
    text: str
    evidence: tuple[str, ...]  # approved client-safe wording of each cited finding or baseline


@dataclass(frozen=True)
class ProposalPage:
    """A sent version as the client received it: built from the frozen snapshot only."""

    id: int
    version: int  # optimistic-lock version the decision forms carry
    number: int
    title: str
    summary: str | None
    service: str
    currency: str
    price_cents: int | None
    timeline: str | None
    expected_improvement: str | None
    contract_language: str | None
    decision_deadline: date | None
    status: str
    scope: dict[str, tuple[ScopeItem, ...]]
    chosen_add_on_ids: frozenset[int]
    accepted_at: datetime | None
    declined_at: datetime | None
    decline_reason: str | None
    expired: bool
    closed: bool
    promises: tuple[PromiseLine, ...] = ()

    def evidence_for(self, claim: str) -> tuple[str, ...]:
        """The approved evidence shown beside a promise ("Based on your audit: …")."""
        return next((p.evidence for p in self.promises if p.claim == claim), ())

    @property
    def add_ons(self) -> tuple[ScopeItem, ...]:
        return self.scope.get("add_on", ())

    @property
    def open_for_decision(self) -> bool:
        return self.status == "sent" and not self.expired and not self.closed

    @property
    def chosen_add_ons(self) -> tuple[ScopeItem, ...]:
        return tuple(i for i in self.add_ons if i.id in self.chosen_add_on_ids)

    @property
    def total_cents(self) -> int:
        return (self.price_cents or 0) + sum(i.price_cents or 0 for i in self.chosen_add_ons)


@dataclass(frozen=True)
class SupersededNotice:
    """An old version's id: only a pointer to the version that replaced it."""

    number: int
    title: str
    latest_id: int
    latest_number: int


@dataclass(frozen=True)
class ChecklistItem:
    id: int
    version: int
    title: str  # client-visible task titles are written for the client
    due: date
    done: bool
    project_id: int | None


@dataclass(frozen=True)
class ChecklistGroup:
    project_id: int | None
    project_name: str
    items: tuple[ChecklistItem, ...]
    progress: Progress


@dataclass(frozen=True)
class HomePage:
    client_name: str
    contact_name: str
    projects: tuple[ProjectCard, ...]
    open_proposals: tuple[ProposalLine, ...]


@dataclass(frozen=True)
class ReportLine:
    id: int
    title: str
    period_start: date | None
    period_end: date | None
    published_at: datetime | None


@dataclass(frozen=True)
class PromiseRow:
    """One promised metric in a client report: promised vs baseline vs measured (numbers and the claim
    as the client was sent it; never delivery's notes)."""

    claim: str
    metric: str | None
    unit: str | None
    baseline: str | None
    baseline_period: str | None
    target: str | None
    measured: str | None
    measured_period: str | None
    reached: bool | None


@dataclass(frozen=True)
class ReportPage:
    id: int
    title: str
    period_start: date | None
    period_end: date | None
    published_at: datetime | None
    summary: str | None  # exactly the approved wording, else nothing
    notes: tuple[str, ...] = field(default_factory=tuple)  # approved client-safe notes only
    promises: tuple[PromiseRow, ...] = ()  # the project's promise ledger as of publication


@dataclass(frozen=True)
class ThreadMessage:
    id: int
    from_label: str  # "You", a colleague at the client, or "ZartsAlgo team" (staff names stay out)
    mine: bool
    inbound: bool
    subject: str | None
    body: str
    sent_at: datetime | None


@dataclass(frozen=True)
class FileLine:
    """An approved client-safe file of a proposal or contract: its name, type and size only."""

    id: int
    filename: str
    content_type: str
    size_bytes: int
