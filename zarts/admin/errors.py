"""Database refusals turned into sentences an admin user can act on (never a stack trace or SQL)."""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

STALE = (
    "Not saved: someone else changed this record after you opened it. "
    "Open it again to see the current values, then make your change again."
)
MISSING_VERSION = "Not saved: the form did not say which version of the record it edits. Open it again."

# Rules the tables enforce, in the words of the guide. Keys are constraint names (naming convention).
RULES = {
    "ck_leads_probability_range": "The probability must be between 0 and 100.",
    "ck_leads_lost_needs_reason_and_window": (
        "A lost lead needs a lost reason and a reactivation date (or “never”)."
    ),
    "ck_leads_won_has_date": "A won lead needs the date it was won.",
    "ck_users_client_contact_bound": (
        "A client contact belongs to exactly one client; staff belong to none."
    ),
    "ck_audits_completed_has_evidence": (
        "A completed audit needs findings, baseline figures and a completion date."
    ),
    "ck_report_notes_has_subject": "A note belongs to a report or to an audit: choose one.",
    "ck_proposals_price_not_negative": "The price cannot be negative.",
    "ck_proposals_sent_is_frozen": "A sent proposal keeps its frozen snapshot.",
    "ck_approvals_one_subject": "An approval is about exactly one subject.",
    "ck_approvals_decided_has_decider": "A decided approval needs the approver who decided it.",
    "ck_approvals_rejection_has_comment": "A rejection needs a comment.",
}

_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: ([\w., ]+)")
_PG_KEY = re.compile(r"Key \(([^)]*)\)=")
_SQLITE_NOT_NULL = re.compile(r"NOT NULL constraint failed: \w+\.(\w+)")
_SQLITE_CHECK = re.compile(r"CHECK constraint failed: (\w+)")


def _label(name: str) -> str:
    return name.removesuffix("_id").replace("_", " ")


def describe_integrity_error(exc: IntegrityError) -> str:
    """One sentence saying which rule the save broke, for PostgreSQL and SQLite alike."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    text = str(orig)
    sqlstate = getattr(orig, "sqlstate", None)
    constraint = getattr(diag, "constraint_name", None)

    check, not_null = _SQLITE_CHECK.search(text), _SQLITE_NOT_NULL.search(text)

    if sqlstate == "23514" or check:
        name = constraint or (check.group(1) if check else "")
        return RULES.get(name, f"The values break the rule “{name}”." if name else "The values break a rule.")
    if sqlstate == "23505" or _SQLITE_UNIQUE.search(text):
        found = _PG_KEY.search(getattr(diag, "message_detail", None) or "") or _SQLITE_UNIQUE.search(text)
        columns = [c.strip().split(".")[-1] for c in found.group(1).split(",")] if found else ["value"]
        return f"Another record already has this {' and '.join(_label(c) for c in columns)}."
    if sqlstate == "23502" or not_null:
        column = getattr(diag, "column_name", None) or (not_null.group(1) if not_null else "a value")
        return f"{_label(column).capitalize()} is required."
    if sqlstate == "23503" or "FOREIGN KEY" in text:
        return "It refers to a record that does not exist, or other records still refer to this one."
    return "The values break a rule of the data."
