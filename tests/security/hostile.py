"""Hostile text, written into every text column, and the check that no page lets it act.

`poison(session)` overwrites every String/Text column of every table (enum columns excepted: the
database refuses values outside their vocabulary) and the string leaves of JSON columns, by SQL
UPDATE, with a payload holding the whole corpus. Events are append-only (triggers refuse UPDATE),
so `hostile_events` inserts new ones whose payload carries it. Two variants alternate by row id: one
starts with `javascript:` (for link contexts), the other with a spreadsheet formula (for exports).

`problems(response)` parses a response like a browser would and reports what would act: a script
element, an event-handler attribute, an htmx attribute or javascript: URL the app did not write,
or template syntax that was evaluated.
"""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser

import sqlalchemy as sa

from zarts.models import Base, Event, Lead
from zarts.models.vocab import EVENT_KINDS
from zarts.web import _sha256

CORPUS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    '<a hx-get="/evil" hx-trigger="load">',
    "ZQ{{7*7}}QZ",  # evaluated as a template it would read ZQ49QZ
    "ZQ{% print 7*6 %}QZ",  # … and ZQ42QZ
    "' onmouseover='x",
)
REST = " ".join(CORPUS)
URL_PAYLOAD = "javascript:alert(1)//" + REST
FORMULA_PAYLOAD = "=cmd|' /C calc'!A0 " + REST
EVALUATED = ("ZQ49QZ", "ZQ42QZ")
# What an escaped payload looks like on a page: proof the crawl rendered the hostile rows.
ESCAPED_MARKERS = ("&lt;script&gt;alert(1)&lt;/script&gt;", "ZQ{{7*7}}QZ")

SECRET_COLUMNS = {("users", "password_hash"), ("users", "session_token")}
# JSON keys the code branches on (an item's kind): kept, so the pages still have their structure.
STRUCTURAL_KEYS = {"kind"}


def payload_for(row_id: int) -> str:
    return URL_PAYLOAD if row_id % 2 else FORMULA_PAYLOAD


def text_columns(table: sa.Table) -> list[sa.Column]:
    return [
        c
        for c in table.columns
        if isinstance(c.type, (sa.String, sa.Text))
        and not isinstance(c.type, sa.Enum)
        and (table.name, c.name) not in SECRET_COLUMNS
        and (table.name, c.name) not in CODE_COLUMNS
    ]


# Columns the database itself holds to a code's shape (a CHECK), so no free text can be stored there.
CODE_COLUMNS = {("currency_rates", "currency")}


def json_columns(table: sa.Table) -> list[sa.Column]:
    return [c for c in table.columns if isinstance(c.type, sa.JSON)]


def unique_columns(table: sa.Table) -> set[str]:
    names = {c.name for c in table.columns if c.unique}
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint):
            names |= {c.name for c in constraint.columns}
    for index in table.indexes:
        if index.unique:
            names |= {c.name for c in index.columns}
    return names


def _poison_json(value, payload):
    if isinstance(value, str):
        return payload
    if isinstance(value, list):
        return [_poison_json(v, payload) for v in value]
    if isinstance(value, dict):
        return {k: (v if k in STRUCTURAL_KEYS else _poison_json(v, payload)) for k, v in value.items()}
    return value


# Tables no page renders: the append-only events (poisoned through their payloads instead), and the
# search lexicon (words kept by triggers and listeners for typo correction, never shown).
UNSHOWN = ("events", "search_words")


def poison(session) -> dict[str, list[str]]:
    """Overwrite every text column (and JSON string) of every row but the events'. Returns what
    was overwritten, by table."""
    done: dict[str, list[str]] = {}
    for table in Base.metadata.tables.values():
        if table.name in UNSHOWN:
            continue
        texts, jsons, unique = text_columns(table), json_columns(table), unique_columns(table)
        if not texts and not jsons:
            continue
        rows = session.execute(sa.select(table.c.id, *jsons)).all()
        for row in rows:
            payload = payload_for(row.id)
            values = {c.name: (f"{payload} #{row.id}" if c.name in unique else payload) for c in texts}
            for c in jsons:
                values[c.name] = _poison_json(getattr(row, c.name), payload)
            session.execute(table.update().where(table.c.id == row.id).values(**values))
        done[table.name] = [c.name for c in texts + jsons]
    return done


