"""After the win: projects, connectors, reports and report notes."""

from __future__ import annotations

import json
import random

from zarts.models.vocab import ITEM_KINDS, SERVICE_LABELS

from .common import (
    ADMIN_ID,
    CONNECTOR_NAMES,
    DELIVERY_ID,
    NOTE_BODIES_INTERNAL,
    NOTE_BODIES_SAFE,
    company_of,
    hfrac,
    service_of,
)
from .plan import Plan, items_of, note_shape


def gen_projects(plan: Plan):
    cols = (
        "id",
        "name",
        "client_id",
        "lead_id",
        "proposal_id",
        "contract_id",
        "service",
        "status",
        "scope_snapshot",
        "kickoff_date",
        "onboarding_owner_id",
        "payment_state",
        "contract_state",
        "launch_blockers",
        "client_launch_blockers",
        "client_next_steps",
        "client_text_status",
        "handoff_notes",
        "version",
        "created_at",
        "updated_at",
    )
    rng = random.Random(f"{plan.seed}:projects")
    c = plan.clock
    ts, day = c.ts, c.day

    def rows():
        for p in range(1, plan.n_projects + 1):
            i = plan.project_lead[p]
            t1 = plan.t1[i]
            kickoff = t1 + 14 * 86400
            age_days = (c.now - kickoff) // 86400
            status = (
                "onboarding"
                if age_days < 30
                else rng.choice(("active", "active", "active", "paused", "completed"))
            )
            pid = plan.prop_first[i] + plan.n_prop[i] - 1
            items = items_of(plan.seed, pid, True)
            scope = json.dumps(
                {k: [it[1] for it in items if it[0] == k] for k in ITEM_KINDS}, separators=(",", ":")
            )
            blockers = status == "onboarding" and rng.random() < 0.4
            yield (
                p,
                f"{SERVICE_LABELS[service_of(i)]} — {company_of(i)}",
                plan.client[i],
                i,
                pid,
                plan.contract[i],
                service_of(i),
                status,
                scope,
                day(kickoff),
                DELIVERY_ID,
                rng.choice(("invoiced", "deposit_paid", "paid", "paid", "overdue")),
                "signed",
                "Pixel not installed on checkout" if blockers else None,
                "Tracking code still to be added to your checkout" if blockers else None,
                "Kickoff call, then access checklist" if status == "onboarding" else None,
                # the portal shows the client fields once approved; a fifth wait for the approver
                ("pending" if hfrac(p, 91) < 0.2 else "approved") if status == "onboarding" else "none",
                "Owner prefers calls to email",
                2,
                ts(t1 + 600),
                ts(min(c.now, kickoff + 86400)),
            )

    return cols, rows()


def gen_connectors(plan: Plan):
    cols = ("id", "project_id", "name", "status", "owner_id", "notes", "version", "created_at", "updated_at")
    rng = random.Random(f"{plan.seed}:connectors")
    ts = plan.clock.ts

    def rows():
        cid = 0
        for p in range(1, plan.n_projects + 1):
            i = plan.project_lead[p]
            t = ts(plan.t1[i] + 900)
            for name in rng.sample(CONNECTOR_NAMES, rng.randint(2, 4)):
                cid += 1
                f = rng.random()
                status = "connected" if f < 0.6 else "to_connect" if f < 0.9 else "blocked"
                yield (
                    cid,
                    p,
                    name,
                    status,
                    DELIVERY_ID,
                    "API quota 1k calls/day" if status == "blocked" else None,
                    1,
                    t,
                    t,
                )

    return cols, rows()


def gen_reports(plan: Plan):
    cols = (
        "id",
        "kind",
        "title",
        "client_id",
        "project_id",
        "lead_id",
        "owner_id",
        "cadence",
        "period_start",
        "period_end",
        "status",
        "figures",
        "client_summary",
        "internal_body",
        "published_at",
        "key",
        "version",
        "created_at",
        "updated_at",
    )
    rng = random.Random(f"{plan.seed}:reports")
    c = plan.clock
    ts, day = c.ts, c.day

    def rows():
        for rid, kind, project, client, lead, start, status, k in plan.reports():
            published = ts(start + 31 * 86400) if status == "published" else None
            if kind == "handoff_packet":
                yield (
                    rid,
                    kind,
                    f"Handoff packet — {company_of(lead)}",
                    client,
                    project,
                    lead,
                    plan.owner[lead],
                    None,
                    None,
                    None,
                    status,
                    json.dumps({"tasks": 8}),
                    "Your onboarding plan and the people you will work with.",
                    "Promised in sales: weekly call in month 1",
                    ts(start + 86400) if published else None,
                    f"handoff:{lead}",
                    2,
                    ts(start + 600),
                    ts(start + 86400),
                )
            elif kind == "client_report":
                figures = json.dumps(
                    {
                        "leads": rng.randint(20, 400),
                        "cpl_eur": rng.randint(20, 140),
                        "spend_eur": rng.randint(1000, 30000),
                    }
                )
                end = start + 30 * 86400
                yield (
                    rid,
                    kind,
                    f"Monthly report {day(start)[:7]} — {company_of(lead)}",
                    client,
                    project,
                    lead,
                    DELIVERY_ID,
                    "monthly",
                    day(start),
                    day(end - 86400),
                    status,
                    figures,
                    "Leads grew, cost per lead fell." if status != "draft" else None,
                    "Spend paced under plan",
                    published,
                    f"report:{project}:{k}",
                    3 if status == "published" else 1,
                    ts(end),
                    ts(min(c.now, end + 2 * 86400)),
                )
            else:
                yield (
                    rid,
                    kind,
                    f"Pipeline week of {day(start)}",
                    None,
                    None,
                    None,
                    ADMIN_ID,
                    "weekly",
                    day(start),
                    day(start + 6 * 86400),
                    status,
                    json.dumps({"new": rng.randint(100, 900), "won": rng.randint(1, 30)}),
                    None,
                    "Weekly pipeline numbers",
                    published,
                    f"pipeline:{day(start)}",
                    1,
                    ts(start + 7 * 86400),
                    ts(start + 7 * 86400),
                )

    return cols, rows()


def gen_report_notes(plan: Plan):
    cols = (
        "id",
        "report_id",
        "audit_id",
        "visibility",
        "status",
        "body",
        "author_id",
        "version",
        "created_at",
        "updated_at",
    )
    rng = random.Random(f"{plan.seed}:notes")
    c = plan.clock
    ts = c.ts

    def rows():
        for rid, _kind, _p, _c, _lead, start, _status, _k in plan.reports():
            t = ts(start + 20 * 86400)
            for nid in (2 * rid - 1, 2 * rid):
                vis, status = note_shape(nid)
                body = rng.choice(NOTE_BODIES_SAFE if vis == "client_safe" else NOTE_BODIES_INTERNAL)
                yield (nid, rid, None, vis, status, body, DELIVERY_ID, 1 if status == "none" else 2, t, t)

    return cols, rows()
