#!/usr/bin/env python
"""Fill a database with N leads and every row that goes with them, at realistic ratios.

    python bench/seed.py --database-url postgresql+psycopg://root@127.0.0.1:5432/zarts_bench --leads 1000000
    python bench/seed.py --database-url sqlite:///bench/data/bench.db --leads 100000

The schema is dropped and re-created from the models (Base.metadata); the data is bulk loaded
(PostgreSQL: COPY; SQLite: executemany in big transactions) with explicit ids, so foreign keys are
computed, never looked up. Generation is deterministic for a given --seed and --today.

How it works
  1. plan: one pass over the leads decides each lead's structure (stage, dates, owner, how many
     proposals, which audit/contract/project/client ids it gets). Compact arrays, no row data.
  2. per table, a generator walks the plan and yields rows, using its own random.Random stream for
     the attribute values; values shared by several tables (company name, contact email, proposal
     items, note status, ...) are pure functions of an id, so every table agrees.
  3. PostgreSQL: foreign keys, unique constraints and secondary indexes are dropped after create_all,
     the tables are loaded with COPY ... FREEZE, then indexes are built and the foreign keys are
     re-added (which validates every reference), sequences are set past max(id), ANALYZE.
     SQLite: secondary indexes are dropped, rows inserted with executemany, indexes re-created,
     PRAGMA foreign_key_check, ANALYZE. CHECK constraints stay on during the load in both.

At the end the ids a benchmark needs (the lead with exactly 200 events, a client contact with a
sent proposal, a pending approval, ...) are printed and written to bench/data/meta.json.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import random
import sys
import time
import warnings
from array import array
from datetime import UTC, date, datetime, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import sqlalchemy as sa

from zarts.models import Base
from zarts.models.vocab import (
    EVENT_KINDS,
    ITEM_KINDS,
    LOST_REASONS,
    PAUSE_REASONS,
    SERVICE_LABELS,
    SERVICES,
    SOURCES,
    STAGES,
    TASK_KINDS,
)

PASSWORD = "bench-password-123"
ADMIN_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"
DATA_DIR = os.path.join(ROOT, "bench", "data")

# ---------------------------------------------------------------------------------------------
# Shape of the data
# ---------------------------------------------------------------------------------------------
NEW, QUALIFIED, DISCOVERY, AUDIT, PROPOSAL, CONTRACT, WON, LOST = range(8)
assert STAGES == ("new", "qualified", "discovery", "audit", "proposal", "contract", "won", "lost")

# Where leads are now. Most sit early or are lost; few get far.
STAGE_WEIGHTS = {NEW: 0.36, QUALIFIED: 0.25, DISCOVERY: 0.05, AUDIT: 0.015, PROPOSAL: 0.03,
                 CONTRACT: 0.03, WON: 0.022, LOST: 0.243}
# How far a lost lead had come before it was lost.
LOST_REACHED_WEIGHTS = {NEW: 0.25, QUALIFIED: 0.30, DISCOVERY: 0.12, AUDIT: 0.08, PROPOSAL: 0.10,
                        CONTRACT: 0.15}
# Proposal versions of a lead that reached the contract stage (a proposal-stage lead has one draft).
PROPOSAL_COUNT_WEIGHTS = {1: 0.2, 2: 0.2, 3: 0.6}
REPEAT_CLIENT_SHARE = 0.10   # won deals of an existing client
CONTRACT_LEAD_WITH_CLIENT = 0.10  # contract-stage leads of an existing client (see the portal)
STAFF_OPS = 37               # ops@ + ops2..ops37: with admin, approver, delivery = 40 staff
STAFF = [  # (id, email, name, role)
    (1, "admin@zarts.test", "Ada Admin", "admin"),
    (2, "ops@zarts.test", "Otto Ops", "growth_ops"),
    (3, "approver@zarts.test", "Alma Approver", "approver"),
    (4, "delivery@zarts.test", "Dario Delivery", "delivery"),
] + [(3 + k, f"ops{k}@zarts.test", f"Ops Person {k}", "growth_ops") for k in range(2, STAFF_OPS + 1)]
ADMIN_ID, OPS_ID, APPROVER_ID, DELIVERY_ID = 1, 2, 3, 4
GROWTH_OPS_IDS = [u[0] for u in STAFF if u[3] == "growth_ops"]
N_STAFF = len(STAFF)
DESIGNATED_EVENTS = 200

# Text pools (no tabs or newlines needed; COPY escaping is done by psycopg anyway).
CO_A = ("Northwind", "Bluepeak", "Cedar", "Ironbark", "Lumen", "Harbor", "Silverline", "Oakridge",
        "Brightwater", "Kestrel", "Maple", "Granite", "Solstice", "Evergreen", "Copperfield", "Halcyon",
        "Redwood", "Westgate", "Summit", "Riverside", "Aurora", "Falcon", "Meridian", "Pinecrest",
        "Starling", "Tidewater", "Vantage", "Willow", "Zephyr", "Atlas", "Beacon", "Crescent",
        "Driftwood", "Ember", "Foxglove", "Goldleaf", "Highland", "Juniper", "Keystone", "Larkspur",
        "Monarch", "Nimbus", "Orchard", "Parkside", "Quarry", "Rosewood", "Sable", "Thistle",
        "Umber", "Vireo", "Wren", "Yarrow", "Alder", "Birch", "Cobalt", "Delta", "Elm", "Fjord",
        "Glacier", "Hazel")
CO_B = ("Logistics", "Dental", "Legal", "Fitness", "Roofing", "Solar", "Bakery", "Clinics", "Realty",
        "Insurance", "Software", "Outdoor", "Furniture", "Optics", "Veterinary", "Plumbing",
        "Architects", "Travel", "Cosmetics", "Coffee", "Security", "Energy", "Print", "Auto",
        "Pharmacy", "Tutoring", "Catering", "Cycling", "Flooring", "Wines", "Pet Care", "Studios",
        "Consulting", "Textiles", "Marine", "Garden", "Hotels", "Physio", "Electric", "Storage")
CO_SUFFIX = ("GmbH", "Ltd", "BV", "AG", "SAS", "Oy", "AB", "& Co")
FIRST = ("Anna", "Ben", "Clara", "David", "Elena", "Felix", "Greta", "Hugo", "Ines", "Jonas", "Katrin",
         "Lukas", "Mara", "Nils", "Olga", "Paul", "Quentin", "Rosa", "Sven", "Tara", "Ulrich", "Vera",
         "Wim", "Xenia", "Yusuf", "Zoe", "Amir", "Bea", "Chen", "Dana", "Emil", "Fatima", "Gabriel",
         "Hanna", "Ivan", "Julia", "Karim", "Lea", "Marco", "Nora")
LAST = ("Schmidt", "Jansen", "Dubois", "Rossi", "Novak", "Lindqvist", "Kowalski", "Garcia", "Müller",
        "Peeters", "Andersen", "Costa", "Fischer", "Horvat", "Ivanova", "Keller", "Laurent", "Moreau",
        "Nielsen", "Oliveira", "Petrov", "Quist", "Richter", "Silva", "Toth", "Urban", "Vogel",
        "Weber", "Young", "Zimmer", "Berg", "Cohen", "Dahl", "Eriksen", "Ferrari", "Gruber",
        "Hoffmann", "Jovanovic", "Kaya", "Lopez")
SOURCE_CONTEXT = ("Met at the spring meetup", "Inbound form: pricing page", "Referred by an existing client",
                  "Cold outreach, replied to second mail", "Partner intro via agency network",
                  "Webinar attendee", "LinkedIn ad campaign Q3", "Trade fair booth conversation")
DECISION_OWNERS = ("CEO", "CMO", "Head of Marketing", "Founder", "COO", "Marketing lead", "Owner")
BUDGETS = ("2-4k / month", "5-8k / month", "8-12k / month", "one-off 15k", "one-off 30-40k",
           "unclear, 'depends on results'", "12k+ / month")
CONTACT_PATHS = ("email, then a call", "phone first", "via assistant", "LinkedIn message",
                 "email only", "meeting at their office")
PAIN_POINTS = ("Cost per lead doubled in a year", "Leads go unanswered for days",
               "No idea which channel brings customers", "Website converts badly on mobile",
               "Sales team ignores marketing leads", "Organic traffic dropped after relaunch",
               "CRM is a spreadsheet", "Ads agency reports vanity metrics")
LEAD_FLOWS = ("~120 leads/mo, mostly web forms", "~40 leads/mo, phone and referrals",
              "~300 leads/mo from ads, 5% qualified", "trade fairs and outbound, ~20/mo",
              "marketplace listings, ~80/mo")
PROVIDERS = ("HubSpot", "Salesforce", "Pipedrive", "Google Ads", "Meta Ads", "GA4", "Shopify",
             "WordPress", "Mailchimp", "Zapier", "Calendly", "Webflow", "LinkedIn Ads", "Zendesk",
             "Looker Studio", "Stripe", "Typeform", "Intercom")
CRITERIA = ("Price and speed", "Proof from similar clients", "Monthly reporting", "No long lock-in",
            "A single point of contact", "Integration with their CRM")
NEXT_ACTIONS = ("Call to qualify", "Send discovery questionnaire", "Book discovery call",
                "Collect analytics access", "Finish audit findings", "Draft proposal",
                "Chase proposal feedback", "Send contract", "Confirm kickoff date", "Check in after pause")
NEXT_BY_STAGE = {NEW: (0, 1), QUALIFIED: (1, 2), DISCOVERY: (2, 3, 4), AUDIT: (3, 4, 5),
                 PROPOSAL: (5, 6), CONTRACT: (6, 7, 8)}
LOST_NOTES = ("Chose a cheaper freelancer", "Budget frozen until next year", "Went with incumbent",
              "Stopped replying after proposal", "Not a fit for our services", None)
PAUSE_NOTES = ("Consent to be confirmed", "Back after their busy season", "Source unclear, re-check",
               "New decision maker, re-map the path")
FINDINGS = ("Tracking misses 40% of conversions; form drop-off at step 2",
            "Brand terms cannibalise organic; 30% of spend on irrelevant queries",
            "Leads wait 26 h on average for a first reply",
            "Core pages fail mobile speed; no schema markup")
BASELINES = ("CPL 84 EUR; 120 leads/mo", "CPL 41 EUR; 300 leads/mo", "Close rate 8%; 40 leads/mo",
             "Organic sessions 12k/mo; conv. 0.9%", "Reply time 26 h; 55 leads/mo")
RAW_NOTES = ("Agency before us burned the account; be careful with promises",
             "Their IT is slow to grant access", "Owner is sceptical of SEO", None)
CAVEATS = ("Meta API limits lead sync to hourly", "GA4 history only 14 months", None)
CLIENT_SUMMARIES = ("We found three quick wins in your tracking and lead handling.",
                    "Your campaigns can reach more qualified buyers at a lower cost.",
                    "The biggest gain is answering new enquiries the same day.")
TIMELINES = ("4 weeks setup, then monthly", "6 weeks", "3 months", "2 weeks sprint + 3 months run")
IMPROVEMENTS = ("Aim: -20% cost per lead within 3 months", "Aim: reply to every lead within 1 h",
                "Aim: +30% qualified leads by Q2", None)
CONTRACT_LANG = ("Monthly rolling, 30 days notice", "12-month term, quarterly review",
                 "Fixed price, 50% upfront", None)
OBJECTIONS = ("Price above budget", "Wants results guarantee", "Needs board approval", None)
DECLINES = ("Went with another agency", "Budget cut", "Project postponed indefinitely")
ITEM_TITLES = {
    "included": ("Tracking audit and fix", "Campaign restructure", "Landing page redesign",
                 "CRM pipeline setup", "Monthly report and call", "Content calendar (8 posts/mo)"),
    "excluded": ("Ad spend", "Copywriting beyond 2 pages", "Photography", "Third-party licences"),
    "add_on": ("Extra landing page", "LinkedIn campaign", "Quarterly workshop", "Email nurture flow"),
    "assumption": ("Access to ad accounts within 5 days", "One round of feedback per deliverable",
                   "Existing brand guidelines are used"),
    "dependency": ("Client provides product feed", "IT whitelists tracking domain",
                   "Sales team logs outcomes in CRM"),
}
TASK_TITLES = {
    "follow_up": ("Follow up after call", "Chase reply", "Send recap of meeting"),
    "proposal_review": ("Review proposal draft", "Check pricing with approver"),
    "contract_step": ("Send contract", "Chase signature", "Agree payment terms"),
    "onboarding": ("Grant analytics access", "Share brand assets", "Confirm billing contact",
                   "Kickoff call", "Approve tracking plan", "Connect ad accounts", "Share CRM login",
                   "Sign data processing agreement"),
    "reactivation": ("Win-back call", "Check if timing changed"),
    "reply": ("Reply to client message",),
    "other": ("Update lead notes", "Internal review"),
}
CLIENT_TASKS = frozenset((1, 2, 4, 6, 7))  # onboarding items the client owns and ticks in the portal
MSG_SUBJECTS_IN = ("Re: your proposal", "Question about timeline", "Re: discovery call",
                   "Can we move the meeting?")
MSG_SUBJECTS_PORTAL = ("Question about the report", "Access granted", "Kickoff agenda",
                       "New landing page feedback", "Invoice question")
MSG_BODIES = ("Thanks, we will look at it this week.", "Could you send the figures again?",
              "All set from our side.", "Let's discuss on Thursday.", "Please see the attached notes.")
CONNECTOR_NAMES = ("Google Ads", "Meta Ads", "GA4", "HubSpot", "Salesforce", "Pipedrive", "Shopify",
                   "WordPress", "Mailchimp", "Zapier", "LinkedIn Ads", "Calendly", "Stripe", "Webflow")
APPROVAL_COMMENTS = ("Claim needs a source", "Price below floor", "Too vague for the client")
NOTE_BODIES_INTERNAL = ("Client slow to give access again", "Spend paced 10% under plan",
                        "Check attribution window before next report")
NOTE_BODIES_SAFE = ("Leads up 12% month on month.", "Cost per lead down to 61 EUR.",
                    "Next month we test two new landing pages.")
EVENT_FILLERS = ("next_action_set", "next_action_set", "task_done", "task_done", "message_received",
                 "forecast_updated", "objection_logged")
assert set(EVENT_FILLERS) <= set(EVENT_KINDS)


# ---------------------------------------------------------------------------------------------
# Deterministic helpers
# ---------------------------------------------------------------------------------------------
def h32(x: int) -> int:
    """A cheap integer hash (good enough to pick names and shares reproducibly from an id)."""
    x &= 0xFFFFFFFF
    x = ((x >> 16) ^ x) * 0x45D9F3B & 0xFFFFFFFF
    x = ((x >> 16) ^ x) * 0x45D9F3B & 0xFFFFFFFF
    return (x >> 16) ^ x


def hfrac(x: int, salt: int) -> float:
    return h32(x * 0x9E3779B1 + salt * 0x85EBCA6B) / 4294967296.0


def company_of(lead_id: int) -> str:
    h = h32(lead_id)
    return f"{CO_A[h % len(CO_A)]} {CO_B[(h >> 8) % len(CO_B)]} {CO_SUFFIX[(h >> 16) % len(CO_SUFFIX)]}"


def contact_of(lead_id: int) -> tuple[str, str]:
    h = h32(lead_id ^ 0x5BD1E995)
    first, last = FIRST[h % len(FIRST)], LAST[(h >> 8) % len(LAST)]
    slug = CO_A[h32(lead_id) % len(CO_A)].lower()
    return f"{first} {last}", f"{first.lower()}.{last.lower().replace('ü', 'u')}.{lead_id}@{slug}.example"


def service_of(lead_id: int) -> str:
    return SERVICES[h32(lead_id ^ 0x27D4EB2F) % len(SERVICES)]


class Clock:
    """Times as epoch seconds; formatting through lookup tables (strftime is too slow for 10M rows)."""

    def __init__(self, today: date):
        self.today = today
        self.now = int(datetime(today.year, today.month, today.day, 12, 0, tzinfo=UTC).timestamp())
        self.today_day = self.now // 86400
        self.d0 = self.today_day - 2200
        base = date.fromordinal(today.toordinal() - 2200)
        self.days = [(base + timedelta(days=k)).isoformat() for k in range(2200 + 1200)]
        self.times = [f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000000" for s in range(86400)]

    def ts(self, t: int) -> str:
        d, s = divmod(t, 86400)
        return self.days[d - self.d0] + self.times[s]

    def day(self, t: int) -> str:
        return self.days[t // 86400 - self.d0]

    def day_of(self, day_number: int) -> str:
        return self.days[day_number - self.d0]


def weighted(rng_random, table):
    """Pick from a {value: weight} table with one rng.random() call (bisect on cumulative weights)."""
    values = list(table)
    cum, total = [], 0.0
    for v in values:
        total += table[v]
        cum.append(total)

    def pick():
        return values[min(bisect.bisect(cum, rng_random() * total), len(values) - 1)]
    return pick


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
        self.t0 = array("q", z)          # created
        self.t1 = array("q", z)          # last activity (won_at / lost_at for closed leads)
        self.client = array("i", z)
        self.audit = array("i", z)       # audit id (0 = none)
        self.audit_done = bytearray(n + 1)
        self.prop_first = array("i", z)  # id of version 1
        self.n_prop = bytearray(n + 1)
        self.latest = bytearray(n + 1)   # status of the latest version: see LATEST_*
        self.send_first = array("i", z)  # message id recording the send of the first sent version
        self.contract = array("i", z)
        self.contract_state = bytearray(n + 1)  # index into CONTRACT_CODES
        self.project = array("i", z)
        self.paused = bytearray(n + 1)
        self.client_lead = [0]   # client id -> lead that made it a client
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
                status = ("published" if f < 0.5 else "approved" if f < 0.7 else "draft") if latest \
                    else "published"
                out.append((rid, "client_report", p, self.client[lead], lead,
                            won + (k + 1) * 30 * 86400, status, k + 1))
        weeks = min(26, max(1, self.n // 2000))
        for w in range(weeks):
            rid += 1
            out.append((rid, "pipeline_weekly", 0, 0, 0, clock.now - (w + 1) * 7 * 86400,
                        "published" if w else "draft", w))
        self._reports = out
        return out


LATEST_DRAFT, LATEST_SENT, LATEST_ACCEPTED, LATEST_DECLINED = 1, 2, 3, 4
CONTRACT_CODES = ("draft", "sent", "signed", "cancelled")


def proposal_status(plan: Plan, lead: int, number: int) -> str:
    k = plan.n_prop[lead]
    if number < k:
        return "superseded"
    return {LATEST_DRAFT: "draft", LATEST_SENT: "sent", LATEST_ACCEPTED: "accepted",
            LATEST_DECLINED: "declined"}[plan.latest[lead]]


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
        items.append(("add_on", ITEM_TITLES["add_on"][(h >> 21) % 4], "Optional, priced separately",
                      (500 + (g >> 12) % 45 * 100) * 100))
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
    return "client_safe", ("approved" if f < 0.88 else "pending" if f < 0.93 else "rejected" if f < 0.95
                           else "none")


# ---------------------------------------------------------------------------------------------
# Table generators: each returns (columns, iterator of tuples). Strings for dates/times, 0/1 for
# booleans and JSON text: the same tuples go to COPY and to SQLite.
# ---------------------------------------------------------------------------------------------
def gen_users(plan: Plan, pw_hash: str):
    cols = ("id", "email", "name", "role", "client_id", "password_hash", "active", "session_token",
            "last_login_at", "created_at", "updated_at")
    rng = random.Random(f"{plan.seed}:users")
    c = plan.clock

    def rows():
        start = c.ts(c.now - 1200 * 86400)
        for uid, email, name, role in STAFF:
            yield (uid, email, name, role, None, pw_hash, 1, f"{rng.getrandbits(128):032x}",
                   c.ts(c.now - rng.randint(0, 30 * 86400)), start, start)
        for k in range(1, plan.n_clients + 1):
            lead = plan.client_lead[k]
            name, _ = contact_of(lead)
            t = c.ts(min(c.now, plan.t1[lead] + 86400))
            yield (N_STAFF + k, f"client{k}@bench.test", name, "client", k, pw_hash, 1,
                   f"{rng.getrandbits(128):032x}", None, t, t)
    return cols, rows()


def gen_clients(plan: Plan):
    cols = ("id", "name", "status", "owner_id", "report_cadence", "notes", "version", "created_at",
            "updated_at")
    rng = random.Random(f"{plan.seed}:clients")
    c = plan.clock

    def rows():
        for k in range(1, plan.n_clients + 1):
            lead = plan.client_lead[k]
            age = c.now - plan.t1[lead]
            status = "onboarding" if age < 45 * 86400 else rng.choice(("active", "active", "active",
                                                                        "paused", "churned"))
            t = plan.t1[lead]
            yield (k, company_of(lead), status, DELIVERY_ID if rng.random() < 0.5 else plan.owner[lead],
                   "weekly" if rng.random() < 0.2 else "monthly", None, 1, c.ts(t),
                   c.ts(min(c.now, t + rng.randint(0, 60) * 86400)))
    return cols, rows()


LEAD_COLS = ("id", "title", "company", "contact_name", "contact_email", "contact_phone", "contact_path",
             "source", "source_context", "service", "service_fit", "urgency", "decision_owner",
             "decision_criteria", "budget_signal", "pain_points", "current_lead_flow", "provider_stack",
             "discovery_notes", "discovery_logged_at", "stage", "probability", "next_action",
             "next_action_due", "decision_deadline", "consent", "consent_recorded_at", "paused_at",
             "pause_reason", "pause_note", "lost_reason", "lost_note", "lost_at", "reactivation_date",
             "reactivation_never", "won_at", "owner_id", "client_id", "version", "created_at", "updated_at")


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
                probability = (randint(20, 60) if s == PROPOSAL else randint(40, 90) if s == CONTRACT
                               else 100 if s == WON else 0)
            paused = plan.paused[i]
            lost = s == LOST
            never = lost and rnd() < 0.3
            react = None
            if lost and not never:
                react = dayf(t1 // 86400 + randint(60, 365))
            versions = 1 + r + (2 if s in (WON, LOST) else 0) + (2 if paused else 0)
            yield (
                i, f"{SERVICE_LABELS[service]} for {company}", company, cname,
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
                stage_names[s], probability, next_action, next_due,
                dayf(today + randint(3, 30)) if s == CONTRACT else None,
                consent, ts(t0 + 3600) if consent != "unknown" else None,
                ts(t1 - 3600) if paused else None,
                choice(PAUSE_REASONS) if paused else None,
                choice(PAUSE_NOTES) if paused else None,
                choice(LOST_REASONS) if lost else None,
                choice(LOST_NOTES) if lost else None,
                ts(t1) if lost else None,
                react, 1 if never else 0,
                ts(t1) if s == WON else None,
                plan.owner[i], plan.client[i] or None, versions, ts(t0), ts(t1),
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
        ev += [("proposal_accepted", CONTRACT, "{}"), ("contract_updated", CONTRACT, '{"state": "signed"}'),
               ("stage_moved", CONTRACT, MOVE_PAYLOAD[(CONTRACT, WON)]), ("won", WON, "{}"),
               ("handoff_started", WON, "{}"), ("handoff_done", WON, "{}")]
    elif final == LOST:
        if reached == CONTRACT:
            ev.append(("proposal_declined", CONTRACT, "{}"))
        ev += [("stage_moved", reached, MOVE_PAYLOAD[(reached, LOST)]), ("lost", LOST, '{"reason": "seed"}')]
    return ev


MOVE_PAYLOAD = {(a, b): json.dumps({"from": STAGES[a], "to": STAGES[b]}) for a in range(8) for b in range(8)}
EVENT_MEAN = {NEW: 2.0, QUALIFIED: 3.6, DISCOVERY: 5, AUDIT: 7, PROPOSAL: 9, CONTRACT: 12, WON: 18}


def gen_events(plan: Plan):
    cols = ("id", "lead_id", "kind", "actor_id", "owner_id", "stage", "next_action", "next_action_due",
            "payload", "created_at")
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


TASK_MEAN_DONE = {NEW: 0.7, QUALIFIED: 1.7, DISCOVERY: 2.5, AUDIT: 3, PROPOSAL: 3.5, CONTRACT: 4,
                  WON: 4, LOST: 2.5}


def gen_tasks(plan: Plan):
    cols = ("id", "kind", "title", "notes", "owner_id", "due", "done_at", "done_by_id", "lead_id",
            "client_id", "project_id", "client_visible", "key", "version", "created_at", "updated_at")
    rng = random.Random(f"{plan.seed}:tasks")
    rnd, randint, choice = rng.random, rng.randint, rng.choice
    c = plan.clock
    ts, dayf = c.ts, c.day_of
    today = c.today_day
    kinds_by_stage = {NEW: ("follow_up",), QUALIFIED: ("follow_up", "follow_up", "other"),
                      DISCOVERY: ("follow_up", "reply", "other"), AUDIT: ("follow_up", "other"),
                      PROPOSAL: ("proposal_review", "follow_up"),
                      CONTRACT: ("contract_step", "follow_up", "proposal_review"),
                      WON: ("contract_step", "follow_up"), LOST: ("follow_up", "reply")}
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
                yield (tid, kind, choice(TASK_TITLES[kind]), None, owner, dayf(made // 86400 + randint(1, 7)),
                       ts(done), owner, i, None, None, 0, None, 2, ts(made), ts(done))
            if s < WON:
                # the open next action (some overdue), and sometimes a second open task
                for extra in range(1 + (rnd() < 0.3)):
                    tid += 1
                    kind = choice(kinds_by_stage[s])
                    due = today - randint(1, 20) if rnd() < 0.25 else today + randint(0, 21)
                    yield (tid, kind, choice(TASK_TITLES[kind]), None, owner, dayf(due), None, None, i,
                           plan.client[i] or None, None, 0, None, 1, ts(t1), ts(t1))
            elif s == LOST and rnd() < 0.6:
                tid += 1
                due = t1 // 86400 + randint(60, 365)
                done = due < today and rnd() < 0.5
                yield (tid, "reactivation", choice(TASK_TITLES["reactivation"]), None, owner, dayf(due),
                       ts(due * 86400 + 40000) if done else None, owner if done else None, i, None, None,
                       0, None, 2 if done else 1, ts(t1), ts(due * 86400 + 40000) if done else ts(t1))
            elif s == WON:
                project, client = plan.project[i], plan.client[i]
                kickoff = t1 // 86400 + 14
                for k, title in enumerate(TASK_TITLES["onboarding"]):
                    tid += 1
                    due = kickoff + k - 3
                    visible = k in CLIENT_TASKS
                    done = due < today - 2 or (due < today + 7 and rnd() < 0.5)
                    done_t = min(c.now, due * 86400 + 30000)
                    yield (tid, "onboarding", title, None, DELIVERY_ID, dayf(due),
                           ts(done_t) if done else None, (DELIVERY_ID if not visible else None) if done else None,
                           i, client, project, 1 if visible else 0, f"handoff:{i}:onboarding:{k}",
                           2 if done else 1, ts(t1 + 600), ts(done_t) if done else ts(t1 + 600))
    return cols, rows()


def gen_audits(plan: Plan):
    cols = ("id", "lead_id", "status", "findings", "baseline_figures", "raw_notes", "provider_caveats",
            "client_summary", "client_summary_status", "completed_at", "completed_by_id", "version",
            "created_at", "updated_at")
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
            yield (a, i, "completed" if done else "draft", choice(FINDINGS) if (done or rng.random() < 0.5) else None,
                   choice(BASELINES) if done else None, choice(RAW_NOTES), choice(CAVEATS),
                   choice(CLIENT_SUMMARIES) if summary_status != "none" else None, summary_status,
                   ts(completed) if done else None, plan.owner[i] if done else None,
                   2 if done else 1, ts(made), ts(completed if done else made))
    return cols, rows()


def _proposal_times(plan: Plan, lead: int, number: int):
    """(created, sent) epoch seconds of version `number`, spread over the later part of the lead's life."""
    t0, t1 = plan.t0[lead], plan.t1[lead]
    k = plan.n_prop[lead]
    start = t0 + (t1 - t0) * 11 // 20
    step = (t1 - start) // (k + 1)
    created = start + step * (number - 1)
    return created, created + step // 2


