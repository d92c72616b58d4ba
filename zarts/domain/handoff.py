"""Handoff fan-out: what a won deal becomes before delivery starts (check 7 and 8 of the guide).

`run_handoff(session, lead_id)` ensures, each exactly once: the client (onboarding), the project
with the accepted scope, the onboarding checklist, a connector and task per system of the provider
stack, the client contact's portal invite, the first scheduled client report, the handoff packet
(promised / changed / closed / inherited) and a notice to the onboarding owner.

The job runs the whole fan-out in one transaction with the lead row locked (PostgreSQL): a crash
midway leaves nothing of it, the rerun does it all, and two runs at once take turns (the second,
once it holds the lock, reads `handoff_done` in a fresh statement and changes nothing: `_lock`). Every step still looks its record up by a unique key first, so
a handoff that did commit part of its records (an earlier release committed per step) is completed
without duplicates.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from ..models import Client, Connector, Contract, Event, Lead, Project, Promise, Proposal, Report, User, today
from ..models.vocab import SERVICE_LABELS
from .cadence import ensure_client_report, period_for
from .errors import Invalid
from .messaging import ensure_client_contact, log_message, render_message
from .reads.outputs.packet import packet, stored_packet_key
from .projects import client_text_task_key
from .promises import promises_for
from .proposals import ensure_client
from .publication import project_client_text
from .trail import ensure_tasks, record_event

# The onboarding checklist: (title, owned by the client, due in days from kickoff). Client-owned
# items are ticked by the client in the portal, so their titles are client-safe.
CHECKLIST_COMMON = [
    ("Kickoff call: goals, contacts and reporting cadence", False, 0),
    ("Name your day-to-day contact and who approves deliverables", True, 0),
    ("Share brand guidelines and assets", True, 3),
    ("Set up the client folder, channel and report template", False, 1),
]
CHECKLIST_BY_SERVICE = {
    "seo": [
        ("Give us access to Google Search Console", True, -1),
        ("Give us editor access to your CMS", True, -1),
        ("Baseline crawl and technical findings", False, 5),
        ("Agree the first keyword priorities", False, 10),
    ],
    "paid_media": [
        ("Give us access to your ad accounts", True, -1),
        ("Confirm the monthly ad budget and who pays the platforms", True, 0),
        ("Check conversion tracking before launch", False, 3),
        ("Launch plan for the first campaigns", False, 7),
    ],
    "crm_automation": [
        ("Give us admin access to your CRM", True, -1),
        ("Send your current pipeline stages and lead sources", True, 2),
        ("Map lead routing and automations", False, 5),
        ("Test plan for the automations", False, 10),
    ],
    "web_build": [
        ("Give us access to your domain, DNS and hosting", True, 0),
        ("Send page copy and imagery", True, 7),
        ("Sitemap and wireframes", False, 5),
        ("Launch checklist and redirects", False, 20),
    ],
    "analytics": [
        ("Give us access to GA4 and Tag Manager", True, -1),
        ("List the conversions that matter to you", True, 2),
        ("Tracking plan", False, 5),
        ("Dashboard draft", False, 10),
    ],
    "content": [
        ("Share your tone of voice and past content", True, 0),
        ("Name the experts we may interview", True, 3),
        ("Editorial calendar for the first month", False, 7),
        ("First article brief", False, 10),
    ],
}

STEPS = (
    "client",
    "project",
    "promises",
    "checklist",
    "connectors",
    "invite",
    "report",
    "tasks",
    "packet",
    "notice",
    "done",
)


def checklist_for(service: str) -> list[tuple[str, bool, int]]:
    return CHECKLIST_COMMON + CHECKLIST_BY_SERVICE.get(service, [])


def provider_systems(stack: str | None) -> list[str]:
    """The systems of a provider stack: split on commas, semicolons and newlines, trimmed, deduplicated."""
    seen, out = set(), []
    for raw in re.split(r"[,;\n\r]+", stack or ""):
        name = " ".join(raw.split())[:120]
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            out.append(name)
    return out


def _lock(session: Session, lead_id: int) -> tuple[Lead | None, set[str]]:
    """The lead, locked for this transaction (PostgreSQL) and freshly read, and which of the
    handoff's events its trail already holds.

    Two statements on purpose: under READ COMMITTED a statement that waited for the row lock still
    reads every other table as of its own start, so events checked in the locking statement miss
    those a concurrent run committed while this one waited (and its inserts then hit the unique
    task keys). The check that follows the lock is a new statement: it sees them, and a second run
    of the same handoff returns "already done"."""
    lead = session.execute(
        sa.select(Lead).where(Lead.id == lead_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if lead is None:
        return None, set()
    kinds = ("handoff_started", "handoff_done")
    done = set(
        session.scalars(
            sa.select(Event.kind).where(Event.lead_id == lead_id, Event.kind.in_(kinds)).distinct()
        )
    )
    return lead, done


def run_handoff(session: Session, lead_id: int, *, checkpoint: Callable[[str], None] | None = None) -> str:
    """Fan a won deal out into client, project, checklist, connectors, invite, report, packet, notice.

    Refuses (Invalid) a lead that is not won. A handoff already done returns "already done" and
    changes nothing. Nothing is committed here: the caller commits the whole handoff at once.
    `checkpoint(step)` is called after each step (fault injection in tests).
    """
    lead, done = _lock(session, lead_id)
    if lead is None:
        raise Invalid(f"Lead {lead_id} does not exist.")
    if lead.stage != "won":
        raise Invalid("Only a won deal is handed off.")
    if "handoff_done" in done:
        return "already done"
    if "handoff_started" not in done:
        record_event(session, lead, "handoff_started", None)
    # No handoff_started: no run of this handoff ever committed, so nothing keyed "handoff:<lead>:..."
    # exists yet and those keys are not looked up (the unique keys would still refuse a duplicate).
    ctx = _Context(session, lead, fresh="handoff_started" not in done)
    for step in STEPS:
        getattr(ctx, f"step_{step}")()
        if checkpoint is not None:
            checkpoint(step)
    session.flush()
    return "done"


class _Context:
    """The records of one handoff, looked up (never assumed) once each: the lead is locked and the
    whole handoff is one transaction, so they cannot change underneath it."""

    def __init__(self, session: Session, lead: Lead, fresh: bool = False):
        self.session = session
        self.lead = lead
        self.fresh = fresh
        self.client_is_new = self.project_is_new = False  # made by this run: nothing of theirs to look up
        self.new_connectors: list[Connector] = []
        self._proposals: list[Proposal] | None = None
        self._proposal: Proposal | None = None
        self._contract: Contract | None = None
        self._project: Project | None = None
        self._client: Client | None = None
        self.counts = {"checklist": 0, "client_items": 0, "connectors": 0}  # for the notice
        self.pending_tasks: list[dict] = []  # every task of the handoff, ensured in one batch (step_tasks)
        self.promises: list | None = None  # the promise ledger, when this run made it (the packet lists it)

    # lookups ------------------------------------------------------------------------------------
    @property
    def proposals(self) -> list[Proposal]:
        """Every version of the lead's proposal with its items, oldest first (the packet reads
        them too): one statement."""
        if self._proposals is None:
            self._proposals = list(
                self.session.execute(
                    sa.select(Proposal)
                    .options(joinedload(Proposal.items))
                    .where(Proposal.lead_id == self.lead.id)
                    .order_by(Proposal.number)
                )
                .unique()
                .scalars()
            )
        return self._proposals

    @property
    def proposal(self) -> Proposal:
        """The accepted version (the latest, should there be more)."""
        if self._proposal is None:
            self._proposal = next((p for p in reversed(self.proposals) if p.status == "accepted"), None)
        if self._proposal is None:
            raise Invalid("A won deal without an accepted proposal cannot be handed off.")
        return self._proposal

    @property
    def contract(self) -> Contract:
        if self._contract is None:
            self._contract = self.session.execute(
                sa.select(Contract).where(Contract.lead_id == self.lead.id)
            ).scalar_one_or_none()
        if self._contract is None:
            raise Invalid("A won deal without a contract cannot be handed off.")
        return self._contract

    @property
    def client(self) -> Client:
        # Held here: the session's identity map keeps rows only while something else refers to them.
        if self._client is None or self._client.id != self.lead.client_id:
            self._client = self.session.get(Client, self.lead.client_id)
        return self._client

    @property
    def project(self) -> Project:
        if self._project is None:
            self._project = self.session.execute(
                sa.select(Project).where(Project.lead_id == self.lead.id)
            ).scalar_one()
        return self._project

    def owner_id(self) -> int:
        return self.contract.onboarding_owner_id or self.lead.owner_id

    def key(self, *parts) -> str:
        return ":".join(["handoff", str(self.lead.id), *map(str, parts)])

    # steps --------------------------------------------------------------------------------------
    def step_client(self) -> None:
        self.client_is_new = self.lead.client_id is None
        client = self._client = ensure_client(self.session, self.lead, status="onboarding")
        if client.status in ("prospect", "paused", "churned"):
            client.status = "onboarding"  # an active client winning another deal stays active
        if client.owner_id is None:
            client.owner_id = self.lead.owner_id

    def step_project(self) -> None:
        """The project with the accepted scope. Its client text (next steps, launch blockers) starts
        unapproved: a task asks the onboarding owner to have it approved before the client sees it."""
        self._project = self.session.execute(
            sa.select(Project).where(Project.lead_id == self.lead.id)
        ).scalar_one_or_none()
        if self._project is None:
            self._make_project()
        project = self._project
        if project.client_text_status in ("none", "rejected") and project_client_text(project):
            title = f"Have the client text of {project.name} approved: the portal shows it only then"
            self.pending_tasks.append(
                {
                    "key": client_text_task_key(self.lead.id),
                    "kind": "onboarding",
                    "title": title[:300],
                    "owner_id": self.owner_id(),
                    "due": today(),
                    "lead_id": self.lead.id,
                    "project_id": project.id,
                }
            )

    def _make_project(self) -> None:
        lead, proposal, contract = self.lead, self.proposal, self.contract
        add_ons = list(proposal.accepted_add_on_ids or [])
        scope = dict(proposal.snapshot or {})
        scope.update(
            proposal_id=proposal.id,
            accepted_add_on_ids=add_ons,
            accepted_at=proposal.accepted_at.isoformat() if proposal.accepted_at else None,
        )
        self._project = Project(
            name=f"{lead.company} — {SERVICE_LABELS.get(proposal.service, proposal.service)}"[:200],
            client_id=lead.client_id,
            lead_id=lead.id,
            proposal_id=proposal.id,
            contract_id=contract.id,
            service=proposal.service,
            status="onboarding",
            scope_snapshot=scope,
            kickoff_date=contract.kickoff_date,
            onboarding_owner_id=self.owner_id(),
            payment_state=contract.payment_state or "not_invoiced",
            contract_state=contract.state,
            launch_blockers=contract.launch_blockers,
            client_launch_blockers=contract.client_launch_blockers,
            client_next_steps=(
                f"Kickoff on {contract.kickoff_date:%d %B %Y}." if contract.kickoff_date else None
            ),
            client_text_status="none",
            handoff_notes=_handoff_notes(lead),
        )
        self.session.add(self._project)
        self.session.flush()  # its id, for the checklist, connectors and report
        self.project_is_new = True

    def step_promises(self) -> None:
        """The promise ledger: each claim of the accepted version with the baseline it rests on, its
        target and the date it was promised (issue 21). Made once: by key."""
        rows = promises_for(self.project, self.proposal)
        if not self.project_is_new:
            have = set(
                self.session.scalars(sa.select(Promise.key).where(Promise.project_id == self.project.id))
            )
            rows = [r for r in rows if r.key not in have]
        self.session.add_all(rows)
        if self.project_is_new:
            self.promises = rows

    def step_checklist(self) -> None:
        project = self.project
        start = project.kickoff_date or today()
        checklist = checklist_for(project.service)
        self.pending_tasks += [
            {
                "key": self.key("onboarding", i),
                "kind": "onboarding",
                "title": title,
                "owner_id": project.onboarding_owner_id or self.lead.owner_id,
                "due": max(today(), start + timedelta(days=offset)),
                "lead_id": self.lead.id,
                "project_id": project.id,
                "client_visible": client_owned,
                "client_id": project.client_id if client_owned else None,
            }
            for i, (title, client_owned, offset) in enumerate(checklist)
        ]
        self.counts.update(
            checklist=len(checklist), client_items=sum(1 for _, owned, _ in checklist if owned)
        )

    def step_connectors(self) -> None:
        """The provider stack's connectors (their tasks join the batch of step_tasks)."""
        project = self.project
        existing = (
            set()
            if self.project_is_new
            else {
                n.casefold()
                for n in self.session.scalars(
                    sa.select(Connector.name).where(Connector.project_id == project.id)
                )
            }
        )
        owner_id = project.onboarding_owner_id or self.lead.owner_id
        for name in provider_systems(self.lead.provider_stack):
            if name.casefold() not in existing:
                existing.add(name.casefold())
                connector = Connector(
                    project_id=project.id, name=name, status="to_connect", owner_id=owner_id
                )
                self.session.add(connector)
                self.new_connectors.append(connector)
            digest = hashlib.sha1(name.casefold().encode()).hexdigest()[:12]
            self.pending_tasks.append(
                {
                    "key": self.key("connector", digest),
                    "kind": "connector",
                    "title": f"Connect {name} for {self.lead.company}"[:300],
                    "owner_id": owner_id,
                    "due": max(today(), (project.kickoff_date or today()) + timedelta(days=3)),
                    "lead_id": self.lead.id,
                    "project_id": project.id,
                }
            )
        self.counts["connectors"] = len(existing)

    def step_invite(self) -> None:
        lead, client = self.lead, self.client
        user = ensure_client_contact(
            self.session, client, email=lead.contact_email, name=lead.contact_name, lead=lead
        )
        if user is None:  # no email, or it belongs to someone else: staff decide, nothing is merged
            self.pending_tasks.append(
                {
                    "key": self.key("portal_access"),
                    "kind": "onboarding",
                    "title": f"Give {client.name} portal access: the contact email is missing or taken",
                    "owner_id": self.owner_id(),
                    "due": today(),
                    "lead_id": lead.id,
                    "project_id": self.project.id,
                }
            )

    def step_report(self) -> None:
        client, project = self.client, self.project
        start, end = period_for(client.report_cadence, project.kickoff_date or today())
        ensure_client_report(
            self.session,
            client,
            start,
            end,
            owner_id=client.owner_id or self.owner_id(),
            project_id=project.id,
            lead_id=self.lead.id,
            client_is_new=self.client_is_new,
            pending_tasks=self.pending_tasks,
        )

    def step_tasks(self) -> None:
        """Checklist, connector, portal-access and report tasks: one lookup, one batched insert."""
        handoff_key = self.key("")
        known_new = {
            t["key"]
            for t in self.pending_tasks
            if (self.fresh and t["key"].startswith(handoff_key))
            or (self.client_is_new and t["kind"] == "report")
        }
        if self.pending_tasks:
            ensure_tasks(self.session, self.pending_tasks, known_new=known_new)
        self.pending_tasks = []

    def step_packet(self) -> None:
        key = stored_packet_key(self.lead.id)
        if not self.fresh and self.session.execute(sa.select(Report.id).where(Report.key == key)).first():
            return
        project = self.project
        held = {
            "lead": self.lead,
            "contract": self.contract,
            "project": project,
            "stored": None,
            "proposals": self.proposals,
        }
        if self.promises is not None:
            held["promises"] = self.promises
        if self.project_is_new:
            self.session.flush()  # the connectors' ids, for their order
            held["connectors"] = sorted(self.new_connectors, key=lambda k: k.id)
        # The staff copy of the packet (zarts.domain.reads.outputs), frozen as it stood at the handoff.
        self.session.add(
            Report(
                kind="handoff_packet",
                key=key,
                title=f"Handoff packet: {project.name}"[:200],
                client_id=project.client_id,
                project_id=project.id,
                lead_id=self.lead.id,
                owner_id=self.owner_id(),
                status="draft",
                figures=packet(self.session, self.lead.id, copy="staff", held=held),
            )
        )

    def step_notice(self) -> None:
        owner = self.session.get(User, self.owner_id())
        if owner is None:
            return
        project, client = self.project, self.client
        counts = dict(self.counts)  # what the checklist and connector steps ensured
        subject, body = render_message(
            "handoff_notice", owner=owner, project=project, client=client, lead=self.lead, counts=counts
        )
        log_message(
            self.session,
            subject=subject,
            body=body,
            direction="internal",
            lead_id=self.lead.id,
            project_id=project.id,
            to_email=owner.email,
            key=self.key("notice"),
            key_is_new=self.fresh,
        )

    def step_done(self) -> None:
        # run_handoff found no handoff_done with the lead locked, and this is the same transaction.
        record_event(
            self.session,
            self.lead,
            "handoff_done",
            None,
            project_id=self.project.id,
            client_id=self.lead.client_id,
        )


def _handoff_notes(lead: Lead) -> str:
    parts = [
        ("Pain points", lead.pain_points),
        ("Current lead flow", lead.current_lead_flow),
        ("Decision criteria", lead.decision_criteria),
        ("Provider stack", lead.provider_stack),
        ("Discovery notes", lead.discovery_notes),
    ]
    return "\n".join(f"{label}: {value.strip()}" for label, value in parts if value and value.strip())
