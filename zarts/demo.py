"""Demo data: a realistic agency pipeline built through the domain layer, like users would build it."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from .auth import set_password
from .domain import (
    approvals,
    audits,
    citations,
    contracts,
    evidence,
    pipeline,
    projects,
    proposals,
    publication,
    unit,
)
from .domain import promises as promise_ledger
from .domain.gates import live_proposal
from .domain.messaging import post_client_message, post_staff_message
from .extensions import db
from .models import Project, Promise, Report, User, today

DEMO_PASSWORD = "demo-password-2026"

STAFF = [
    ("admin", "admin@zarts.test", "Ada Admin"),
    ("growth_ops", "ops@zarts.test", "Olga Ops"),
    ("growth_ops", "ops2@zarts.test", "Omar Ops"),
    ("approver", "approver@zarts.test", "Arun Approver"),
    ("delivery", "delivery@zarts.test", "Dana Delivery"),
]

# (company, contact, service, source, target stage, extra)
LEADS = [
    ("Brightside Dental", "Maya Chen", "seo", "website", "new", {}),
    ("Northwind Logistics", "Tom Berg", "paid_media", "outbound", "new", {"urgency": None}),
    ("Kestrel Legal", "Ana Ruiz", "crm_automation", "referral", "qualified", {}),
    ("Harbor Fitness", "Leo Park", "web_build", "event", "qualified", {"consent": "unknown"}),
    ("Fable Furniture", "Ivy Stone", "content", "partner", "discovery", {}),
    ("Oakline Clinics", "Raj Patel", "analytics", "website", "discovery", {"paused": "timing"}),
    ("Summit Solar", "Eva Novak", "paid_media", "referral", "audit", {}),
    ("Cobalt Insurance", "Sam Okafor", "crm_automation", "ads", "audit", {"audit_done": True}),
    ("Pioneer Pet Care", "Nina Holm", "seo", "website", "proposal", {}),
    ("Lumen Architects", "Jon Weber", "web_build", "referral", "proposal", {"draft": True}),
    ("Atlas Robotics", "Kira Sato", "analytics", "event", "contract", {}),
    ("Meridian Hotels", "Paul Dubois", "paid_media", "partner", "contract", {"viewed": True}),
    ("Greenleaf Grocers", "Olivia Grant", "seo", "referral", "won", {}),
    ("Vertex Software", "Hugo Lind", "crm_automation", "outbound", "lost", {"lost": ("competitor", 120)}),
    ("Quill Publishing", "Rita Moss", "content", "website", "lost", {"lost": ("poor_fit", None)}),
]

SCOPES = {
    "included": ["Technical audit fixes (top 20 issues)", "Monthly reporting call"],
    "excluded": ["Paid media management", "Content writing beyond 4 pages"],
    "add_on": [("Landing page copy pack", 90000), ("Quarterly CRO workshop", 150000)],
    "assumption": ["CMS and analytics access in week 1"],
    "dependency": ["Client's developer available 4h/week"],
}


def _scope():
    items = [
        {"kind": k, "title": t}
        for k in ("included", "excluded", "assumption", "dependency")
        for t in SCOPES[k]
    ]
    items += [{"kind": "add_on", "title": t, "price_cents": p} for t, p in SCOPES["add_on"]]
    return items


def demo_logins() -> list[tuple[str, str]]:
    rows = db.session.execute(
        sa.select(User.role, User.email)
        .where(User.active.is_(True))
        .order_by(User.role != "admin", User.client_id.is_not(None), User.id)
    ).all()
    return [(r, e) for r, e in rows if e.endswith("@zarts.test") or r == "client"]


def seed(password: str) -> list[tuple[str, str]] | None:
    """Fill an empty database; return the logins made, or None when the database is not empty."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(User)):
        return None
    staff = {}
    for role, email, name in STAFF:
        user = User(email=email, name=name, role=role)
        set_password(user, password)
        db.session.add(user)
        staff[email] = user
    db.session.commit()
    owners = [staff["ops@zarts.test"], staff["ops2@zarts.test"]]
    for i, (company, contact, service, source, stage, extra) in enumerate(LEADS):
        _build(company, contact, service, source, stage, extra, owners[i % 2], staff)
    for user in db.session.scalars(sa.select(User).where(User.role == "client")):
        set_password(user, password)
    db.session.commit()
    return demo_logins()


