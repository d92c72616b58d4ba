"""The sales pipeline: leads, their events and tasks, and audits."""

from __future__ import annotations

import json
import random

from zarts.models import keys
from zarts.models.vocab import LOST_REASONS, PAUSE_REASONS, SERVICE_LABELS, SOURCES, STAGES, TASK_KINDS

from .common import (
    APPROVER_ID,
    AUDIT,
    BASELINES,
    BUDGETS,
    CAVEATS,
    CLIENT_SUMMARIES,
    CLIENT_TASKS,
    CONTACT_PATHS,
    CONTRACT,
    CRITERIA,
    DECISION_OWNERS,
    DELIVERY_ID,
    DESIGNATED_EVENTS,
    DISCOVERY,
    EVENT_FILLERS,
    FINDINGS,
    LEAD_FLOWS,
    LOST,
    LOST_NOTES,
    NEW,
    NEXT_ACTIONS,
    NEXT_BY_STAGE,
    PAIN_POINTS,
    PAUSE_NOTES,
    PROPOSAL,
    PROVIDERS,
    QUALIFIED,
    RAW_NOTES,
    SOURCE_CONTEXT,
    TASK_TITLES,
    WON,
    company_of,
    contact_of,
    h32,
    hfrac,
    service_of,
)
from .plan import LATEST_DRAFT, Plan, audit_summary_status


LEAD_COLS = (
    "id",
    "title",
    "company",
    "contact_name",
    "contact_email",
    "contact_phone",
    "contact_path",
    "source",
    "source_context",
    "service",
    "service_fit",
    "urgency",
    "decision_owner",
    "decision_criteria",
    "budget_signal",
    "pain_points",
    "current_lead_flow",
    "provider_stack",
    "discovery_notes",
    "discovery_logged_at",
    "stage",
    "probability",
    "next_action",
    "next_action_due",
    "decision_deadline",
    "consent",
    "consent_recorded_at",
    "paused_at",
    "pause_reason",
    "pause_note",
    "lost_reason",
    "lost_note",
    "lost_at",
    "reactivation_date",
    "reactivation_never",
    "won_at",
    "owner_id",
    "client_id",
    "version",
    "created_at",
    "updated_at",
    "value_cents",
    "currency",
    "company_key",
    "email_key",
    "email_domain",
    "merged_into_id",
)
_EMAIL, _LOST_REASON = LEAD_COLS.index("contact_email"), LEAD_COLS.index("lost_reason")


def lead_value(lead_id: int) -> tuple[int | None, str | None]:
    """The deal's estimated value: set on ~70% of leads, 2,000-60,000 in whole hundreds, mostly EUR.

    A pure function of the id (not the leads' random stream), so adding it left every other column
    of an existing seed unchanged."""
    if hfrac(lead_id, 71) >= 0.7:
        return None, None
    units = 2_000 + int(hfrac(lead_id, 72) * 581) * 100
    pick = hfrac(lead_id, 73)
    return units * 100, "EUR" if pick < 0.8 else "USD" if pick < 0.92 else "GBP"


def merged_into(lead_id: int) -> int | None:
    """A lead lost as a duplicate was merged into an earlier one (up to 1,000 ids before it)."""
    if lead_id < 2:
        return None
    return lead_id - 1 - h32(lead_id ^ 0x2F0A1C3B) % min(lead_id - 1, 1_000)