def gen_proposals(plan: Plan):
    cols = ("id", "lead_id", "number", "previous_id", "client_id", "project_id", "audit_id", "service",
            "status", "title", "summary", "price_cents", "currency", "timeline", "expected_improvement",
            "contract_language", "pricing_assumptions", "internal_notes", "sent_at", "viewed_at",
            "follow_up_date", "decision_deadline", "objection", "probability", "accepted_at",
            "accepted_add_on_ids", "declined_at", "decline_reason", "snapshot", "sent_message_id",
            "version", "created_at", "updated_at")
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
                timeline, improvement, language = choice(TIMELINES), choice(IMPROVEMENTS), choice(CONTRACT_LANG)
                snapshot = msg = sent_at = viewed = follow = deadline = None
                if sent:
                    sent_at = ts(sent_t)
                    msg = send + number - 1
                    follow = day(sent_t + 5 * 86400)
                    deadline = day(sent_t + 21 * 86400)
                    if rnd() < 0.8 or status in ("accepted", "declined"):
                        viewed = ts(sent_t + randint(600, 3 * 86400))
                    snapshot = json.dumps({
                        "number": number, "title": title, "service": service, "summary": summary,
                        "price_cents": price, "currency": "EUR", "timeline": timeline,
                        "expected_improvement": improvement, "contract_language": language,
                        "items": [{"id": first_item + n, "kind": it[0], "title": it[1], "price_cents": it[3]}
                                  for n, it in enumerate(items)],
                        "sent_at": sent_at,
                    }, separators=(",", ":"))
                accepted_at = accepted_add_ons = declined_at = decline_reason = None
                if status == "accepted":
                    accepted_at = ts(t1 - 86400)
                    accepted_add_ons = json.dumps([first_item + n for n, it in enumerate(items)
                                                   if it[0] == "add_on" and rnd() < 0.5])
                elif status == "declined":
                    declined_at, decline_reason = ts(t1), choice(DECLINES)
                latest = number == k
                client = plan.client[i] if (latest and plan.client[i]) else None
                updated = max(created, t1 if latest else sent_t)
                yield (pid, i, number, pid - 1 if number > 1 else None, client,
                       plan.project[i] if (status == "accepted") else None, plan.audit[i] or None,
                       service, status, title, summary, price, "EUR", timeline, improvement, language,
                       "Assumes 2 rounds of changes" if rnd() < 0.5 else None, None,
                       sent_at, viewed, follow, deadline,
                       choice(OBJECTIONS) if sent else None,
                       randint(20, 90) if latest else None,
                       accepted_at, accepted_add_ons, declined_at, decline_reason, snapshot, msg,
                       1 + (2 if sent else 0), ts(created), ts(updated))
    return cols, rows()


