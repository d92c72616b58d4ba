"""One way in: every admin endpoint x staff role x domain-owned field, the write went through the
domain or was refused.

For every table and every staff role, the create and the edit form are opened as a browser would
and submitted with what the page offers (a changed text where it offers one) plus a decoy for every
column the domain owns on that table (its state, its authorship, its approvals, its dates). Then:

- no domain-owned column holds its decoy: a form never writes one directly;
- every row of a lead's records that changed (or was made) left an event on that lead's timeline
  in the same request: the change went through a domain function, which records what it did.

A refusal (403, the form shown again with the reason) passes both by changing nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.admin.conftest import form_fields, settle
from tests.admin.rows import build
from zarts.admin import VIEWS
from zarts.extensions import db
from zarts.models import Event, Lead, User, today

ROLES = ("growth_ops", "approver", "delivery", "admin")
LONG_AGO = "2001-02-03 04:05:06"

# Per table, each column the domain owns and a decoy a forger would post for it ({client} and
# {other} are replaced by the ids of a client contact and of another staff member).
DECOYS: dict[str, dict[str, str]] = {
    "leads": {
        "stage": "won",
        "owner": "{other}",
        "won_at": LONG_AGO,
        "lost_reason": "price",
        "paused_at": LONG_AGO,
        "pause_reason": "timing",
        "discovery_logged_at": LONG_AGO,
        "consent_recorded_at": LONG_AGO,
    },
    "messages": {
        "author": "{client}",
        "direction": "inbound",
        "email_status": "sent",
        "sent_at": LONG_AGO,
        "read_at": LONG_AGO,
        "key": "forged-key",
        "link_purpose": "reset",
    },
    "tasks": {
        "client_visible": "y",
        "done_at": LONG_AGO,
        "done_by": "{other}",
        "key": "forged-key",
        "remind_on": "2001-02-03",
    },
    "audits": {
        "status": "completed",
        "client_summary_status": "approved",
        "completed_at": LONG_AGO,
        "completed_by": "{other}",
    },
    "reports": {"status": "published", "published_at": LONG_AGO, "key": "forged-key"},
    "report_notes": {"status": "approved", "author": "{other}"},
    "proposals": {
        "status": "sent",
        "number": "9",
        "sent_at": LONG_AGO,
        "accepted_at": LONG_AGO,
        "snapshot": '{"summary": "forged"}',
        "viewed_at": LONG_AGO,
    },
    "proposal_items": {},
    "approvals": {
        "state": "approved",
        "decided_by": "{other}",
        "decided_at": LONG_AGO,
        "content": "forged approval",
    },
    "contracts": {"signed_at": LONG_AGO},
    "projects": {"client_text_status": "approved", "scope_snapshot": '{"forged": true}'},
    "connectors": {},
    "clients": {},
    "users": {"password_hash": "forged", "session_token": "forged"},
    "events": {"kind": "won", "payload": '{"forged": true}'},
    "outbox": {"status": "done", "job": "forged"},
    "currency_rates": {"updated_by": "{other}"},
}
# Changes a user makes on a form that are workflow steps: they may happen, but only through the domain
# (so with an event on the lead's timeline).
ROUTED: dict[str, dict[str, str]] = {
    "leads": {
        "consent": "withdrawn",
        "next_action": "Routed next action",
        "value_cents": "1200000",
        "currency": "USD",
    },
    "contracts": {"state": "signed", "payment_state": "paid"},
    "tasks": {"owner": "{other}"},
    "projects": {"client_next_steps": "Routed next steps", "status": "active"},
    "audits": {"findings": "Routed findings", "client_summary": "Routed summary"},
    "proposals": {
        "summary": "We GUARANTEE to triple your leads",
        "timeline": "Live in 3 days",
        "price_cents": "4,500.00",
    },
    "proposal_items": {"price_cents": "5,400", "kind": "add_on"},
    "messages": {"client_visible": "y"},
    "report_notes": {"visibility": "client_safe"},
}
DECOY_COLUMN = {
    "owner": "owner_id",
    "author": "author_id",
    "done_by": "done_by_id",
    "completed_by": "completed_by_id",
    "decided_by": "decided_by_id",
}


def _lead_id_of(row) -> int | None:
    """The lead whose timeline a change of `row` belongs on (None: a row of no single lead)."""
    if isinstance(row, Lead):
        return row.id
    for path in (
        ("lead_id",),
        ("proposal", "lead_id"),
        ("project", "lead_id"),
        ("report", "lead_id"),
        ("audit", "lead_id"),
    ):
        value = row
        for name in path:
            value = getattr(value, name, None)
            if value is None:
                break
        if value is not None:
            return value
    return None


def _columns(row) -> dict:
    skip = {"version", "updated_at", "created_at"}
    return {c.key: getattr(row, c.key) for c in sa.inspect(type(row)).column_attrs if c.key not in skip}


def _snapshot(model) -> dict[int, dict]:
    return {row.id: _columns(row) for row in db.session.scalars(sa.select(model))}


def _events() -> dict[int, int]:
    """Events per lead."""
    return dict(db.session.execute(sa.select(Event.lead_id, sa.func.count()).group_by(Event.lead_id)).all())


def _decoys(table: str, client_id: int, other_id: int) -> dict[str, str]:
    return {
        name: value.replace("{client}", str(client_id)).replace("{other}", str(other_id))
        for name, value in DECOYS[table].items()
    }


def _changed_form(fields: dict[str, str], refs: dict[str, int]) -> dict[str, str]:
    """What a user types: every free text gets a new value, an empty field a plausible one (a related
    row's id for a look-up), ids and choices are kept."""
    out = dict(fields)
    for name, value in fields.items():
        if name in ("csrf_token", "version") or value.isdigit():
            continue
        if not value:
            if name in refs:
                out[name] = str(refs[name])
            elif "email" in name:
                out[name] = "matrix@example.test"
            elif name.endswith(("_date", "_due", "deadline", "due")):
                out[name] = (today() + timedelta(days=5)).isoformat()
            elif name not in ("price_cents", "probability", "position") and "_at" not in name:
                out[name] = "Matrix text"
        elif len(value) > 3 and " " in value or name in ("title", "subject", "body", "name", "findings"):
            out[name] = f"{value} (edited in the matrix)"
    return out


def _refs(row, user_id: int) -> dict[str, int]:
    """Values for the form's look-ups: the row's own related rows, the signed-in user for people."""
    refs = {
        name[:-3]: value
        for name, value in _columns(row).items()
        if name.endswith("_id") and value is not None
    }
    for person in ("owner", "author", "onboarding_owner"):
        refs.setdefault(person, user_id)
    return refs


def _world(table: str, role: str, make):
    """The row to edit, owned by someone other than the signed-in user, and the people for decoys."""
    user = make.user(role)
    other = make.user("growth_ops")
    contact = make.user("client")
    row = build(table)
    if isinstance(row, Lead):
        row.owner_id = other.id
        row.next_action, row.next_action_due = "Call back", today() + timedelta(days=3)
    db.session.add(row)
    db.session.flush()
    return user, other, contact, row


def _bad_decoys(table, model, before, after, decoys) -> list[str]:
    problems = []
    for row_id, columns in after.items():
        for name, decoy in decoys.items():
            column = DECOY_COLUMN.get(name, name)
            if column not in columns:
                continue
            value = columns[column]
            old = before.get(row_id, {}).get(column)
            if (
                value != old
                and str(value) in (decoy, decoy.replace(" ", "T"))
                or (
                    value != old
                    and column in ("snapshot", "scope_snapshot", "payload")
                    and value
                    and "forged" in str(value)
                )
            ):
                problems.append(f"{table} {row_id}: {column} took the decoy {decoy!r}")
    return problems


def _silent_changes(table, model, before, after, events_before, events_after) -> list[str]:
    problems = []
    for row_id, columns in after.items():
        if before.get(row_id) == columns:
            continue
        row = db.session.get(model, row_id)
        lead_id = _lead_id_of(row)
        if lead_id is not None and events_after.get(lead_id, 0) <= events_before.get(lead_id, 0):
            changed = sorted(k for k in columns if before.get(row_id, {}).get(k) != columns[k])
            problems.append(f"{table} {row_id}: {', '.join(changed)} changed with no event on lead {lead_id}")
    return problems


CASES = [(view, model, model.__tablename__) for view, model, _, _ in VIEWS]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ("edit", "new"))
@pytest.mark.parametrize(("view", "model", "table"), CASES, ids=[c[2] for c in CASES])
def test_every_admin_write_goes_through_the_domain_or_is_refused(
    client, auth, make, view, model, table, endpoint, role
):
    user, other, contact, row = _world(table, role, make)
    user_id, other_id, contact_id, row_id = user.id, other.id, contact.id, row.id
    settle()
    auth.login_as(db.session.get(User, user_id))
    url = f"/admin/{table}/edit/?id={row_id}" if endpoint == "edit" else f"/admin/{table}/new/"

    page = client.get(url)
    if page.status_code != 200:  # no such right: refused before a form is shown
        assert page.status_code in (302, 403, 404)
        resp = auth.post(url, {"title": "forged"})
        assert resp.status_code in (302, 403, 404)
        assert not resp.headers.get("Location", "").endswith(f"/admin/{table}/")
        settle()
        return
    fields = _changed_form(
        form_fields(page.get_data(as_text=True)), _refs(db.session.get(model, row_id), user_id)
    )
    routed = {name: value.replace("{other}", str(other_id)) for name, value in ROUTED.get(table, {}).items()}
    fields |= {name: value for name, value in routed.items() if name in fields}
    decoys = _decoys(table, contact_id, other_id)
    if endpoint == "new":
        decoys.pop("owner", None)  # a new lead's owner is chosen through create_lead (its event checked)
    before, events_before = _snapshot(model), _events()

    resp = auth.post(url, fields | decoys)

    assert resp.status_code in (200, 302, 403), resp.status_code
    settle()
    after, events_after = _snapshot(model), _events()
    problems = _bad_decoys(table, model, before, after, decoys)
    problems += _silent_changes(table, model, before, after, events_before, events_after)
    assert not problems, "\n".join(problems)
