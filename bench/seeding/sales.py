"""Proposals and their items, messages, contracts and approvals."""

from __future__ import annotations

import json
import random

from zarts.models.vocab import ITEM_KINDS, SERVICE_LABELS

from .common import (
    ADMIN_ID,
    APPROVAL_COMMENTS,
    APPROVER_ID,
    CLIENT_SUMMARIES,
    CONTRACT_LANG,
    DECLINES,
    DELIVERY_ID,
    DISCOVERY,
    IMPROVEMENTS,
    ITEM_TITLES,
    LOST,
    MSG_BODIES,
    MSG_SUBJECTS_IN,
    MSG_SUBJECTS_PORTAL,
    NOTE_BODIES_SAFE,
    OBJECTIONS,
    TIMELINES,
    company_of,
    contact_of,
    service_of,
)
from .plan import CONTRACT_CODES, Plan, audit_summary_status, items_of, note_shape, proposal_status


def _proposal_times(plan: Plan, lead: int, number: int):
    """(created, sent) epoch seconds of version `number`, spread over the later part of the lead's life."""
    t0, t1 = plan.t0[lead], plan.t1[lead]
    k = plan.n_prop[lead]
    start = t0 + (t1 - t0) * 11 // 20
    step = (t1 - start) // (k + 1)
    created = start + step * (number - 1)
    return created, created + step // 2


def gen_proposals(plan: Plan):
    cols = (
        "id",
        "lead_id",
        "number",
        "previous_id",
        "client_id",
        "project_id",
        "audit_id",
        "service",
        "status",
        "title",
        "summary",
        "price_cents",
        "currency",
        "timeline",
        "expected_improvement",
        "contract_language",
        "pricing_assumptions",
        "internal_notes",
        "sent_at",
        "viewed_at",
        "follow_up_date",
        "decision_deadline",
        "objection",
        "probability",
        "accepted_at",
        "accepted_add_on_ids",
        "declined_at",
        "decline_reason",
        "snapshot",
        "sent_message_id",
        "version",
        "created_at",
        "updated_at",
    )
    rng = random.Random(f"{plan.seed}:proposals")
    rnd, randint, choice = rng.random, rng.randint, rng.choice
    c = plan.clock
    ts, day = c.ts, c.day
    seed = plan.seed

    def rows():
        item_id = 0
        for i in range(1, plan.n + 1):
            k = plan.n_prop[i]
            if not k:
                continue
            first = plan.prop_first[i]
            service = service_of(i)
            company = company_of(i)
            send = plan.send_first[i]
            t1 = plan.t1[i]
            for number in range(1, k + 1):
                pid = first + number - 1
                status = proposal_status(plan, i, number)
                sent = status != "draft"
                items = items_of(seed, pid, sent)
                first_item = item_id + 1
                item_id += len(items)
                created, sent_t = _proposal_times(plan, i, number)
                price = randint(20, 400) * 10000
                title = f"{SERVICE_LABELS[service]} for {company}"
                summary = choice(CLIENT_SUMMARIES)
                timeline, improvement, language = (
                    choice(TIMELINES),
                    choice(IMPROVEMENTS),
                    choice(CONTRACT_LANG),
                )
                snapshot = msg = sent_at = viewed = follow = deadline = None
                if sent:
                    sent_at = ts(sent_t)
                    msg = send + number - 1
                    follow = day(sent_t + 5 * 86400)
                    deadline = day(sent_t + 21 * 86400)
                    if rnd() < 0.8 or status in ("accepted", "declined"):
                        viewed = ts(sent_t + randint(600, 3 * 86400))
                    snapshot = json.dumps(
                        {
                            "number": number,
                            "title": title,
                            "service": service,
                            "summary": summary,
                            "price_cents": price,
                            "currency": "EUR",
                            "timeline": timeline,
                            "expected_improvement": improvement,
                            "contract_language": language,
                            "items": [
                                {"id": first_item + n, "kind": it[0], "title": it[1], "price_cents": it[3]}
                                for n, it in enumerate(items)
                            ],
                            "sent_at": sent_at,
                        },
                        separators=(",", ":"),
                    )
                accepted_at = accepted_add_ons = declined_at = decline_reason = None
                if status == "accepted":
                    accepted_at = ts(t1 - 86400)
                    accepted_add_ons = json.dumps(
                        [first_item + n for n, it in enumerate(items) if it[0] == "add_on" and rnd() < 0.5]
                    )
                elif status == "declined":
                    declined_at, decline_reason = ts(t1), choice(DECLINES)
                latest = number == k
                client = plan.client[i] if (latest and plan.client[i]) else None
                updated = max(created, t1 if latest else sent_t)
                yield (
                    pid,
                    i,
                    number,
                    pid - 1 if number > 1 else None,
                    client,
                    plan.project[i] if (status == "accepted") else None,
                    plan.audit[i] or None,
                    service,
                    status,
                    title,
                    summary,
                    price,
                    "EUR",
                    timeline,
                    improvement,
                    language,
                    "Assumes 2 rounds of changes" if rnd() < 0.5 else None,
                    None,
                    sent_at,
                    viewed,
                    follow,
                    deadline,
                    choice(OBJECTIONS) if sent else None,
                    randint(20, 90) if latest else None,
                    accepted_at,
                    accepted_add_ons,
                    declined_at,
                    decline_reason,
                    snapshot,
                    msg,
                    1 + (2 if sent else 0),
                    ts(created),
                    ts(updated),
                )

    return cols, rows()