EVENT_PAYLOAD_KEYS = (
    "from_stage",
    "to_stage",
    "reason",
    "reactivation_date",
    "never",
    "approval_kind",
    "kind",
    "state",
    "comment",
    "number",
    "payment_state",
    "done",
    "note",
    "title",
)


def hostile_events(session, lead_ids: list[int]) -> int:
    """Append one event of every kind to each lead, every payload value and its next action hostile."""
    n = 0
    for lead_id in lead_ids:
        lead = session.get(Lead, lead_id)
        for kind in EVENT_KINDS:
            payload = payload_for(lead_id + n)
            session.add(
                Event(
                    lead_id=lead.id,
                    kind=kind,
                    stage=lead.stage,
                    owner_id=lead.owner_id,
                    next_action=payload,
                    payload={k: payload for k in EVENT_PAYLOAD_KEYS},
                )
            )
            n += 1
    return n


# --- the check ---------------------------------------------------------------------------------------

URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "hx-get",
    "hx-post",
    "hx-put",
    "hx-patch",
    "hx-delete",
    "data-url",
    "poster",
    "background",
}
ADMIN_INERT_URL = "javascript:void(0)"  # Flask-Admin's own dropdown toggles


class _Markup(HTMLParser):
    def __init__(self, csp: str):
        super().__init__(convert_charrefs=True)
        self.csp, self.problems = csp, []
        self.nonce = (re.search(r"'nonce-([\w-]+)'", csp) or [None, None])[1]

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and "src" not in a and (not self.nonce or a.get("nonce") != self.nonce):
            self.problems.append("a <script> element the app did not write")
        if tag == "img" and a.get("src") == "x":
            self.problems.append("the payload's <img> became an element")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") and _sha256(value) not in self.csp:
                self.problems.append(f"event handler {name}={value[:40]!r} on <{tag}>")
            if name.startswith("hx-") and (
                "/evil" in value or (name == "hx-trigger" and value == "load" and a.get("hx-get") == "/evil")
            ):
                self.problems.append(f"htmx attribute {name}={value[:40]!r} on <{tag}>")
            if name in URL_ATTRIBUTES:
                squashed = re.sub(r"[\s\x00-\x1f]", "", value).lower()
                if squashed.startswith("javascript:") and value != ADMIN_INERT_URL:
                    self.problems.append(f"javascript: URL in {name} on <{tag}>")


def problems(resp) -> list[str]:
    """What in this response would act in a browser (or a spreadsheet)."""
    if not (resp.mimetype.startswith("text/") or "json" in resp.mimetype):
        # A PDF, a file download (attachment, nosniff) or the favicon: nothing stored in them runs
        # in a page; the canary tests read the PDFs' text for leaks.
        return []
    body = resp.get_data(as_text=True)
    found = [f"template syntax evaluated ({m})" for m in EVALUATED if m in body]
    if resp.mimetype == "text/html":
        parser = _Markup(resp.headers.get("Content-Security-Policy", ""))
        parser.feed(body)
        found += parser.problems
        if "<script>alert(1)</script>" in body:
            found.append("raw <script>alert(1)</script> in the page")
    elif resp.mimetype == "text/csv":
        for row in csv.reader(io.StringIO(body)):
            found += [
                f"formula cell {cell[:30]!r}" for cell in row if cell[:1] in ("=", "+", "-", "@", "\t", "\r")
            ]
    elif resp.mimetype == "application/json":
        json.loads(body)  # well-formed: the payload did not break out of its string
    if "<script>alert(1)</script>" in body and resp.headers.get("X-Content-Type-Options") != "nosniff":
        found.append("raw payload in a response a browser may sniff as HTML")
    return sorted(set(found))


def shows_escaped_payload(resp) -> bool:
    if not (resp.mimetype.startswith("text/") or "json" in resp.mimetype):
        return False
    body = resp.get_data(as_text=True)
    return any(m in body for m in ESCAPED_MARKERS)
