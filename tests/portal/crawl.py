"""Walk every portal route of the URL map with the ids of one client's objects.

Routes are enumerated from `app.url_map`, so a new portal route is crawled (and isolation-tested)
without touching the tests; a route with a URL argument the crawler does not know fails loudly.
"""

from __future__ import annotations

import sqlalchemy as sa

from zarts.extensions import db
from zarts.models import Attachment, Audit, Contract, Lead, Project, Proposal, Report, Task

# URL argument -> the objects of a client it can name.
ARGUMENTS = ("proposal_id", "project_id", "report_id", "task_id", "attachment_id")


def portal_rules(app):
    """(rule, methods) for every portal blueprint route (the shared /portal/login is auth's)."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("portal."):
            yield rule, sorted(rule.methods - {"HEAD", "OPTIONS"})


def object_ids(client_id: int) -> dict[str, list[int]]:
    """Every id of every kind that belongs to a client, visible to it or not (drafts, staff tasks…)."""
    s = db.session
    lead_ids = sa.select(Lead.id).where(Lead.client_id == client_id).scalar_subquery()
    return {
        "proposal_id": s.scalars(
            sa.select(Proposal.id).where(Proposal.lead_id.in_(lead_ids)).order_by(Proposal.id)
        ).all(),
        "project_id": s.scalars(
            sa.select(Project.id).where(Project.client_id == client_id).order_by(Project.id)
        ).all(),
        "report_id": s.scalars(
            sa.select(Report.id).where(Report.client_id == client_id).order_by(Report.id)
        ).all(),
        "task_id": s.scalars(
            sa.select(Task.id)
            .where(sa.or_(Task.client_id == client_id, Task.lead_id.in_(lead_ids)))
            .order_by(Task.id)
        ).all(),
        # Every file of the client's leads, audits, proposals and contracts (approved or not, deleted too).
        "attachment_id": s.scalars(
            sa.select(Attachment.id)
            .where(
                sa.or_(
                    Attachment.lead_id.in_(lead_ids),
                    Attachment.audit_id.in_(sa.select(Audit.id).where(Audit.lead_id.in_(lead_ids))),
                    Attachment.proposal_id.in_(sa.select(Proposal.id).where(Proposal.lead_id.in_(lead_ids))),
                    Attachment.contract_id.in_(sa.select(Contract.id).where(Contract.lead_id.in_(lead_ids))),
                )
            )
            .order_by(Attachment.id)
        ).all(),
    }


def urls_for(rule, ids: dict[str, list[int]]):
    """Every URL of `rule` filled with each id of the matching kind (one URL when it takes no argument)."""
    args = sorted(rule.arguments)
    unknown = set(args) - set(ARGUMENTS)
    assert not unknown, f"{rule.rule}: teach tests/portal/crawl.py which objects {unknown} name"
    if not args:
        yield rule.rule
        return
    assert len(args) == 1, f"{rule.rule}: the crawler fills one argument per route"
    (arg,) = args
    for value in ids[arg]:
        yield rule.rule.replace(f"<int:{arg}>", str(value))