def gen_proposal_items(plan: Plan):
    cols = ("id", "proposal_id", "kind", "title", "description", "price_cents", "position", "created_at",
            "updated_at")
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


MSG_COLS = ("id", "lead_id", "client_id", "project_id", "direction", "channel", "subject", "body",
            "client_visible", "to_email", "email_status", "author_id", "sent_at", "read_at", "key",
            "created_at", "updated_at")


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
                yield (mid, i, client, None, "outbound", "email", f"Your proposal (version {number})",
                       "Please find our proposal at the link below.", 0, email, "sent", plan.owner[i],
                       sent, None, f"proposal-sent:{plan.prop_first[i] + number - 1}", sent, sent)
        assert mid == plan.n_sends
        # 2. replies and notes on open deals
        for i in range(1, plan.n + 1):
            if plan.reached[i] < DISCOVERY or rnd() > 0.12:
                continue
            t0, t1 = plan.t0[i], plan.t1[i]
            t = t0 + int(rnd() * max(1, t1 - t0))
            mid += 1
            if rnd() < 0.7:
                yield (mid, i, plan.client[i] or None, None, "inbound", "email", choice(MSG_SUBJECTS_IN),
                       choice(MSG_BODIES), 0, None, "none", None, ts(t), ts(t + 3600), None, ts(t), ts(t))
            else:
                yield (mid, i, None, None, "internal", choice(("phone", "meeting")), "Call notes",
                       choice(MSG_BODIES), 0, None, "none", plan.owner[i], ts(t), None, None, ts(t), ts(t))
        # 3. portal conversations with clients (client-visible)
        for p in range(1, plan.n_projects + 1):
            lead = plan.project_lead[p]
            client = plan.client[lead]
            start = plan.t1[lead] + 86400
            for _ in range(randint(0, 4)):
                t = start + int(rnd() * max(1, c.now - start))
                mid += 1
                inbound = rnd() < 0.5
                yield (mid, lead, client, p, "inbound" if inbound else "outbound", "portal",
                       choice(MSG_SUBJECTS_PORTAL), choice(MSG_BODIES), 1, None,
                       "none" if inbound else "sent", None if inbound else DELIVERY_ID, ts(t),
                       ts(t + 7200) if rnd() < 0.7 else None, None, ts(t), ts(t))
    return MSG_COLS, rows()


