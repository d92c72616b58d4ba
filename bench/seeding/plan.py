"""The plan: one pass over the leads decides each lead's structure (stage, dates, owner, how many
proposals, which audit/contract/project/client ids it gets), in compact arrays; and the values
several tables share (proposal status and items, audit summary, note shape), as functions of ids.
"""

from __future__ import annotations

import random
from array import array

from .common import (
    AUDIT,
    CONTRACT,
    CONTRACT_LEAD_WITH_CLIENT,
    Clock,
    GROWTH_OPS_IDS,
    ITEM_TITLES,
    LOST,
    LOST_REACHED_WEIGHTS,
    NEW,
    OPS_ID,
    PROPOSAL,
    PROPOSAL_COUNT_WEIGHTS,
    QUALIFIED,
    REPEAT_CLIENT_SHARE,
    STAGE_WEIGHTS,
    WON,
    h32,
    hfrac,
    weighted,
)


# ---------------------------------------------------------------------------------------------
# Plan: the structure of every lead, in compact arrays
# ---------------------------------------------------------------------------------------------
class Plan:
    def __init__(self, n_leads: int, seed: int, clock: Clock):
        self.n = n = n_leads
        self.clock = clock
        self.seed = seed
        rng = random.Random(f"{seed}:plan")
        rnd, randint = rng.random, rng.randint
        pick_stage = weighted(rnd, STAGE_WEIGHTS)
        pick_reached = weighted(rnd, LOST_REACHED_WEIGHTS)
        pick_nprop = weighted(rnd, PROPOSAL_COUNT_WEIGHTS)
        now = clock.now
        day = 86400

        z = [0] * (n + 1)
        self.stage = bytearray(n + 1)
        self.reached = bytearray(n + 1)
        self.owner = array("h", z)
        self.t0 = array("q", z)  # created
        self.t1 = array("q", z)  # last activity (won_at / lost_at for closed leads)
        self.client = array("i", z)
        self.audit = array("i", z)  # audit id (0 = none)
        self.audit_done = bytearray(n + 1)
        self.prop_first = array("i", z)  # id of version 1
        self.n_prop = bytearray(n + 1)
        self.latest = bytearray(n + 1)  # status of the latest version: see LATEST_*
        self.send_first = array("i", z)  # message id recording the send of the first sent version
        self.contract = array("i", z)
        self.contract_state = bytearray(n + 1)  # index into CONTRACT_CODES
        self.project = array("i", z)
        self.paused = bytearray(n + 1)
        self.client_lead = [0]  # client id -> lead that made it a client
        self.project_lead = [0]  # project id -> lead
        self.designated = max(1, n // 2)

        n_clients = n_audits = n_props = n_sends = n_contracts = n_projects = 0
        for i in range(1, n + 1):
            s = pick_stage()
            owner = GROWTH_OPS_IDS[int(rnd() * len(GROWTH_OPS_IDS))]
            if i == self.designated:
                s, owner = WON, OPS_ID
            r = pick_reached() if s == LOST else s
            if s == NEW:
                age = randint(0, 60)
            elif s == QUALIFIED:
                age = randint(3, 300)
            elif s < WON:
                age = randint(14, 400)
            else:
                age = randint(30, 1095)
            if i == self.designated:
                age = 200
            t0 = now - age * day - randint(0, day - 1)
            if s in (WON, LOST):
                t1 = t0 + randint(min(14, age - 1) * day, (age - 1) * day)
                if i == self.designated:
                    t1 = t0 + 100 * day  # won ~100 days ago: a running project with reports
            else:
                t1 = max(t0, now - randint(0, min(age, 30)) * day - randint(0, day - 1))
            self.stage[i], self.reached[i], self.owner[i] = s, r, owner
            self.t0[i], self.t1[i] = t0, t1
            if s not in (WON, LOST) and s >= QUALIFIED and rnd() < 0.05:
                self.paused[i] = 1

            if r >= AUDIT:
                n_audits += 1
                self.audit[i] = n_audits
                self.audit_done[i] = 2 if (r >= PROPOSAL or rnd() < 0.5) else 1
            if r >= PROPOSAL:
                if r == PROPOSAL:
                    k, latest = 1, LATEST_DRAFT
                else:
                    k = 3 if i == self.designated else pick_nprop()
                    if s == WON:
                        latest = LATEST_ACCEPTED
                    elif s == CONTRACT:
                        latest = LATEST_DRAFT if (k > 1 and rnd() < 0.2) else LATEST_SENT
                    else:  # lost after sending
                        latest = LATEST_DECLINED if rnd() < 0.6 else LATEST_SENT
                self.prop_first[i] = n_props + 1
                self.n_prop[i] = k
                self.latest[i] = latest
                n_props += k
                sends = k - (1 if latest == LATEST_DRAFT else 0)
                if sends:
                    self.send_first[i] = n_sends + 1
                    n_sends += sends
            if s == WON:
                if n_clients and rnd() < REPEAT_CLIENT_SHARE and i != self.designated:
                    self.client[i] = 1 + int(rnd() * n_clients)
                else:
                    n_clients += 1
                    self.client[i] = n_clients
                    self.client_lead.append(i)
                n_projects += 1
                self.project[i] = n_projects
                self.project_lead.append(i)
                n_contracts += 1
                self.contract[i], self.contract_state[i] = n_contracts, 2  # signed
            elif s == CONTRACT:
                if n_clients and rnd() < CONTRACT_LEAD_WITH_CLIENT:
                    self.client[i] = 1 + int(rnd() * n_clients)
                if rnd() < 0.5:
                    n_contracts += 1
                    self.contract[i], self.contract_state[i] = n_contracts, (0 if rnd() < 0.5 else 1)
            elif s == LOST and r == CONTRACT and rnd() < 0.15:
                n_contracts += 1
                self.contract[i], self.contract_state[i] = n_contracts, 3  # cancelled

        self.n_clients, self.n_audits, self.n_props = n_clients, n_audits, n_props
        self.n_sends, self.n_contracts, self.n_projects = n_sends, n_contracts, n_projects
        self._reports = None

    # Reports are few (~60k per 1M leads): materialise their structure once, shared by three tables.
    def reports(self):
        """[(report_id, kind, project_id, client_id, lead_id, period_start_t, status, period_index)]"""
        if self._reports is not None:
            return self._reports
        out = []
        rid = 0
        clock = self.clock
        for p in range(1, self.n_projects + 1):
            lead = self.project_lead[p]
            won = self.t1[lead]
            rid += 1
            status = "published" if hfrac(rid, 11) < 0.8 else "approved"
            out.append((rid, "handoff_packet", p, self.client[lead], lead, won, status, 0))
            months = (clock.now - won) // (30 * 86400) - 1  # full months of delivery after kickoff
            for k in range(max(0, months - 2), max(0, months)):  # the last two periods at most
                rid += 1
                latest = k == months - 1
                f = hfrac(rid, 12)
                status = (
                    ("published" if f < 0.5 else "approved" if f < 0.7 else "draft")
                    if latest
                    else "published"
                )
                out.append(
                    (
                        rid,
                        "client_report",
                        p,
                        self.client[lead],
                        lead,
                        won + (k + 1) * 30 * 86400,
                        status,
                        k + 1,
                    )
                )
        weeks = min(26, max(1, self.n // 2000))
        for w in range(weeks):
            rid += 1
            out.append(
                (
                    rid,
                    "pipeline_weekly",
                    0,
                    0,
                    0,
                    clock.now - (w + 1) * 7 * 86400,
                    "published" if w else "draft",
                    w,
                )
            )
        self._reports = out
        return out


LATEST_DRAFT, LATEST_SENT, LATEST_ACCEPTED, LATEST_DECLINED = 1, 2, 3, 4
CONTRACT_CODES = ("draft", "sent", "signed", "cancelled")


def proposal_status(plan: Plan, lead: int, number: int) -> str:
    k = plan.n_prop[lead]
    if number < k:
        return "superseded"
    return {
        LATEST_DRAFT: "draft",
        LATEST_SENT: "sent",
        LATEST_ACCEPTED: "accepted",
        LATEST_DECLINED: "declined",
    }[plan.latest[lead]]


def items_of(seed: int, proposal_id: int, sent: bool):
    """The scope items of a proposal: [(kind, title, description, price_cents)] (~4 per proposal).

    A pure function of the id (hash bits, no Random object: this runs ~3x per proposal)."""
    h = h32(proposal_id * 0x9E3779B1 + seed)
    g = h32(h ^ 0x85EBCA6B)
    inc = ITEM_TITLES["included"]
    a = h % len(inc)
    items = [("included", inc[a], None, None)]
    if h & 0x100:
        items.append(("included", inc[(a + 1 + (h >> 9) % (len(inc) - 1)) % len(inc)], None, None))
    items.append(("excluded", ITEM_TITLES["excluded"][(h >> 12) % 4], None, None))
    if sent or g & 1:
        items.append(("assumption", ITEM_TITLES["assumption"][(h >> 15) % 3], None, None))
        if (g >> 1) % 10 < 6:
            items.append(("dependency", ITEM_TITLES["dependency"][(h >> 18) % 3], None, None))
    if (g >> 5) % 100 < 35:
        items.append(
            (
                "add_on",
                ITEM_TITLES["add_on"][(h >> 21) % 4],
                "Optional, priced separately",
                (500 + (g >> 12) % 45 * 100) * 100,
            )
        )
    return items


def audit_summary_status(audit_id: int, completed: bool) -> str:
    if not completed:
        return "none"
    f = hfrac(audit_id, 21)
    return "approved" if f < 0.03 else "pending" if f < 0.045 else "rejected" if f < 0.05 else "none"


def note_shape(note_id: int) -> tuple[str, str]:
    """(visibility, status) of a report note: odd ids are internal, even ones sometimes client-safe."""
    if note_id % 2 == 1:
        return "internal", "none"
    f = hfrac(note_id, 31)
    if f < 0.7:
        return "internal", "none"
    return "client_safe", (
        "approved" if f < 0.88 else "pending" if f < 0.93 else "rejected" if f < 0.95 else "none"
    )