def _build(company, contact, service, source, stage, extra, owner, staff):
    s, due = db.session, today() + timedelta(days=3)
    slug = company.split()[0].lower()
    with unit(s):
        lead = pipeline.create_lead(
            s,
            owner,
            title=f"{company}: {service.replace('_', ' ')}",
            company=company,
            contact_name=contact,
            contact_email=f"{contact.split()[0].lower()}@{slug}.example",
            contact_phone="+44 20 7946 0000",
            contact_path="Email first, then a call",
            source=source,
            source_context=f"{source.title()} enquiry about {service.replace('_', ' ')}",
            service=service,
            service_fit="strong",
            urgency=extra.get("urgency", "medium"),
            decision_owner=contact,
            budget_signal="4-8k EUR / month",
            consent=extra.get("consent", "granted"),
            next_action="Qualify on a short call",
            next_action_due=due,
            owner_id=owner.id,
        )
    approver = staff["approver@zarts.test"]
    with unit(s):
        if stage == "new":
            return
        pipeline.move(
            s, lead, "qualified", owner, lead.version, next_action="Book discovery call", next_action_due=due
        )
    if stage == "lost":
        reason, days = extra["lost"]
        with unit(s):
            pipeline.mark_lost(
                s,
                lead,
                owner,
                lead.version,
                lost_reason=reason,
                lost_note="Chose an in-house team" if reason == "competitor" else None,
                reactivation_date=today() + timedelta(days=days) if days else None,
                reactivation_never=days is None,
            )
        return
    if stage == "qualified":
        return
    with unit(s):
        pipeline.move(
            s, lead, "discovery", owner, lead.version, next_action="Run discovery", next_action_due=due
        )
    if extra.get("paused"):
        with unit(s):
            pipeline.pause(s, lead, owner, lead.version, extra["paused"], "Budget opens next quarter")
    if stage == "discovery":
        return
    with unit(s):
        pipeline.log_discovery(
            s,
            lead,
            owner,
            lead.version,
            pain_points="Leads go cold before anyone calls back",
            current_lead_flow="Web form to a shared inbox, ~120 leads a month",
            provider_stack="HubSpot, Google Ads\nGA4, WordPress",
            decision_criteria="Cost per qualified lead within 90 days",
            discovery_notes="They had a bad agency experience in 2025",
        )
        pipeline.move(
            s, lead, "audit", owner, lead.version, next_action="Run the pre-sale audit", next_action_due=due
        )
    if stage == "audit" and not extra.get("audit_done"):
        with unit(s):
            audit = audits.start_audit(s, lead, owner)
            audits.save_audit(
                s,
                audit,
                owner,
                audit.version,
                findings="Mobile form drops 30% of visitors",
                raw_notes="Their GA4 setup double counts conversions",
            )
            evidence.add_item(
                s,
                audit,
                owner,
                kind="finding",
                raw_note="Form errors on iOS Safari only",
                client_text="Most of the visitors who leave the form do so on a phone.",
            )
        return
    with unit(s):
        audit = audits.start_audit(s, lead, owner)
        audits.save_audit(
            s,
            audit,
            owner,
            audit.version,
            findings="Mobile form drops 30% of visitors; 40% of leads wait > 24h for a reply",
            baseline_figures="CPL 84 EUR; 120 leads/month; 9% lead-to-call",
            raw_notes="GA4 double counts form submits; the CEO distrusts agencies",
            provider_caveats="HubSpot Starter limits workflows to 5",
            client_summary="Your mobile form loses about a third of visitors, and replies "
            "often take more than a day.",
        )
        items = _evidence(s, audit, owner)
        audits.complete_audit(s, audit, owner, audit.version)
        summary = audits.request_summary_approval(s, audit, owner)
        approvals.decide(s, summary, approver, summary.version, approve=True)
        for item in items:  # each piece of evidence in the words the client may read
            a = evidence.request_item_approval(s, item, owner)
            approvals.decide(s, a, approver, a.version, approve=True)
    if stage == "audit":
        return
    with unit(s):
        pipeline.move(
            s, lead, "proposal", owner, lead.version, next_action="Draft the proposal", next_action_due=due
        )
        p = proposals.draft_proposal(
            s,
            lead,
            owner,
            title=f"{company} growth plan",
            items=_scope(),
            summary="A 12-week plan to fix the mobile form and answer every lead within an hour.",
            price_cents=480000,
            timeline="12 weeks from kickoff",
            expected_improvement="Cost per qualified lead down 15-20% within 90 days",
            contract_language="Monthly retainer, 30 days notice, standard MSA v3",
            pricing_assumptions="Margin assumes 22h/month",
            internal_notes="Competitor quoted 3.9k",
        )
        # Every promise cites its proof: the claim rests on the baseline (with a target), the
        # timeline on the finding, and the form rebuild promises an outcome resting on the finding.
        finding, baseline, provider = items
        rebuild = next(i for i in p.items if i.kind == "included")
        citations.cite(
            s,
            p,
            owner,
            None,
            {
                "expected_improvement": [baseline.id, provider.id],
                "timeline": [finding.id],
                f"item:{rebuild.id}": [finding.id],
            },
            promising=[rebuild.id],
            targets={("expected_improvement", baseline.id): "70"},
        )
    if extra.get("draft"):
        with unit(s):
            proposals.request_approvals(s, p, owner)
        return
    if stage == "proposal":
        return
    with unit(s):
        for a in proposals.request_approvals(s, p, owner):
            approvals.decide(s, a, approver, a.version, approve=True)
        proposals.send_proposal(
            s,
            p,
            owner,
            p.version,
            follow_up_date=today() + timedelta(days=2),
            decision_deadline=today() + timedelta(days=14),
        )
    contact_user = s.scalars(sa.select(User).where(User.client_id == lead.client_id)).first()
    if extra.get("viewed"):
        with unit(s):
            proposals.record_view(s, p, contact_user)
            proposals.record_objection(s, p, owner, p.version, "Wants a shorter notice period")
    if stage == "contract":
        return
    with unit(s):
        live = live_proposal(s, lead.id)
        add_on = next(i["id"] for i in live.snapshot["items"] if i["kind"] == "add_on")
        proposals.record_view(s, live, contact_user)
        proposals.accept_proposal(s, live, contact_user, live.version, add_on_ids=[add_on])
        contracts.update_contract(
            s,
            lead,
            owner,
            None,
            state="signed",
            payment_state="deposit_paid",
            kickoff_date=today() + timedelta(days=7),
            onboarding_owner_id=staff["delivery@zarts.test"].id,
            launch_blockers="Waiting on HubSpot admin rights from their IT",
            client_launch_blockers="We need admin access to HubSpot before launch.",
        )
        pipeline.mark_won(s, lead, owner, lead.version)
    _after_win(lead, owner, staff, contact_user)