def gen_contracts(plan: Plan):
    cols = ("id", "lead_id", "proposal_id", "state", "payment_state", "kickoff_date", "onboarding_owner_id",
            "launch_blockers", "client_launch_blockers", "signed_at", "version", "created_at", "updated_at")
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
            payment = (rng.choice(("invoiced", "deposit_paid", "paid", "paid", "overdue")) if signed
                       else "not_invoiced")
            created = t1 - 5 * 86400 if signed else max(plan.t0[i], t1 - 2 * 86400)
            yield (cid, i, latest_pid, state, payment, day(t1 + 14 * 86400) if signed else None,
                   DELIVERY_ID if signed else None,
                   "Waiting for ad account access" if blockers else None,
                   "We need access to your ad accounts" if blockers else None,
                   ts(t1 - 86400) if signed else None, 3 if signed else 1, ts(created), ts(t1))
    return cols, rows()


def gen_projects(plan: Plan):
    cols = ("id", "name", "client_id", "lead_id", "proposal_id", "contract_id", "service", "status",
            "scope_snapshot", "kickoff_date", "onboarding_owner_id", "payment_state", "contract_state",
            "launch_blockers", "client_launch_blockers", "client_next_steps", "handoff_notes", "version",
            "created_at", "updated_at")
    rng = random.Random(f"{plan.seed}:projects")
    c = plan.clock
    ts, day = c.ts, c.day

    def rows():
        for p in range(1, plan.n_projects + 1):
            i = plan.project_lead[p]
            t1 = plan.t1[i]
            kickoff = t1 + 14 * 86400
            age_days = (c.now - kickoff) // 86400
            status = ("onboarding" if age_days < 30 else
                      rng.choice(("active", "active", "active", "paused", "completed")))
            pid = plan.prop_first[i] + plan.n_prop[i] - 1
            items = items_of(plan.seed, pid, True)
            scope = json.dumps({k: [it[1] for it in items if it[0] == k] for k in ITEM_KINDS},
                               separators=(",", ":"))
            blockers = status == "onboarding" and rng.random() < 0.4
            yield (p, f"{SERVICE_LABELS[service_of(i)]} — {company_of(i)}", plan.client[i], i, pid,
                   plan.contract[i], service_of(i), status, scope, day(kickoff), DELIVERY_ID,
                   rng.choice(("invoiced", "deposit_paid", "paid", "paid", "overdue")), "signed",
                   "Pixel not installed on checkout" if blockers else None,
                   "Tracking code still to be added to your checkout" if blockers else None,
                   "Kickoff call, then access checklist" if status == "onboarding" else None,
                   "Owner prefers calls to email", 2, ts(t1 + 600), ts(min(c.now, kickoff + 86400)))
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
                yield (cid, p, name, status, DELIVERY_ID,
                       "API quota 1k calls/day" if status == "blocked" else None, 1, t, t)
    return cols, rows()