def gen_proposal_items(plan: Plan):
    cols = (
        "id",
        "proposal_id",
        "kind",
        "title",
        "description",
        "price_cents",
        "position",
        "created_at",
        "updated_at",
    )
    ts = plan.clock.ts
    seed = plan.seed

    def rows():
        item_id = 0
        for i in range(1, plan.n + 1):
            k = plan.n_prop[i]
            if not k:
                continue
            first = plan.prop_first[i]
            for number in range(1, k + 1):
                pid = first + number - 1
                sent = proposal_status(plan, i, number) != "draft"
                created = ts(_proposal_times(plan, i, number)[0])
                for pos, (kind, title, desc, price) in enumerate(items_of(seed, pid, sent)):
                    item_id += 1
                    yield (item_id, pid, kind, title, desc, price, pos, created, created)

    assert set(ITEM_TITLES) == set(ITEM_KINDS)
    return cols, rows()


MSG_COLS = (
    "id",
    "lead_id",
    "client_id",
    "project_id",
    "direction",
    "channel",
    "subject",
    "body",
    "client_visible",
    "to_email",
    "email_status",
    "author_id",
    "sent_at",
    "read_at",
    "key",
    "created_at",
    "updated_at",
)


def gen_messages(plan: Plan):
    rng = random.Random(f"{plan.seed}:messages")
    rnd, randint, choice = rng.random, rng.randint, rng.choice
    c = plan.clock
    ts = c.ts

    def rows():
        # 1. the communication record of every proposal send: ids plan.send_first[i] + k
        mid = 0
        for i in range(1, plan.n + 1):
            if not plan.send_first[i]:
                continue
            assert plan.send_first[i] == mid + 1
            k = plan.n_prop[i]
            _, email = contact_of(i)
            for number in range(1, k + 1):
                if proposal_status(plan, i, number) == "draft":
                    continue
                mid += 1
                sent_t = _proposal_times(plan, i, number)[1]
                sent = ts(sent_t)
                client = plan.client[i] or None if number == k else None
                yield (
                    mid,
                    i,
                    client,
                    None,
                    "outbound",
                    "email",
                    f"Your proposal (version {number})",
                    "Please find our proposal at the link below.",
                    0,
                    email,
                    "sent",
                    plan.owner[i],
                    sent,
                    None,
                    f"proposal-sent:{plan.prop_first[i] + number - 1}",
                    sent,
                    sent,
                )
        assert mid == plan.n_sends
        # 2. replies and notes on open deals
        for i in range(1, plan.n + 1):
            if plan.reached[i] < DISCOVERY or rnd() > 0.12:
                continue
            t0, t1 = plan.t0[i], plan.t1[i]
            t = t0 + int(rnd() * max(1, t1 - t0))
            mid += 1
            if rnd() < 0.7:
                yield (
                    mid,
                    i,
                    plan.client[i] or None,
                    None,
                    "inbound",
                    "email",
                    choice(MSG_SUBJECTS_IN),
                    choice(MSG_BODIES),
                    0,
                    None,
                    "none",
                    None,
                    ts(t),
                    ts(t + 3600),
                    None,
                    ts(t),
                    ts(t),
                )
            else:
                yield (
                    mid,
                    i,
                    None,
                    None,
                    "internal",
                    choice(("phone", "meeting")),
                    "Call notes",
                    choice(MSG_BODIES),
                    0,
                    None,
                    "none",
                    plan.owner[i],
                    ts(t),
                    None,
                    None,
                    ts(t),
                    ts(t),
                )
        # 3. portal conversations with clients (client-visible)
        for p in range(1, plan.n_projects + 1):
            lead = plan.project_lead[p]
            client = plan.client[lead]
            start = plan.t1[lead] + 86400
            for _ in range(randint(0, 4)):
                t = start + int(rnd() * max(1, c.now - start))
                mid += 1
                inbound = rnd() < 0.5
                yield (
                    mid,
                    lead,
                    client,
                    p,
                    "inbound" if inbound else "outbound",
                    "portal",
                    choice(MSG_SUBJECTS_PORTAL),
                    choice(MSG_BODIES),
                    1,
                    None,
                    "none" if inbound else "sent",
                    None if inbound else DELIVERY_ID,
                    ts(t),
                    ts(t + 7200) if rnd() < 0.7 else None,
                    None,
                    ts(t),
                    ts(t),
                )

    return MSG_COLS, rows()