def _after_win(lead, owner, staff, contact_user):
    """What a won client looks like a few weeks in: the project's client text approved, a published
    report with notes, a message thread."""
    s = db.session
    client = lead.client
    project = s.scalar(sa.select(Project).where(Project.lead_id == lead.id))
    if project is not None:  # the handoff ran (jobs in-process): its client text goes to approval
        with unit(s):
            a = projects.request_project_text_approval(s, project, staff["delivery@zarts.test"])
            approvals.decide(s, a, staff["approver@zarts.test"], a.version, approve=True)
    with unit(s):
        report = Report(
            kind="client_report",
            title=f"{client.name} — first month",
            client_id=client.id,
            lead_id=lead.id,
            owner_id=owner.id,
            cadence="monthly",
            project_id=project.id if project is not None else None,
            period_start=today() - timedelta(days=30),
            period_end=today(),
            figures={"leads": 134, "cpl_eur": 76.4},
            client_summary="Leads rose 12% and cost per lead fell to 76 EUR.",
            internal_body="Attribution still noisy; do not promise more than 15%.",
            key=f"demo:report:{client.id}",
        )
        s.add(report)
        s.flush()
        publication.add_note(
            s, owner, body="Paid search carried most of the gain.", visibility="client_safe", report=report
        )
        publication.add_note(
            s,
            owner,
            body="Client's IT is slow; escalate HubSpot access.",
            visibility="internal",
            report=report,
        )
    if project is not None:  # delivery measured the promised cost per lead (issue 21)
        with unit(s):
            for promise in s.scalars(
                sa.select(Promise).where(Promise.project_id == project.id, Promise.metric.is_not(None))
            ):
                promise_ledger.record_measurement(
                    s,
                    promise,
                    staff["delivery@zarts.test"],
                    period="Nov 2026",
                    value="76.4",
                    note="From the HubSpot export of 1 Dec",
                )
    with unit(s):
        for note in report.notes:
            if note.visibility == "client_safe":
                a = publication.request_note_approval(s, note, owner)
                approvals.decide(s, a, staff["approver@zarts.test"], a.version, approve=True)
        a = publication.request_report_approval(s, report, owner)
        approvals.decide(s, a, staff["approver@zarts.test"], a.version, approve=True)
        publication.publish_report(s, report, owner, report.version)
    with unit(s):
        post_staff_message(
            s,
            owner,
            client=client,
            subject="Welcome aboard",
            body="Kickoff is next week. Your onboarding checklist is in the portal.",
            lead=lead,
        )
        post_client_message(
            s, contact_user, "Great — who should our IT contact for HubSpot access?", lead=lead
        )


def _evidence(s, audit, owner):
    """The audit's evidence as data: a finding, a baseline metric and provider data."""
    return [
        evidence.add_item(
            s,
            audit,
            owner,
            kind="finding",
            raw_note="Form errors on iOS Safari; GA4 funnel",
            client_text="About 40 % of mobile visitors leave the contact form before sending it.",
        ),
        evidence.add_item(
            s,
            audit,
            owner,
            kind="baseline",
            metric="cost per qualified lead",
            value="84",
            unit="EUR",
            period="Sep 2026",
            source="Google Ads export, Sep 2026",
            better="lower",
            raw_note="Brand campaigns excluded",
            client_text="Your cost per qualified lead was 84 EUR in September.",
        ),
        evidence.add_item(
            s,
            audit,
            owner,
            kind="provider_data",
            provider="HubSpot",
            excerpt="120 new contacts a month; median first reply 26 h",
            export_note="hubspot-contacts-2026-09.csv",
            raw_note="Starter plan: 5 workflows",
            client_text="Your CRM shows replies to new leads take a day on average.",
        ),
    ]