def gen_reports(plan: Plan):
    cols = ("id", "kind", "title", "client_id", "project_id", "lead_id", "owner_id", "cadence",
            "period_start", "period_end", "status", "figures", "client_summary", "internal_body",
            "published_at", "key", "version", "created_at", "updated_at")
    rng = random.Random(f"{plan.seed}:reports")
    c = plan.clock
    ts, day = c.ts, c.day

    def rows():
        for rid, kind, project, client, lead, start, status, k in plan.reports():
            published = ts(start + 31 * 86400) if status == "published" else None
            if kind == "handoff_packet":
                yield (rid, kind, f"Handoff packet — {company_of(lead)}", client, project, lead,
                       plan.owner[lead], None, None, None, status, json.dumps({"tasks": 8}),
                       "Your onboarding plan and the people you will work with.",
                       "Promised in sales: weekly call in month 1", ts(start + 86400) if published else None,
                       f"handoff:{lead}", 2, ts(start + 600), ts(start + 86400))
            elif kind == "client_report":
                figures = json.dumps({"leads": rng.randint(20, 400), "cpl_eur": rng.randint(20, 140),
                                      "spend_eur": rng.randint(1000, 30000)})
                end = start + 30 * 86400
                yield (rid, kind, f"Monthly report {day(start)[:7]} — {company_of(lead)}", client, project,
                       lead, DELIVERY_ID, "monthly", day(start), day(end - 86400), status, figures,
                       "Leads grew, cost per lead fell." if status != "draft" else None,
                       "Spend paced under plan", published, f"report:{project}:{k}",
                       3 if status == "published" else 1, ts(end), ts(min(c.now, end + 2 * 86400)))
            else:
                yield (rid, kind, f"Pipeline week of {day(start)}", None, None, None, ADMIN_ID, "weekly",
                       day(start), day(start + 6 * 86400), status,
                       json.dumps({"new": rng.randint(100, 900), "won": rng.randint(1, 30)}), None,
                       "Weekly pipeline numbers", published, f"pipeline:{day(start)}", 1,
                       ts(start + 7 * 86400), ts(start + 7 * 86400))
    return cols, rows()