def gen_contracts(plan: Plan):
    cols = (
        "id",
        "lead_id",
        "proposal_id",
        "state",
        "payment_state",
        "kickoff_date",
        "onboarding_owner_id",
        "launch_blockers",
        "client_launch_blockers",
        "signed_at",
        "version",
        "created_at",
        "updated_at",
    )
    rng = random.Random(f"{plan.seed}:contracts")
    c = plan.clock
    ts, day = c.ts, c.day

    def rows():
        for i in range(1, plan.n + 1):
            cid = plan.contract[i]
            if not cid:
                continue
            state = CONTRACT_CODES[plan.contract_state[i]]
            latest_pid = plan.prop_first[i] + plan.n_prop[i] - 1 if plan.n_prop[i] else None
            t1 = plan.t1[i]
            signed = state == "signed"
            blockers = rng.random() < 0.3 and signed
            payment = (
                rng.choice(("invoiced", "deposit_paid", "paid", "paid", "overdue"))
                if signed
                else "not_invoiced"
            )
            created = t1 - 5 * 86400 if signed else max(plan.t0[i], t1 - 2 * 86400)
            yield (
                cid,
                i,
                latest_pid,
                state,
                payment,
                day(t1 + 14 * 86400) if signed else None,
                DELIVERY_ID if signed else None,
                "Waiting for ad account access" if blockers else None,
                "We need access to your ad accounts" if blockers else None,
                ts(t1 - 86400) if signed else None,
                3 if signed else 1,
                ts(created),
                ts(t1),
            )

    return cols, rows()


