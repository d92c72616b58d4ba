"""Rows of every table for admin tests, each with its own related rows (so an N+1 shows up as queries).

`build(table)` makes one row that no other row refers to (safe to delete), with every relationship
the admin list shows filled by a distinct parent. `add_rows(table, n)` adds n of them in bulk.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

from zarts.extensions import db
from zarts.models import (
    Approval,
    Audit,
    Client,
    Connector,
    Contract,
    CurrencyRate,
    Event,
    Lead,
    Message,
    Outbox,
    Project,
    Proposal,
    ProposalItem,
    Report,
    ReportNote,
    Task,
    User,
    today,
)

_n = itertools.count(1)

TABLES = (
    "leads",
    "clients",
    "projects",
    "tasks",
    "audits",
    "reports",
    "report_notes",
    "messages",
    "proposals",
    "proposal_items",
    "approvals",
    "contracts",
    "connectors",
    "events",
    "users",
    "outbox",
    "currency_rates",
)


def _user(i, role="growth_ops"):
    return User(email=f"bulk{i}-{next(_n)}@zarts.test", name=f"Bulk user {i}", role=role)


def _client(i):
    return Client(name=f"Bulk client {i}", owner=_user(i))


def _lead(i, **kw):
    return Lead(title=f"Bulk lead {i}", company=f"Bulk company {i}", source="referral", service="seo", **kw)


def _project(i):
    return Project(
        name=f"Bulk project {i}", client=Client(name=f"Project client {i}"), lead=_lead(i), service="seo"
    )


def _proposal(i, **kw):
    return Proposal(lead=_lead(i), service="seo", title=f"Bulk proposal {i}", **kw)


def _report(i):
    return Report(
        kind="client_report",
        title=f"Bulk report {i}",
        client=Client(name=f"Report client {i}"),
        project=_project(i),
        owner=_user(i),
    )


_BUILDERS = {
    "leads": lambda i: _lead(i, owner=_user(i), client=Client(name=f"Lead client {i}")),
    "clients": _client,
    "projects": lambda i: Project(
        name=f"Bulk project {i}",
        client=Client(name=f"Project client {i}"),
        lead=_lead(i),
        service="seo",
        onboarding_owner=_user(i, "delivery"),
    ),
    "tasks": lambda i: Task(
        kind="follow_up",
        title=f"Bulk task {i}",
        owner=_user(i),
        due=today(),
        lead=_lead(i),
        client=Client(name=f"Task client {i}"),
        project=_project(i),
    ),
    "audits": lambda i: Audit(lead=_lead(i), findings=f"Finding {i}"),
    "reports": _report,
    "report_notes": lambda i: ReportNote(
        report=_report(i), audit=Audit(lead=_lead(i)), body=f"Note {i}", author=_user(i)
    ),
    "messages": lambda i: Message(
        lead=_lead(i),
        client=Client(name=f"Message client {i}"),
        author=_user(i),
        direction="internal",
        channel="phone",
        subject=f"Call {i}",
        body="Notes",
    ),
    "proposals": lambda i: Proposal(
        lead=_lead(i), client=Client(name=f"Proposal client {i}"), service="seo", title=f"Bulk proposal {i}"
    ),
    "proposal_items": lambda i: ProposalItem(proposal=_proposal(i), kind="included", title=f"Item {i}"),
    "approvals": lambda i: Approval(
        kind="pricing",
        lead=_lead(i),
        proposal=_proposal(i),
        content="EUR 5,000",
        requested_by=_user(i),
        decided_by=_user(i, "approver"),
        state="approved",
    ),
    "contracts": lambda i: Contract(lead=_lead(i), onboarding_owner=_user(i, "delivery")),
    "connectors": lambda i: Connector(project=_project(i), name=f"CRM {i}", owner=_user(i, "delivery")),
    "events": lambda i: Event(lead=_lead(i), kind="created", stage="new", actor=_user(i), owner=_user(i)),
    "users": lambda i: User(
        email=f"person{i}-{next(_n)}@zarts.test",
        name=f"Person {i}",
        role="client",
        client=Client(name=f"User client {i}"),
    ),
    "currency_rates": lambda i: CurrencyRate(
        currency="".join(chr(65 + (i // 26**k) % 26) for k in (2, 1, 0)),
        rate=Decimal("1.1"),
        updated_by=_user(i, "admin"),
    ),
    "outbox": lambda i: Outbox(job="handoff", key=f"handoff:{i}:{next(_n)}", payload={"lead_id": i}),
}


def build(table: str, i: int | None = None, **fields):
    row = _BUILDERS[table](next(_n) if i is None else i)
    for name, value in fields.items():
        setattr(row, name, value)
    return row


def add_rows(table: str, n: int) -> list:
    rows = [build(table) for _ in range(n)]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def add_row(table: str, **fields):
    row = build(table, **fields)
    db.session.add(row)
    db.session.flush()
    return row