def gen_report_notes(plan: Plan):
    cols = ("id", "report_id", "audit_id", "visibility", "status", "body", "author_id", "version",
            "created_at", "updated_at")
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


def gen_approvals(plan: Plan):
    cols = ("id", "kind", "state", "lead_id", "proposal_id", "audit_id", "report_note_id", "report_id",
            "content", "requested_by_id", "requested_at", "decided_by_id", "decided_at", "comment",
            "version", "created_at", "updated_at")
    rng = random.Random(f"{plan.seed}:approvals")
    rnd, randint, choice = rng.random, rng.randint, rng.choice
    c = plan.clock
    ts = c.ts

    def row(aid, kind, state, lead, proposal, audit, note, report, content, requester, t_req, t_dec):
        decided = state in ("approved", "rejected")
        deciders = (APPROVER_ID, APPROVER_ID, APPROVER_ID, ADMIN_ID)
        tr = ts(t_req)
        return (aid, kind, state, lead, proposal, audit, note, report, content, requester, tr,
                deciders[int(rnd() * 4)] if decided else None, ts(t_dec) if decided else None,
                choice(APPROVAL_COMMENTS) if state == "rejected" else ("OK" if decided and rnd() < 0.3 else None),
                2 if state != "pending" else 1, tr, ts(t_dec) if state != "pending" else tr)

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
                    yield row(aid, "pricing", "pending", i, pid, None, None, None,
                              f"Price {randint(20, 400) * 100} EUR", owner, created + 3600, 0)
                else:
                    yield row(aid, "pricing", "rejected", i, pid, None, None, None,
                              f"Price {randint(20, 400) * 100} EUR", owner, created + 3600, created + 7200)
                continue
            aid += 1
            yield row(aid, "pricing", "approved", i, pid, None, None, None,
                      f"Price {randint(20, 400) * 100} EUR", owner, sent_t - 7200, sent_t - 3600)
            if rnd() < 0.08:
                aid += 1
                yield row(aid, "claim", "approved", i, pid, None, None, None, choice(IMPROVEMENTS[:3]),
                          owner, sent_t - 7200, sent_t - 3000)
            if rnd() < 0.05:
                aid += 1
                yield row(aid, "contract_language", "approved", i, pid, None, None, None,
                          choice(CONTRACT_LANG[:3]), owner, sent_t - 7200, sent_t - 3000)
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
            yield row(aid, "client_summary", st, i, None, a, None, None, choice(CLIENT_SUMMARIES),
                      plan.owner[i], t, t + randint(600, 86400))
        # client-safe report notes
        for rid, _kind, _p, _c, lead, start, _status, _k in plan.reports():
            nid = 2 * rid
            vis, st = note_shape(nid)
            if vis != "client_safe" or st == "none":
                continue
            t = start + 20 * 86400 + 600
            aid += 1
            yield row(aid, "client_summary", st, lead or None, None, None, nid, None,
                      choice(NOTE_BODIES_SAFE), DELIVERY_ID, t, t + randint(600, 86400))
    return cols, rows()


# Load order (FK-safe for SQLite, where the checks run at the end anyway).
TABLES = [
    ("users", lambda plan, ctx: gen_users(plan, ctx["pw_hash"])),
    ("clients", lambda plan, ctx: gen_clients(plan)),
    ("leads", lambda plan, ctx: gen_leads(plan)),
    ("events", lambda plan, ctx: gen_events(plan)),
    ("tasks", lambda plan, ctx: gen_tasks(plan)),
    ("audits", lambda plan, ctx: gen_audits(plan)),
    ("messages", lambda plan, ctx: gen_messages(plan)),
    ("proposals", lambda plan, ctx: gen_proposals(plan)),
    ("proposal_items", lambda plan, ctx: gen_proposal_items(plan)),
    ("contracts", lambda plan, ctx: gen_contracts(plan)),
    ("projects", lambda plan, ctx: gen_projects(plan)),
    ("connectors", lambda plan, ctx: gen_connectors(plan)),
    ("reports", lambda plan, ctx: gen_reports(plan)),
    ("report_notes", lambda plan, ctx: gen_report_notes(plan)),
    ("approvals", lambda plan, ctx: gen_approvals(plan)),
]


def check_columns(name: str, cols) -> None:
    """Fail early and clearly if the models changed under us (a new NOT NULL column, a rename)."""
    table = Base.metadata.tables[name]
    unknown = [c for c in cols if c not in table.c]
    missing = [c.name for c in table.c if not c.nullable and not c.primary_key and c.name not in cols
               and c.server_default is None]
    if unknown or missing:
        raise SystemExit(f"bench/seed.py is out of date with zarts.models for table {name!r}: "
                         f"unknown columns {unknown}, required columns not generated {missing}")


