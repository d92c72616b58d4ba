"""What the import does with one spreadsheet row: which field each column fills (guessed from the
header), the row as a new lead's or client's fields, and the records it duplicates.

A lead row is checked by `pipeline.new_lead_fields`, the very check `create_lead` applies, so a row
is accepted exactly when the "New lead" form would accept it. Duplicates are looked up for a whole
batch of rows at once: one query per kind of key (email, email domain, company name), IN lists (on
PostgreSQL one array parameter) on the match keys zarts.models.keys keeps on every row; merged
records are never matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Client, Lead
from ..models.keys import company_key, domain_of, email_domain, email_key
from ..models.vocab import CADENCES, CLIENT_STATUS, SERVICE_FIT, SERVICE_LABELS, SERVICES, SOURCES, URGENCY
from . import money, pipeline
from .duplicates import REASON_LABELS
from .errors import Invalid
from .import_files import CONTROL

LEAD_FIELDS = {
    "company": "Company",
    "title": "Title",
    "contact_name": "Contact name",
    "contact_email": "Contact email",
    "contact_phone": "Phone",
    "contact_path": "Contact path",
    "source": "Source",
    "source_context": "Source context",
    "service": "Service",
    "service_fit": "Service fit",
    "urgency": "Urgency",
    "decision_owner": "Decision owner",
    "decision_criteria": "Decision criteria",
    "budget_signal": "Budget signal",
    "pain_points": "Pain points",
    "current_lead_flow": "Current lead flow",
    "provider_stack": "Provider stack",
    "next_action": "Next action",
    "next_action_due": "Next action due",
    "decision_deadline": "Decision deadline",
    "value": "Value",
    "currency": "Currency",
    "consent": "Consent",
}
CLIENT_FIELDS = {
    "name": "Name",
    "domain": "Web domain",
    "status": "Status",
    "report_cadence": "Report cadence",
    "notes": "Notes",
}
FIELDS = {"leads": LEAD_FIELDS, "clients": CLIENT_FIELDS}

# Header names (lower-cased, letters and digits only) each field is guessed from, besides its own.
SYNONYMS = {
    "leads": {
        "company": (
            "company",
            "companyname",
            "organisation",
            "organization",
            "account",
            "firma",
            "unternehmen",
            "business",
        ),
        "title": ("title", "deal", "dealname", "opportunity", "leadtitle", "subject"),
        "contact_name": ("contact", "contactname", "name", "fullname", "person", "contactperson"),
        "contact_email": ("email", "emailaddress", "mail", "contactemail", "emailadresse"),
        "contact_phone": ("phone", "telephone", "tel", "mobile", "phonenumber", "contactphone", "telefon"),
        "source": ("source", "leadsource", "channel"),
        "source_context": ("sourcecontext", "context", "campaign", "list"),
        "service": ("service", "product", "interest", "interestedin"),
        "value": ("value", "amount", "dealvalue", "dealsize", "estimatedvalue"),
        "currency": ("currency", "cur", "ccy"),
        "next_action": ("nextaction", "nextstep", "todo", "action"),
        "next_action_due": ("due", "duedate", "nextactiondue", "followup", "followupdate", "nextactiondate"),
        "decision_deadline": ("decisiondeadline", "deadline", "decisiondate", "closedate"),
        "consent": ("consent", "optin", "marketingconsent", "gdprconsent"),
        "budget_signal": ("budget", "budgetsignal"),
        "urgency": ("urgency", "priority"),
    },
    "clients": {
        "name": ("name", "client", "clientname", "company", "companyname", "organisation", "organization"),
        "domain": ("domain", "website", "web", "url", "site", "webdomain", "homepage"),
        "status": ("status", "clientstatus"),
        "report_cadence": ("cadence", "reportcadence", "reporting", "reports"),
        "notes": ("notes", "note", "comment", "comments"),
    },
}
CONSENT_WORDS = {
    "yes": "granted",
    "y": "granted",
    "true": "granted",
    "opt_in": "granted",
    "optin": "granted",
    "granted": "granted",
    "given": "granted",
    "withdrawn": "withdrawn",
    "opt_out": "withdrawn",
    "optout": "withdrawn",
    "unsubscribed": "withdrawn",
    "unknown": "unknown",
}
CHOICES = {
    "source": (SOURCES, {}),
    "service": (SERVICES, SERVICE_LABELS),
    "service_fit": (SERVICE_FIT, {}),
    "urgency": (URGENCY, {}),
    "status": (CLIENT_STATUS, {}),
    "report_cadence": (CADENCES, {}),
}
DATE_FIELDS = ("next_action_due", "decision_deadline")


def _word(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


def guess_mapping(kind: str, headers: list[str]) -> dict[str, str]:
    """{header: field} for the headers whose name says which field they hold (each field once)."""
    names = {}
    for name, label in FIELDS[kind].items():
        for word in (_word(name), _word(label), *SYNONYMS[kind].get(name, ())):
            names.setdefault(word, name)
    mapping, taken = {}, set()
    for header in headers:
        target = names.get(_word(header))
        if target and target not in taken:
            mapping[header] = target
            taken.add(target)
    return mapping


def _choice(value: str, name: str) -> str:
    """A spreadsheet's "Paid media" or "Referral" as the code the field keeps (unknown text as is,
    so the field's own check names it)."""
    if name == "consent":
        return CONSENT_WORDS.get(re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_"), value)
    allowed, labels = CHOICES[name]
    code = re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")
    if code in allowed:
        return code
    by_label = {_word(label): key for key, label in labels.items()}
    return by_label.get(_word(value), value)


def _date(value, name: str) -> date:
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for pattern, order in (
        (r"(\d{4})-(\d{1,2})-(\d{1,2})", (0, 1, 2)),
        (r"(\d{1,2})\.(\d{1,2})\.(\d{4})", (2, 1, 0)),
    ):
        m = re.fullmatch(pattern, text)
        if m:
            parts = [int(m.group(i + 1)) for i in order]
            try:
                return date(*parts)
            except ValueError:
                break
    label = LEAD_FIELDS[name]
    raise Invalid(f"{label}: write the date as 2026-12-31 (or 31.12.2026).", name)


LABELS = {**LEAD_FIELDS, **CLIENT_FIELDS}


def _text(value, name: str, column) -> str:
    text = value.isoformat() if isinstance(value, date) else str(value)
    if CONTROL.search(text):
        raise Invalid(f"{LABELS.get(name, name)} holds control characters.", name)
    length = getattr(column.type, "length", None) if column is not None else None
    if length and len(text) > length:
        raise Invalid(f"{LABELS.get(name, name)} is longer than {length} characters.", name)
    return text


def cells_of(row: list, columns: list[tuple[int, str]]) -> dict:
    """{field: cell} of the mapped columns that hold something."""
    return {name: row[i] for i, name in columns if i < len(row) and row[i] != ""}


def lead_fields(cells: dict, options: dict) -> dict:
    """The row as a new lead's fields, checked as `create_lead` checks them, or Invalid."""
    table = Lead.__table__.c
    fields: dict = {}
    for name, value in cells.items():
        if name in DATE_FIELDS:
            fields[name] = _date(value, name)
        elif name == "value":
            fields["value_cents"] = money.parse_amount(_text(value, name, None))
        elif name in CHOICES or name == "consent":
            fields[name] = _choice(_text(value, name, None), name)
        else:
            fields[name] = _text(value, name, table.get(name))
    for name in ("source", "service", "source_context"):
        if options.get(name):
            fields.setdefault(name, options[name])
    fields.setdefault("consent", options.get("consent") or "unknown")
    if not (fields.get("company") or "").strip():
        raise Invalid("Company is required.", "company")
    fields.setdefault("title", fields["company"][:200])
    if "currency" in fields and fields.get("value_cents") is None:
        fields.pop("currency")  # a currency without an amount says nothing
    return pipeline.new_lead_fields(fields)


def client_fields(cells: dict) -> dict:
    """The row as a client's fields (what `projects.create_client` takes, plus the web domain)."""
    table = Client.__table__.c
    fields: dict = {}
    for name, value in cells.items():
        text = _text(value, name, table.get(name))
        if name in ("status", "report_cadence"):
            code = _choice(text, name)
            if code not in CHOICES[name][0]:
                raise Invalid(
                    f"Choose a {CLIENT_FIELDS[name].lower()} from the list ({', '.join(CHOICES[name][0])}).",
                    name,
                )
            fields[name] = code
        elif name == "domain":
            fields[name] = domain_of(text)
            if fields[name] is None:
                raise Invalid("Web domain: write a domain such as acme.de.", name)
        else:
            fields[name] = text
    if not (fields.get("name") or "").strip():
        raise Invalid("Name is required.", "name")
    return fields


# ---------------------------------------------------------------- duplicates


@dataclass
class Found:
    """A record a row duplicates: its id, what to call it, whose it is and why it matches."""

    id: int
    label: str
    owner_id: int | None
    reasons: list[str] = field(default_factory=list)
    pending: dict | None = None  # a row of this run not inserted yet (its fields)
    pending_keys: dict | None = None  # and its match keys (updated with its fields)

    @property
    def why(self) -> str:
        return ", ".join(REASON_LABELS[r] for r in self.reasons)


LEAD_KEYS = (
    ("email", Lead.email_key, email_key, "contact_email"),
    ("domain", Lead.email_domain, email_domain, "contact_email"),
    ("company", Lead.company_key, company_key, "company"),
)
CLIENT_KEYS = (("domain", Client.domain, domain_of, "domain"), ("name", Client.name_key, company_key, "name"))


KEY_SEPARATOR = chr(31)  # the "unit separator": refused in every cell (import_files.CONTROL)


def keys_of(kind: str, fields: dict) -> dict[str, str | None]:
    spec = LEAD_KEYS if kind == "leads" else CLIENT_KEYS
    return {reason: fn(fields.get(source)) for reason, _col, fn, source in spec}


class Matcher:
    """Finds each row's duplicate among the existing records (looked up per batch) and among the
    rows this run is about to create (so a file naming a company twice creates it once)."""

    def __init__(self, kind: str):
        self.kind = kind
        self.spec = LEAD_KEYS if kind == "leads" else CLIENT_KEYS
        self.model = Lead if kind == "leads" else Client
        self.existing: dict[str, dict[str, Found]] = {}
        self.pending: dict[str, dict[str, Found]] = {reason: {} for reason, *_ in self.spec}

    def look_up(self, session: Session, keys: list[dict]) -> None:
        """One query per kind of key for a whole batch; the newest record wins a key."""
        label = Lead.company if self.kind == "leads" else Client.name
        self.existing = {}
        for reason, column, _fn, _source in self.spec:
            wanted = {k[reason] for k in keys if k[reason]}
            found = self.existing[reason] = {}
            if not wanted:
                continue
            if session.get_bind().dialect.name == "postgresql":
                # One text parameter the server splits, not one parameter per key (nor a Python list
                # dumped as an array: slower). A key never holds chr(31): cells with control
                # characters are refused.
                among = column == sa.any_(
                    sa.func.string_to_array(
                        sa.bindparam(f"wanted_{reason}", KEY_SEPARATOR.join(wanted), type_=sa.Text),
                        sa.func.chr(31),
                    )
                )
            else:
                among = column.in_(wanted)
            query = (
                sa.select(self.model.id, column, label, self.model.owner_id)
                .where(among, self.model.merged_into_id.is_(None))
                .order_by(self.model.id)
            )
            for row in session.execute(query):
                found[row[1]] = Found(row.id, row[2], row.owner_id)

    def match(self, keys: dict) -> Found | None:
        """The best match: the strongest reason first (email, then domain, then name)."""
        best = None
        for reason, *_ in self.spec:
            value = keys[reason]
            if not value:
                continue
            hit = self.pending[reason].get(value) or self.existing.get(reason, {}).get(value)
            if hit is None:
                continue
            if best is None:
                best = Found(hit.id, hit.label, hit.owner_id, [reason], hit.pending, hit.pending_keys)
            elif hit.id == best.id and hit.pending is best.pending:
                best.reasons.append(reason)
        return best

    def add_pending(self, keys: dict, fields: dict, label: str, record_id: int | None = None) -> None:
        """A row this run creates: later rows with its keys match it (`pending` until it is inserted,
        or the id of the record already made)."""
        found = Found(
            record_id or 0,
            label,
            fields.get("owner_id"),
            pending=None if record_id else fields,
            pending_keys=None if record_id else keys,
        )
        for reason, value in keys.items():
            if value:
                self.pending[reason].setdefault(value, found)

    def clear_pending(self) -> None:
        self.pending = {reason: {} for reason in self.pending}


def fill_empty(current: dict, new: dict, editable) -> dict:
    """The fields of `new` that `current` has no value for ("update" fills gaps, never overwrites)."""
    out = {}
    for name, value in new.items():
        if name not in editable or value in (None, ""):
            continue
        have = current.get(name)
        if have in (None, "") or (name == "consent" and have == "unknown" and value != "unknown"):
            out[name] = value
    return out
