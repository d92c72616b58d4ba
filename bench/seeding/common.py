"""Shape of the data (weights, text pools, staff) and the deterministic helpers every table uses:
names, contacts and services are pure functions of a lead id, so every table agrees.
"""

from __future__ import annotations

import bisect
import os
from datetime import UTC, date, datetime, timedelta

from zarts.models.vocab import EVENT_KINDS, SERVICES, STAGES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PASSWORD = "bench-password-123"
ADMIN_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"
DATA_DIR = os.path.join(ROOT, "bench", "data")

# ---------------------------------------------------------------------------------------------
# Shape of the data
# ---------------------------------------------------------------------------------------------
NEW, QUALIFIED, DISCOVERY, AUDIT, PROPOSAL, CONTRACT, WON, LOST = range(8)
assert STAGES == ("new", "qualified", "discovery", "audit", "proposal", "contract", "won", "lost")

# Where leads are now. Most sit early or are lost; few get far.
STAGE_WEIGHTS = {
    NEW: 0.36,
    QUALIFIED: 0.25,
    DISCOVERY: 0.05,
    AUDIT: 0.015,
    PROPOSAL: 0.03,
    CONTRACT: 0.03,
    WON: 0.022,
    LOST: 0.243,
}
# How far a lost lead had come before it was lost.
LOST_REACHED_WEIGHTS = {
    NEW: 0.25,
    QUALIFIED: 0.30,
    DISCOVERY: 0.12,
    AUDIT: 0.08,
    PROPOSAL: 0.10,
    CONTRACT: 0.15,
}
# Proposal versions of a lead that reached the contract stage (a proposal-stage lead has one draft).
PROPOSAL_COUNT_WEIGHTS = {1: 0.2, 2: 0.2, 3: 0.6}
REPEAT_CLIENT_SHARE = 0.10  # won deals of an existing client
CONTRACT_LEAD_WITH_CLIENT = 0.10  # contract-stage leads of an existing client (see the portal)
STAFF_OPS = 37  # ops@ + ops2..ops37: with admin, approver, delivery = 40 staff
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
CO_A = (
    "Northwind",
    "Bluepeak",
    "Cedar",
    "Ironbark",
    "Lumen",
    "Harbor",
    "Silverline",
    "Oakridge",
    "Brightwater",
    "Kestrel",
    "Maple",
    "Granite",
    "Solstice",
    "Evergreen",
    "Copperfield",
    "Halcyon",
    "Redwood",
    "Westgate",
    "Summit",
    "Riverside",
    "Aurora",
    "Falcon",
    "Meridian",
    "Pinecrest",
    "Starling",
    "Tidewater",
    "Vantage",
    "Willow",
    "Zephyr",
    "Atlas",
    "Beacon",
    "Crescent",
    "Driftwood",
    "Ember",
    "Foxglove",
    "Goldleaf",
    "Highland",
    "Juniper",
    "Keystone",
    "Larkspur",
    "Monarch",
    "Nimbus",
    "Orchard",
    "Parkside",
    "Quarry",
    "Rosewood",
    "Sable",
    "Thistle",
    "Umber",
    "Vireo",
    "Wren",
    "Yarrow",
    "Alder",
    "Birch",
    "Cobalt",
    "Delta",
    "Elm",
    "Fjord",
    "Glacier",
    "Hazel",
)
CO_B = (
    "Logistics",
    "Dental",
    "Legal",
    "Fitness",
    "Roofing",
    "Solar",
    "Bakery",
    "Clinics",
    "Realty",
    "Insurance",
    "Software",
    "Outdoor",
    "Furniture",
    "Optics",
    "Veterinary",
    "Plumbing",
    "Architects",
    "Travel",
    "Cosmetics",
    "Coffee",
    "Security",
    "Energy",
    "Print",
    "Auto",
    "Pharmacy",
    "Tutoring",
    "Catering",
    "Cycling",
    "Flooring",
    "Wines",
    "Pet Care",
    "Studios",
    "Consulting",
    "Textiles",
    "Marine",
    "Garden",
    "Hotels",
    "Physio",
    "Electric",
    "Storage",
)
CO_SUFFIX = ("GmbH", "Ltd", "BV", "AG", "SAS", "Oy", "AB", "& Co")
FIRST = (
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Elena",
    "Felix",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Katrin",
    "Lukas",
    "Mara",
    "Nils",
    "Olga",
    "Paul",
    "Quentin",
    "Rosa",
    "Sven",
    "Tara",
    "Ulrich",
    "Vera",
    "Wim",
    "Xenia",
    "Yusuf",
    "Zoe",
    "Amir",
    "Bea",
    "Chen",
    "Dana",
    "Emil",
    "Fatima",
    "Gabriel",
    "Hanna",
    "Ivan",
    "Julia",
    "Karim",
    "Lea",
    "Marco",
    "Nora",
)
LAST = (
    "Schmidt",
    "Jansen",
    "Dubois",
    "Rossi",
    "Novak",
    "Lindqvist",
    "Kowalski",
    "Garcia",
    "Müller",
    "Peeters",
    "Andersen",
    "Costa",
    "Fischer",
    "Horvat",
    "Ivanova",
    "Keller",
    "Laurent",
    "Moreau",
    "Nielsen",
    "Oliveira",
    "Petrov",
    "Quist",
    "Richter",
    "Silva",
    "Toth",
    "Urban",
    "Vogel",
    "Weber",
    "Young",
    "Zimmer",
    "Berg",
    "Cohen",
    "Dahl",
    "Eriksen",
    "Ferrari",
    "Gruber",
    "Hoffmann",
    "Jovanovic",
    "Kaya",
    "Lopez",
)
SOURCE_CONTEXT = (
    "Met at the spring meetup",
    "Inbound form: pricing page",
    "Referred by an existing client",
    "Cold outreach, replied to second mail",
    "Partner intro via agency network",
    "Webinar attendee",
    "LinkedIn ad campaign Q3",
    "Trade fair booth conversation",
)
DECISION_OWNERS = ("CEO", "CMO", "Head of Marketing", "Founder", "COO", "Marketing lead", "Owner")
BUDGETS = (
    "2-4k / month",
    "5-8k / month",
    "8-12k / month",
    "one-off 15k",
    "one-off 30-40k",
    "unclear, 'depends on results'",
    "12k+ / month",
)
CONTACT_PATHS = (
    "email, then a call",
    "phone first",
    "via assistant",
    "LinkedIn message",
    "email only",
    "meeting at their office",
)
PAIN_POINTS = (
    "Cost per lead doubled in a year",
    "Leads go unanswered for days",
    "No idea which channel brings customers",
    "Website converts badly on mobile",
    "Sales team ignores marketing leads",
    "Organic traffic dropped after relaunch",
    "CRM is a spreadsheet",
    "Ads agency reports vanity metrics",
)
LEAD_FLOWS = (
    "~120 leads/mo, mostly web forms",
    "~40 leads/mo, phone and referrals",
    "~300 leads/mo from ads, 5% qualified",
    "trade fairs and outbound, ~20/mo",
    "marketplace listings, ~80/mo",
)
PROVIDERS = (
    "HubSpot",
    "Salesforce",
    "Pipedrive",
    "Google Ads",
    "Meta Ads",
    "GA4",
    "Shopify",
    "WordPress",
    "Mailchimp",
    "Zapier",
    "Calendly",
    "Webflow",
    "LinkedIn Ads",
    "Zendesk",
    "Looker Studio",
    "Stripe",
    "Typeform",
    "Intercom",
)
CRITERIA = (
    "Price and speed",
    "Proof from similar clients",
    "Monthly reporting",
    "No long lock-in",
    "A single point of contact",
    "Integration with their CRM",
)
NEXT_ACTIONS = (
    "Call to qualify",
    "Send discovery questionnaire",
    "Book discovery call",
    "Collect analytics access",
    "Finish audit findings",
    "Draft proposal",
    "Chase proposal feedback",
    "Send contract",
    "Confirm kickoff date",
    "Check in after pause",
)
NEXT_BY_STAGE = {
    NEW: (0, 1),
    QUALIFIED: (1, 2),
    DISCOVERY: (2, 3, 4),
    AUDIT: (3, 4, 5),
    PROPOSAL: (5, 6),
    CONTRACT: (6, 7, 8),
}
LOST_NOTES = (
    "Chose a cheaper freelancer",
    "Budget frozen until next year",
    "Went with incumbent",
    "Stopped replying after proposal",
    "Not a fit for our services",
    None,
)
PAUSE_NOTES = (
    "Consent to be confirmed",
    "Back after their busy season",
    "Source unclear, re-check",
    "New decision maker, re-map the path",
)
FINDINGS = (
    "Tracking misses 40% of conversions; form drop-off at step 2",
    "Brand terms cannibalise organic; 30% of spend on irrelevant queries",
    "Leads wait 26 h on average for a first reply",
    "Core pages fail mobile speed; no schema markup",
)
BASELINES = (
    "CPL 84 EUR; 120 leads/mo",
    "CPL 41 EUR; 300 leads/mo",
    "Close rate 8%; 40 leads/mo",
    "Organic sessions 12k/mo; conv. 0.9%",
    "Reply time 26 h; 55 leads/mo",
)
RAW_NOTES = (
    "Agency before us burned the account; be careful with promises",
    "Their IT is slow to grant access",
    "Owner is sceptical of SEO",
    None,
)
CAVEATS = ("Meta API limits lead sync to hourly", "GA4 history only 14 months", None)
CLIENT_SUMMARIES = (
    "We found three quick wins in your tracking and lead handling.",
    "Your campaigns can reach more qualified buyers at a lower cost.",
    "The biggest gain is answering new enquiries the same day.",
)
TIMELINES = ("4 weeks setup, then monthly", "6 weeks", "3 months", "2 weeks sprint + 3 months run")
IMPROVEMENTS = (
    "Aim: -20% cost per lead within 3 months",
    "Aim: reply to every lead within 1 h",
    "Aim: +30% qualified leads by Q2",
    None,
)
CONTRACT_LANG = (
    "Monthly rolling, 30 days notice",
    "12-month term, quarterly review",
    "Fixed price, 50% upfront",
    None,
)
OBJECTIONS = ("Price above budget", "Wants results guarantee", "Needs board approval", None)
DECLINES = ("Went with another agency", "Budget cut", "Project postponed indefinitely")
ITEM_TITLES = {
    "included": (
        "Tracking audit and fix",
        "Campaign restructure",
        "Landing page redesign",
        "CRM pipeline setup",
        "Monthly report and call",
        "Content calendar (8 posts/mo)",
    ),
    "excluded": ("Ad spend", "Copywriting beyond 2 pages", "Photography", "Third-party licences"),
    "add_on": ("Extra landing page", "LinkedIn campaign", "Quarterly workshop", "Email nurture flow"),
    "assumption": (
        "Access to ad accounts within 5 days",
        "One round of feedback per deliverable",
        "Existing brand guidelines are used",
    ),
    "dependency": (
        "Client provides product feed",
        "IT whitelists tracking domain",
        "Sales team logs outcomes in CRM",
    ),
}
TASK_TITLES = {
    "follow_up": ("Follow up after call", "Chase reply", "Send recap of meeting"),
    "proposal_review": ("Review proposal draft", "Check pricing with approver"),
    "contract_step": ("Send contract", "Chase signature", "Agree payment terms"),
    "onboarding": (
        "Grant analytics access",
        "Share brand assets",
        "Confirm billing contact",
        "Kickoff call",
        "Approve tracking plan",
        "Connect ad accounts",
        "Share CRM login",
        "Sign data processing agreement",
    ),
    "reactivation": ("Win-back call", "Check if timing changed"),
    "reply": ("Reply to client message",),
    "other": ("Update lead notes", "Internal review"),
}
CLIENT_TASKS = frozenset((1, 2, 4, 6, 7))  # onboarding items the client owns and ticks in the portal
MSG_SUBJECTS_IN = (
    "Re: your proposal",
    "Question about timeline",
    "Re: discovery call",
    "Can we move the meeting?",
)
MSG_SUBJECTS_PORTAL = (
    "Question about the report",
    "Access granted",
    "Kickoff agenda",
    "New landing page feedback",
    "Invoice question",
)
MSG_BODIES = (
    "Thanks, we will look at it this week.",
    "Could you send the figures again?",
    "All set from our side.",
    "Let's discuss on Thursday.",
    "Please see the attached notes.",
)
CONNECTOR_NAMES = (
    "Google Ads",
    "Meta Ads",
    "GA4",
    "HubSpot",
    "Salesforce",
    "Pipedrive",
    "Shopify",
    "WordPress",
    "Mailchimp",
    "Zapier",
    "LinkedIn Ads",
    "Calendly",
    "Stripe",
    "Webflow",
)
APPROVAL_COMMENTS = ("Claim needs a source", "Price below floor", "Too vague for the client")
NOTE_BODIES_INTERNAL = (
    "Client slow to give access again",
    "Spend paced 10% under plan",
    "Check attribution window before next report",
)
NOTE_BODIES_SAFE = (
    "Leads up 12% month on month.",
    "Cost per lead down to 61 EUR.",
    "Next month we test two new landing pages.",
)
EVENT_FILLERS = (
    "next_action_set",
    "next_action_set",
    "task_done",
    "task_done",
    "message_received",
    "forecast_updated",
    "objection_logged",
)
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