# ---------------------------------------------------------------------------------------------
# Loaders
# ---------------------------------------------------------------------------------------------
def _psycopg_url(url: sa.engine.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresLoader:
    """COPY into tables stripped of FKs, unique constraints and secondary indexes, then rebuild them.

    With jobs > 1, tables are loaded (and indexes built, tables analysed) on that many connections at
    once, largest first: on a 2-core machine the server side of COPY is the bottleneck, not Python.
    """

    # Rough cost order (largest first) for scheduling the parallel load.
    ORDER = ("events", "tasks", "leads", "proposals", "proposal_items", "messages", "approvals", "audits",
             "report_notes", "reports", "contracts", "connectors", "projects", "users", "clients")

    def __init__(self, url: str, admin_url: str, recreate: bool, jobs: int):
        import psycopg

        self.psycopg = psycopg
        self.url = sa.engine.make_url(url)
        self.admin_url = sa.engine.make_url(admin_url)
        self.recreate = recreate
        self.jobs = max(1, jobs)
        self.deferred_indexes: list[tuple[str, str]] = []
        self.deferred_uniques: list[tuple[str, str]] = []
        self.deferred_fks: list[tuple[str, str]] = []
        self.index_statistics: list[tuple[str, str]] = []

    def connect(self, autocommit: bool = False):
        conn = self.psycopg.connect(_psycopg_url(self.url), autocommit=autocommit)
        conn.execute("SET synchronous_commit = off")
        conn.execute(f"SET maintenance_work_mem = '{'1GB' if self.jobs == 1 else '512MB'}'")
        conn.execute(f"SET max_parallel_maintenance_workers = {2 if self.jobs == 1 else 0}")
        if not autocommit:
            conn.commit()
        return conn

    def prepare(self) -> None:
        name = self.url.database
        with self.psycopg.connect(_psycopg_url(self.admin_url), autocommit=True) as admin:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if exists and self.recreate:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                exists = None
            if not exists:
                admin.execute(f'CREATE DATABASE "{name}"')
        engine = sa.create_engine(self.url)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sa.exc.SAWarning)  # the known FK cycle (proposals/projects/...)
            Base.metadata.drop_all(engine)
            Base.metadata.create_all(engine)
        engine.dispose()
        self.tables = list(Base.metadata.tables)
        with self.connect() as conn:
            cur = conn.cursor()
            # Foreign keys and unique constraints out during the load, back (validated) afterwards.
            cur.execute("""
                SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid)
                FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                WHERE n.nspname = current_schema() AND c.contype IN ('f', 'u')
                ORDER BY c.contype, c.conname""")
            for table, conname, contype, definition in cur.fetchall():
                stmt = f'ALTER TABLE {table} ADD CONSTRAINT "{conname}" {definition}'
                (self.deferred_fks if contype == "f" else self.deferred_uniques).append((table, stmt))
                cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{conname}"')
            cur.execute("""
                SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = current_schema() AND NOT i.indisprimary
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)""")
            indexes = cur.fetchall()
            # Statistics targets set on index expressions (ix_leads_search_trgm) go with the index.
            cur.execute("""
                SELECT i.indrelid::regclass::text, a.attrelid::regclass::text, a.attnum, a.attstattarget
                FROM pg_attribute a JOIN pg_index i ON i.indexrelid = a.attrelid
                JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = current_schema() AND a.attstattarget > 0""")
            for table, index, attnum, target in cur.fetchall():
                self.index_statistics.append(
                    (table, f"ALTER INDEX {index} ALTER COLUMN {attnum} SET STATISTICS {target}"))
            for table, index, definition in indexes:
                self.deferred_indexes.append((table, definition))
                cur.execute(f"DROP INDEX {index}")
            conn.commit()

    def load(self, table: str, cols, rows) -> int:
        n = 0
        with self.connect() as conn:
            with conn.cursor() as cur:
                cur.execute(f"TRUNCATE {table}")  # makes COPY FREEZE legal (same transaction)
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN WITH (FREEZE)") as cp:
                    write = cp.write_row
                    for row in rows:
                        write(row)
                        n += 1
            conn.commit()
        return n

    def _rank(self, table: str) -> int:
        return self.ORDER.index(table) if table in self.ORDER else len(self.ORDER)

    def _run_statements(self, stmts: list[tuple[str, str]]) -> None:
        """Run (table, sql) statements on `jobs` connections, biggest tables first."""
        import queue
        import threading

        todo: queue.Queue = queue.Queue()
        for item in sorted(stmts, key=lambda ts: self._rank(ts[0])):
            todo.put(item)
        errors = []

        def worker():
            with self.connect(autocommit=True) as conn:
                while not errors:
                    try:
                        _table, sql = todo.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        conn.execute(sql)
                    except Exception as exc:  # noqa: BLE001 - reported below
                        errors.append((sql, exc))

        threads = [threading.Thread(target=worker) for _ in range(self.jobs)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if errors:
            sql, exc = errors[0]
            raise SystemExit(f"failed: {sql}\n{exc}")

    def finish(self, timings) -> None:
        t = time.perf_counter()
        self._run_statements(self.deferred_indexes + self.deferred_uniques)
        self._run_statements(self.index_statistics)
        timings.append(("indexes + unique constraints", len(self.deferred_indexes) + len(self.deferred_uniques),
                        time.perf_counter() - t))
        t = time.perf_counter()
        with self.connect(autocommit=True) as conn:
            # One connection: ADD FOREIGN KEY locks both tables, and users/clients refer to each other.
            for _table, stmt in self.deferred_fks:
                conn.execute(stmt)  # validates every existing row
        timings.append(("foreign keys (validated)", len(self.deferred_fks), time.perf_counter() - t))
        t = time.perf_counter()
        with self.connect(autocommit=True) as conn:
            for table in self.tables:
                conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)")
        timings.append(("sequences (setval)", len(self.tables), time.perf_counter() - t))
        t = time.perf_counter()
        self._run_statements([(table, f"ANALYZE {table}") for table in self.tables])
        timings.append(("ANALYZE", len(self.tables), time.perf_counter() - t))
        with self.connect(autocommit=True) as conn:
            self.size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]

    def describe(self) -> str:
        return f"PostgreSQL database {self.url.database} ({self.size}), {self.jobs} parallel load job(s)"


class SqliteLoader:
    BATCH = 50_000

    def __init__(self, url: str):
        import sqlite3

        self.sqlite3 = sqlite3
        self.url = sa.engine.make_url(url)
        self.path = os.path.abspath(self.url.database)

    def prepare(self) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(self.path + suffix):
                os.remove(self.path + suffix)
        engine = sa.create_engine(f"sqlite:///{self.path}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sa.exc.SAWarning)
            Base.metadata.create_all(engine)
        engine.dispose()
        self.conn = self.sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA foreign_keys=OFF")  # checked at the end with foreign_key_check
        self.conn.execute("PRAGMA cache_size=-400000")
        self.conn.execute("PRAGMA temp_store=MEMORY")
        self.deferred = self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").fetchall()
        for name, _sql in self.deferred:
            self.conn.execute(f'DROP INDEX "{name}"')

    def load(self, table: str, cols, rows) -> int:
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        n = 0
        batch = []
        self.conn.execute("BEGIN")
        for row in rows:
            batch.append(row)
            if len(batch) >= self.BATCH:
                self.conn.executemany(sql, batch)
                n += len(batch)
                batch.clear()
        if batch:
            self.conn.executemany(sql, batch)
            n += len(batch)
        self.conn.execute("COMMIT")
        return n

    def finish(self, timings) -> None:
        t = time.perf_counter()
        for _name, sql in self.deferred:
            self.conn.execute(sql)
        timings.append(("indexes", len(self.deferred), time.perf_counter() - t))
        t = time.perf_counter()
        bad = self.conn.execute("PRAGMA foreign_key_check").fetchmany(10)
        if bad:
            raise SystemExit(f"foreign key violations (first 10): {bad}")
        timings.append(("foreign_key_check", 0, time.perf_counter() - t))
        t = time.perf_counter()
        self.conn.execute("ANALYZE")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        timings.append(("ANALYZE", 0, time.perf_counter() - t))
        self.conn.close()

    def describe(self) -> str:
        return f"SQLite file {self.path} ({os.path.getsize(self.path) / 1e6:.0f} MB)"


# ---------------------------------------------------------------------------------------------
# Meta: ids a benchmark needs
# ---------------------------------------------------------------------------------------------
def build_meta(plan: Plan, counts: dict, args, elapsed: float) -> dict:
    n = plan.n
    meta = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database_url": args.database_url, "leads": n, "seed": args.seed, "today": plan.clock.today.isoformat(),
        "load_seconds": round(elapsed, 1), "counts": counts, "password": PASSWORD,
        "staff": {"admin": "admin@zarts.test", "ops": "ops@zarts.test", "approver": "approver@zarts.test",
                  "delivery": "delivery@zarts.test"},
        "staff_ids": {"admin": ADMIN_ID, "ops": OPS_ID, "approver": APPROVER_ID, "delivery": DELIVERY_ID},
        "designated_lead_id": plan.designated, "designated_lead_events": DESIGNATED_EVENTS,
        "search_term": CO_A[0], "stage_filter": "proposal",
    }
    # a client whose latest proposal is sent and waiting (contract stage, existing client)
    for i in range(1, n + 1):
        if plan.stage[i] == CONTRACT and plan.client[i] and plan.latest[i] == LATEST_SENT:
            k = plan.client[i]
            meta.update(client_with_sent_proposal_id=k, client_contact_email=f"client{k}@bench.test",
                        sent_proposal_id=plan.prop_first[i] + plan.n_prop[i] - 1, sent_proposal_lead_id=i)
            break
    d = plan.designated
    k = plan.client[d]
    meta.update(won_lead_id=d, won_client_id=k, won_client_contact_email=f"client{k}@bench.test",
                won_project_id=plan.project[d],
                accepted_proposal_id=plan.prop_first[d] + plan.n_prop[d] - 1)
    if "client_contact_email" not in meta:
        meta["client_contact_email"] = meta["won_client_contact_email"]
    for i in range(1, n + 1):
        if plan.owner[i] == OPS_ID and plan.stage[i] == CONTRACT and not plan.paused[i]:
            meta["ops_contract_lead_id"] = i
            break
    for i in range(1, n + 1):
        if plan.owner[i] == OPS_ID and plan.stage[i] == NEW:
            meta["ops_new_lead_id"] = i
            break
    for i in range(1, n + 1):
        if plan.stage[i] == LOST and plan.reached[i] == CONTRACT:
            meta["lost_lead_id"] = i
            break
    # the first pending approval, in generation order (proposal pricing of a draft)
    _cols, rows = gen_approvals(plan)
    for row in rows:
        if row[2] == "pending":
            meta["pending_approval_id"] = row[0]
            meta["pending_approval_kind"] = row[1]
            break
    for rid, kind, _p, client, _lead, _s, status, _k in plan.reports():
        if kind == "client_report" and status == "published" and client == k:
            meta["published_report_id"] = rid
            break
    for rid, kind, _p, client, _lead, _s, status, _k in plan.reports():
        if kind == "client_report" and status == "published" and client == meta.get("client_with_sent_proposal_id"):
            meta["client_published_report_id"] = rid
            break
    return meta


