"""What is loaded, in which order, and the check that the generators still match the models."""

from __future__ import annotations

from zarts.models import Base

from .delivery import gen_connectors, gen_projects, gen_report_notes, gen_reports
from .people import gen_clients, gen_users
from .pipeline import gen_audits, gen_events, gen_leads, gen_tasks
from .sales import gen_approvals, gen_contracts, gen_messages, gen_proposal_items, gen_proposals


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
    missing = [
        c.name
        for c in table.c
        if not c.nullable and not c.primary_key and c.name not in cols and c.server_default is None
    ]
    if unknown or missing:
        raise SystemExit(
            f"bench/seed.py is out of date with zarts.models for table {name!r}: "
            f"unknown columns {unknown}, required columns not generated {missing}"
        )