def gen_approvals(plan: Plan):
    cols = (
        "id",
        "kind",
        "state",
        "lead_id",
        "proposal_id",
        "audit_id",
        "report_note_id",
        "report_id",
        "content",
        "requested_by_id",
        "requested_at",
        "decided_by_id",
        "decided_at",
        "comment",
        "version",
        "created_at",
        "updated_at",
    )
    rng = random.Random(f"{plan.seed}:approvals")
    rnd, randint, choice = rng.random, rng.randint, rng.choice
    c = plan.clock
    ts = c.ts

    def row(aid, kind, state, lead, proposal, audit, note, report, content, requester, t_req, t_dec):
        decided = state in ("approved", "rejected")
        deciders = (APPROVER_ID, APPROVER_ID, APPROVER_ID, ADMIN_ID)
        tr = ts(t_req)
        return (
            aid,
            kind,
            state,
            lead,
            proposal,
            audit,
            note,
            report,
            content,
            requester,
            tr,
            deciders[int(rnd() * 4)] if decided else None,
            ts(t_dec) if decided else None,
            choice(APPROVAL_COMMENTS) if state == "rejected" else ("OK" if decided and rnd() < 0.3 else None),
            2 if state != "pending" else 1,
            tr,
            ts(t_dec) if state != "pending" else tr,
        )

    def rows():
        aid = 0
        # proposals: every sent version had its pricing approved; the latest sometimes a claim and
        # contract language too; a draft in progress often waits for its pricing approval.
        for i in range(1, plan.n + 1):
            k = plan.n_prop[i]
            if not k:
                continue
            first = plan.prop_first[i]
            owner = plan.owner[i]
            status = proposal_status(plan, i, k)
            created, sent_t = _proposal_times(plan, i, k)
            pid = first + k - 1
            if status == "draft":
                if plan.stage[i] == LOST or rnd() > 0.5:
                    continue
                f = rnd()
                aid += 1
                if f < 0.85:
                    yield row(
                        aid,
                        "pricing",
                        "pending",
                        i,
                        pid,
                        None,
                        None,
                        None,
                        f"Price {randint(20, 400) * 100} EUR",
                        owner,
                        created + 3600,
                        0,
                    )
                else:
                    yield row(
                        aid,
                        "pricing",
                        "rejected",
                        i,
                        pid,
                        None,
                        None,
                        None,
                        f"Price {randint(20, 400) * 100} EUR",
                        owner,
                        created + 3600,
                        created + 7200,
                    )
                continue
            aid += 1
            yield row(
                aid,
                "pricing",
                "approved",
                i,
                pid,
                None,
                None,
                None,
                f"Price {randint(20, 400) * 100} EUR",
                owner,
                sent_t - 7200,
                sent_t - 3600,
            )
            if rnd() < 0.08:
                aid += 1
                yield row(
                    aid,
                    "claim",
                    "approved",
                    i,
                    pid,
                    None,
                    None,
                    None,
                    choice(IMPROVEMENTS[:3]),
                    owner,
                    sent_t - 7200,
                    sent_t - 3000,
                )
            if rnd() < 0.05:
                aid += 1
                yield row(
                    aid,
                    "contract_language",
                    "approved",
                    i,
                    pid,
                    None,
                    None,
                    None,
                    choice(CONTRACT_LANG[:3]),
                    owner,
                    sent_t - 7200,
                    sent_t - 3000,
                )
        # audits with a client-safe summary
        for i in range(1, plan.n + 1):
            a = plan.audit[i]
            if not a:
                continue
            st = audit_summary_status(a, plan.audit_done[i] == 2)
            if st == "none":
                continue
            t = plan.t0[i] + (plan.t1[i] - plan.t0[i]) // 2 + 3600
            aid += 1
            yield row(
                aid,
                "client_summary",
                st,
                i,
                None,
                a,
                None,
                None,
                choice(CLIENT_SUMMARIES),
                plan.owner[i],
                t,
                t + randint(600, 86400),
            )
        # client-safe report notes
        for rid, _kind, _p, _c, lead, start, _status, _k in plan.reports():
            nid = 2 * rid
            vis, st = note_shape(nid)
            if vis != "client_safe" or st == "none":
                continue
            t = start + 20 * 86400 + 600
            aid += 1
            yield row(
                aid,
                "client_summary",
                st,
                lead or None,
                None,
                None,
                nid,
                None,
                choice(NOTE_BODIES_SAFE),
                DELIVERY_ID,
                t,
                t + randint(600, 86400),
            )

    return cols, rows()