_STATE: dict = {}


def _load_one(name: str):
    """Generate and load one table (in the main process, or in a forked worker)."""
    plan, ctx, loader = _STATE["plan"], _STATE["ctx"], _STATE["loader"]
    make = dict(TABLES)[name]
    t = time.perf_counter()
    cols, rows = make(plan, ctx)
    n = loader.load(name, cols, rows)
    dt = time.perf_counter() - t
    print(f"  {name:<16} {n:>10,} rows {dt:8.1f} s", flush=True)
    return name, n, dt


def stamp_head(url: str) -> str:
    """Record the migrations' head in alembic_version, as `zarts db stamp head` would: the schema
    comes from the models (create_all), which match the head, so `zarts db upgrade` applies the
    schema changes made after this seed."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", os.path.join(ROOT, "migrations"))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE IF NOT EXISTS alembic_version "
                                 "(version_num VARCHAR(32) NOT NULL, PRIMARY KEY (version_num))"))
            conn.execute(sa.text("DELETE FROM alembic_version"))
            conn.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head})
    finally:
        engine.dispose()
    return head


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--leads", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--today", type=date.fromisoformat, default=datetime.now(UTC).date(),
                    help="anchor date (YYYY-MM-DD) for due dates and ages; default today (UTC)")
    ap.add_argument("--admin-url", default=ADMIN_URL,
                    help="PostgreSQL URL used to create the database when it is missing")
    ap.add_argument("--recreate-db", action="store_true",
                    help="PostgreSQL: DROP DATABASE ... WITH (FORCE) and create it again")
    ap.add_argument("--jobs", type=int, default=2,
                    help="PostgreSQL: tables loaded / indexes built on this many connections at once")
    ap.add_argument("--meta", default=os.path.join(DATA_DIR, "meta.json"),
                    help="where to write the ids benchmarks need (default bench/data/meta.json)")
    args = ap.parse_args(argv)

    started = time.perf_counter()
    url = sa.engine.make_url(args.database_url)
    if url.get_backend_name() == "postgresql":
        loader = PostgresLoader(args.database_url, args.admin_url, args.recreate_db, args.jobs)
    elif url.get_backend_name() == "sqlite":
        loader = SqliteLoader(args.database_url)
    else:
        raise SystemExit(f"unsupported database: {url.get_backend_name()}")

    timings: list[tuple[str, int, float]] = []
    t = time.perf_counter()
    from zarts.auth.passwords import hash_password

    ctx = {"pw_hash": hash_password(PASSWORD)}
    plan = Plan(args.leads, args.seed, Clock(args.today))
    timings.append(("plan (+ argon2 hash)", args.leads, time.perf_counter() - t))
    for name, make in TABLES:
        cols, _ = make(plan, ctx)
        check_columns(name, cols)

    t = time.perf_counter()
    loader.prepare()
    timings.append(("schema (drop/create)", len(Base.metadata.tables), time.perf_counter() - t))

    counts = {}
    plan.reports()  # materialise the shared report structure before any thread reads it
    t_load = time.perf_counter()

    _STATE.update(plan=plan, ctx=ctx, loader=loader)
    jobs = getattr(loader, "jobs", 1)
    if jobs > 1:
        # Processes, not threads: generating rows is pure Python and would serialise on the GIL.
        # fork shares the plan with the children for free (copy-on-write); nothing is connected yet.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ordered = [name for name, _ in sorted(TABLES, key=lambda item: loader._rank(item[0]))]
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_load_one, ordered, chunksize=1))
    else:
        results = [_load_one(name) for name, _ in TABLES]
    by_name = {name: (n, dt) for name, n, dt in results}
    for name, _make in TABLES:
        n, dt = by_name[name]
        counts[name] = n
        timings.append((name, n, dt))
    timings.append((f"all tables (wall, {jobs} job(s))", sum(counts.values()), time.perf_counter() - t_load))
    loader.finish(timings)
    head = stamp_head(args.database_url)
    timings.append((f"alembic stamp {head}", 0, 0.0))
    elapsed = time.perf_counter() - started

    print()
    print(f"{'step / table':<30} {'rows':>12} {'seconds':>9} {'rows/s':>11}")
    print("-" * 65)
    for name, n, dt in timings:
        rate = f"{n / dt:,.0f}" if dt > 0 and (name in counts or name.startswith("all tables")) else ""
        print(f"{name:<30} {n:>12,} {dt:9.1f} {rate:>11}")
    print("-" * 65)
    print(f"{'total':<30} {sum(counts.values()):>12,} {elapsed:9.1f}")
    print(f"\n{loader.describe()}")

    meta = build_meta(plan, counts, args, elapsed)
    os.makedirs(os.path.dirname(os.path.abspath(args.meta)), exist_ok=True)
    with open(args.meta, "w") as fh:
        json.dump(meta, fh, indent=2)
    print(f"\ndesignated lead (exactly {DESIGNATED_EVENTS} events): {plan.designated}")
    for key in ("client_contact_email", "client_with_sent_proposal_id", "sent_proposal_id",
                "won_client_contact_email", "won_project_id", "pending_approval_id", "published_report_id"):
        print(f"{key}: {meta.get(key)}")
    print(f"meta written to {args.meta}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