def gen_leads(plan: Plan):
    rng = random.Random(f"{plan.seed}:leads")
    rnd, randint, choice = rng.random, rng.randint, rng.choice
    c = plan.clock
    ts, dayf = c.ts, c.day_of
    today = c.today_day
    stage_names = STAGES

    def rows():
        for i in range(1, plan.n + 1):
            s, r = plan.stage[i], plan.reached[i]
            t0, t1 = plan.t0[i], plan.t1[i]
            service = service_of(i)
            company = company_of(i)
            cname, cemail = contact_of(i)
            full = r >= QUALIFIED
            half = full or rnd() < 0.5
            disc = r >= DISCOVERY
            consent = "granted" if (full or rnd() < 0.4) else "unknown"
            if s == LOST and rnd() < 0.05:
                consent = "withdrawn"
            next_action = next_due = None
            if s < WON:
                next_action = NEXT_ACTIONS[choice(NEXT_BY_STAGE[s])]
                # 25% overdue, the rest due within three weeks
                next_due = dayf(today - randint(1, 20) if rnd() < 0.25 else today + randint(0, 21))
            probability = None
            if s >= PROPOSAL:
                probability = (
                    randint(20, 60)
                    if s == PROPOSAL
                    else randint(40, 90)
                    if s == CONTRACT
                    else 100
                    if s == WON
                    else 0
                )
            paused = plan.paused[i]
            lost = s == LOST
            never = lost and rnd() < 0.3
            react = None
            if lost and not never:
                react = dayf(t1 // 86400 + randint(60, 365))
            versions = 1 + r + (2 if s in (WON, LOST) else 0) + (2 if paused else 0)
            row = (
                i,
                f"{SERVICE_LABELS[service]} for {company}",
                company,
                cname,
                cemail if (half or rnd() < 0.8) else None,
                f"+49 30 {h32(i) % 10_000_000:07d}" if rnd() < 0.6 else None,
                choice(CONTACT_PATHS) if half else None,
                SOURCES[h32(i ^ 0x1B873593) % len(SOURCES)],
                choice(SOURCE_CONTEXT) if half else None,
                service,
                ("strong" if rnd() < 0.6 else "partial") if full else None,
                choice(("high", "medium", "low")) if full else None,
                choice(DECISION_OWNERS) if full else None,
                choice(CRITERIA) if disc else None,
                choice(BUDGETS) if full else None,
                choice(PAIN_POINTS) if disc else None,
                choice(LEAD_FLOWS) if disc else None,
                ", ".join(rng.sample(PROVIDERS, 3)) if disc else None,
                "Discovery call notes: team of 4, decision in 6 weeks" if disc else None,
                ts(t0 + (t1 - t0) // 4) if disc else None,
                stage_names[s],
                probability,
                next_action,
                next_due,
                dayf(today + randint(3, 30)) if s == CONTRACT else None,
                consent,
                ts(t0 + 3600) if consent != "unknown" else None,
                ts(t1 - 3600) if paused else None,
                choice(PAUSE_REASONS) if paused else None,
                choice(PAUSE_NOTES) if paused else None,
                choice(LOST_REASONS) if lost else None,
                choice(LOST_NOTES) if lost else None,
                ts(t1) if lost else None,
                react,
                1 if never else 0,
                ts(t1) if s == WON else None,
                plan.owner[i],
                plan.client[i] or None,
                versions,
                ts(t0),
                ts(t1),
            )
            # Match keys as the zarts.models.keys listeners would set them on an ORM insert.
            email = row[_EMAIL]
            yield row + (
                *lead_value(i),
                keys.company_key(company),
                keys.email_key(email),
                keys.email_domain(email),
                merged_into(i) if row[_LOST_REASON] == "duplicate" else None,
            )

    return LEAD_COLS, rows()


def event_skeleton(reached: int, final: int, paused: bool, n_sent: int):
    """The notable events of a lead's path, as [(kind, stage, payload)] in order."""
    ev = [("created", NEW, '{"source": "seed"}')]
    for st in range(QUALIFIED, min(reached, CONTRACT) + 1):
        ev.append(("stage_moved", st - 1, MOVE_PAYLOAD[(st - 1, st)]))
        if st == QUALIFIED:
            ev.append(("qualified", st, "{}"))
        elif st == DISCOVERY:
            ev.append(("discovery_logged", st, "{}"))
        elif st == AUDIT:
            ev.append(("audit_completed", st, "{}"))
        elif st == PROPOSAL:
            ev.append(("proposal_drafted", st, '{"number": 1}'))
            ev.append(("approval_requested", st, '{"kind": "pricing"}'))
        elif st == CONTRACT:
            ev.append(("approval_decided", PROPOSAL, '{"kind": "pricing", "state": "approved"}'))
            for k in range(max(1, n_sent)):
                if k:
                    ev.append(("proposal_revised", st, f'{{"number": {k + 1}}}'))
                ev.append(("proposal_sent", st, f'{{"number": {k + 1}}}'))
                ev.append(("proposal_viewed", st, f'{{"number": {k + 1}}}'))
    if paused:
        ev.append(("paused", reached, '{"reason": "timing"}'))
    if final == WON:
        ev += [
            ("proposal_accepted", CONTRACT, "{}"),
            ("contract_updated", CONTRACT, '{"state": "signed"}'),
            ("stage_moved", CONTRACT, MOVE_PAYLOAD[(CONTRACT, WON)]),
            ("won", WON, "{}"),
            ("handoff_started", WON, "{}"),
            ("handoff_done", WON, "{}"),
        ]
    elif final == LOST:
        if reached == CONTRACT:
            ev.append(("proposal_declined", CONTRACT, "{}"))
        ev += [("stage_moved", reached, MOVE_PAYLOAD[(reached, LOST)]), ("lost", LOST, '{"reason": "seed"}')]
    return ev


MOVE_PAYLOAD = {(a, b): json.dumps({"from": STAGES[a], "to": STAGES[b]}) for a in range(8) for b in range(8)}


EVENT_MEAN = {NEW: 2.0, QUALIFIED: 3.6, DISCOVERY: 5, AUDIT: 7, PROPOSAL: 9, CONTRACT: 12, WON: 18}


def gen_events(plan: Plan):
    cols = (
        "id",
        "lead_id",
        "kind",
        "actor_id",
        "owner_id",
        "stage",
        "next_action",
        "next_action_due",
        "payload",
        "created_at",
    )
    rng = random.Random(f"{plan.seed}:events")
    rnd, randint = rng.random, rng.randint
    c = plan.clock
    ts, dayf = c.ts, c.day_of
    stage_names = STAGES
    skeletons = {}

    def rows():
        eid = 0
        for i in range(1, plan.n + 1):
            s, r = plan.stage[i], plan.reached[i]
            paused = plan.paused[i]
            n_sent = plan.n_prop[i] - (1 if plan.latest[i] == LATEST_DRAFT else 0)
            key = (r, s, paused, n_sent)
            skel = skeletons.get(key)
            if skel is None:
                skel = skeletons[key] = event_skeleton(r, s, paused, n_sent)
            mean = EVENT_MEAN[s] if s != LOST else EVENT_MEAN[r] + 1.5
            if i == plan.designated:
                n = DESIGNATED_EVENTS
            else:
                n = max(len(skel), int(mean * (0.5 + rnd())))
            evs = list(skel)
            for _ in range(n - len(evs)):
                pos = randint(1, len(evs) - (1 if s in (WON, LOST) else 0))
                evs.insert(pos, (EVENT_FILLERS[int(rnd() * 7)], evs[pos - 1][1], None))
            t0, t1 = plan.t0[i], plan.t1[i]
            span = max(1, t1 - t0)
            times = sorted(t0 + int(rnd() * span) for _ in range(n - 1))
            owner = plan.owner[i]
            for k, (kind, st, payload) in enumerate(evs):
                eid += 1
                t = t0 if k == 0 else times[k - 1]
                na = nad = None
                actor = owner
                if kind == "next_action_set":
                    na = NEXT_ACTIONS[min(st, 5) + randint(0, 3)]
                    nad = dayf(t // 86400 + randint(1, 14))
                    payload = f'{{"next_action": "{na}"}}'
                elif payload is None:
                    payload = "{}"
                if kind == "approval_decided":
                    actor = APPROVER_ID
                elif kind == "handoff_done":
                    actor = None
                yield (eid, i, kind, actor, owner, stage_names[st], na, nad, payload, ts(t))

    return cols, rows()


TASK_MEAN_DONE = {
    NEW: 0.7,
    QUALIFIED: 1.7,
    DISCOVERY: 2.5,
    AUDIT: 3,
    PROPOSAL: 3.5,
    CONTRACT: 4,
    WON: 4,
    LOST: 2.5,
}


def gen_tasks(plan: Plan):
    cols = (
        "id",
        "kind",
        "title",
        "notes",
        "owner_id",
        "due",
        "done_at",
        "done_by_id",
        "lead_id",
        "client_id",
        "project_id",
        "client_visible",
        "key",
        "version",
        "created_at",
        "updated_at",
    )
    rng = random.Random(f"{plan.seed}:tasks")
    rnd, randint, choice = rng.random, rng.randint, rng.choice
    c = plan.clock
    ts, dayf = c.ts, c.day_of
    today = c.today_day
    kinds_by_stage = {
        NEW: ("follow_up",),
        QUALIFIED: ("follow_up", "follow_up", "other"),
        DISCOVERY: ("follow_up", "reply", "other"),
        AUDIT: ("follow_up", "other"),
        PROPOSAL: ("proposal_review", "follow_up"),
        CONTRACT: ("contract_step", "follow_up", "proposal_review"),
        WON: ("contract_step", "follow_up"),
        LOST: ("follow_up", "reply"),
    }
    assert set(TASK_TITLES) <= set(TASK_KINDS)

    def rows():
        tid = 0
        for i in range(1, plan.n + 1):
            s, r = plan.stage[i], plan.reached[i]
            t0, t1 = plan.t0[i], plan.t1[i]
            owner = plan.owner[i]
            span = max(1, t1 - t0)
            # done tasks along the way
            for _ in range(int(TASK_MEAN_DONE[s if s != LOST else r] * 2 * rnd() + 0.5)):
                tid += 1
                kind = choice(kinds_by_stage[s if s != LOST else LOST])
                made = t0 + int(rnd() * span)
                done = min(c.now, made + randint(3600, 5 * 86400))
                yield (
                    tid,
                    kind,
                    choice(TASK_TITLES[kind]),
                    None,
                    owner,
                    dayf(made // 86400 + randint(1, 7)),
                    ts(done),
                    owner,
                    i,
                    None,
                    None,
                    0,
                    None,
                    2,
                    ts(made),
                    ts(done),
                )
            if s < WON:
                # the open next action (some overdue), and sometimes a second open task
                for extra in range(1 + (rnd() < 0.3)):
                    tid += 1
                    kind = choice(kinds_by_stage[s])
                    due = today - randint(1, 20) if rnd() < 0.25 else today + randint(0, 21)
                    yield (
                        tid,
                        kind,
                        choice(TASK_TITLES[kind]),
                        None,
                        owner,
                        dayf(due),
                        None,
                        None,
                        i,
                        plan.client[i] or None,
                        None,
                        0,
                        None,
                        1,
                        ts(t1),
                        ts(t1),
                    )
            elif s == LOST and rnd() < 0.6:
                tid += 1
                due = t1 // 86400 + randint(60, 365)
                done = due < today and rnd() < 0.5
                yield (
                    tid,
                    "reactivation",
                    choice(TASK_TITLES["reactivation"]),
                    None,
                    owner,
                    dayf(due),
                    ts(due * 86400 + 40000) if done else None,
                    owner if done else None,
                    i,
                    None,
                    None,
                    0,
                    None,
                    2 if done else 1,
                    ts(t1),
                    ts(due * 86400 + 40000) if done else ts(t1),
                )
            elif s == WON:
                project, client = plan.project[i], plan.client[i]
                kickoff = t1 // 86400 + 14
                for k, title in enumerate(TASK_TITLES["onboarding"]):
                    tid += 1
                    due = kickoff + k - 3
                    visible = k in CLIENT_TASKS
                    done = due < today - 2 or (due < today + 7 and rnd() < 0.5)
                    done_t = min(c.now, due * 86400 + 30000)
                    yield (
                        tid,
                        "onboarding",
                        title,
                        None,
                        DELIVERY_ID,
                        dayf(due),
                        ts(done_t) if done else None,
                        (DELIVERY_ID if not visible else None) if done else None,
                        i,
                        client,
                        project,
                        1 if visible else 0,
                        f"handoff:{i}:onboarding:{k}",
                        2 if done else 1,
                        ts(t1 + 600),
                        ts(done_t) if done else ts(t1 + 600),
                    )

    return cols, rows()


def gen_audits(plan: Plan):
    cols = (
        "id",
        "lead_id",
        "status",
        "findings",
        "baseline_figures",
        "raw_notes",
        "provider_caveats",
        "client_summary",
        "client_summary_status",
        "completed_at",
        "completed_by_id",
        "version",
        "created_at",
        "updated_at",
    )
    rng = random.Random(f"{plan.seed}:audits")
    choice = rng.choice
    ts = plan.clock.ts

    def rows():
        for i in range(1, plan.n + 1):
            a = plan.audit[i]
            if not a:
                continue
            done = plan.audit_done[i] == 2
            t0, t1 = plan.t0[i], plan.t1[i]
            made = t0 + (t1 - t0) * 2 // 5
            completed = t0 + (t1 - t0) // 2
            summary_status = audit_summary_status(a, done)
            yield (
                a,
                i,
                "completed" if done else "draft",
                choice(FINDINGS) if (done or rng.random() < 0.5) else None,
                choice(BASELINES) if done else None,
                choice(RAW_NOTES),
                choice(CAVEATS),
                choice(CLIENT_SUMMARIES) if summary_status != "none" else None,
                summary_status,
                ts(completed) if done else None,
                plan.owner[i] if done else None,
                2 if done else 1,
                ts(made),
                ts(completed if done else made),
            )

    return cols, rows()
