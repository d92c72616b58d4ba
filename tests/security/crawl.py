"""Every GET route of the app's URL map, filled with ids of the scenario's rows, with the role that
may open it.

Routes come from `app.url_map`, so a new route is crawled by the header, XSS and fuzz tests without
touching them; a URL argument the crawler cannot fill fails loudly (teach `fill` about it).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_admin.contrib.sqla import ModelView

from tests.links import fresh_token
from zarts.domain.reads.outputs import OUTPUTS
from zarts.extensions import db
from zarts.models import (
    Approval,
    Attachment,
    ImportJob,
    Audit,
    EvidenceItem,
    Client,
    Lead,
    Outbox,
    Project,
    Proposal,
    Report,
    SavedView,
    Task,
    User,
)
from zarts.models.vocab import STAGES

# URL argument -> the table whose ids fill it.
ID_ARGUMENTS = {
    "lead_id": Lead,
    "proposal_id": Proposal,
    "approval_id": Approval,
    "task_id": Task,
    "project_id": Project,
    "report_id": Report,
    "audit_id": Audit,
    "outbox_id": Outbox,
    "view_id": SavedView,
    "import_id": ImportJob,
    "item_id": EvidenceItem,
    "attachment_id": Attachment,
}
# Other URL arguments, by endpoint (None: any endpoint).
FORMATS = {
    "outputs.output_export": ("csv", "json"),
    "outputs.packet_download": ("json", "txt", "html", "pdf"),
}
IDS_PER_ARGUMENT = 6


@dataclass(frozen=True)
class Page:
    url: str
    endpoint: str
    role: str  # "anonymous", "admin" (every staff page) or "client"


def admin_views(app) -> list[ModelView]:
    return [v for admin in app.extensions.get("admin", []) for v in admin._views if isinstance(v, ModelView)]


def role_for(endpoint: str, app) -> str:
    blueprint = endpoint.split(".", 1)[0]
    if blueprint == "portal":
        return "client"
    if blueprint == "auth":
        return "signed-in" if endpoint == "auth.change_password" else "anonymous"
    return "admin"  # admin, workspace, outputs, jobs: the admin role may open every staff page


def ids_of(model, limit: int = IDS_PER_ARGUMENT, where=None) -> list[int]:
    query = sa.select(model.id).order_by(model.id.desc()).limit(limit)
    if where is not None:
        query = query.where(where)
    return list(db.session.scalars(query))


def interesting_leads(limit: int = IDS_PER_ARGUMENT) -> list[int]:
    """One lead per stage (won, lost, contract, …): each shows different sections."""
    rows = db.session.execute(sa.select(Lead.stage, sa.func.max(Lead.id)).group_by(Lead.stage)).all()
    return sorted(i for _, i in rows)[: max(limit, len(rows))]


def fill(rule, app, ids: dict[str, list[int]]) -> list[str]:
    """Every URL of `rule` for the scenario: one per id (per format, per output, …)."""
    args = sorted(rule.arguments)
    urls = [rule.rule]
    for arg in args:
        values = _values(arg, rule.endpoint, ids)
        assert values is not None, f"{rule.rule}: teach tests/security/crawl.py how to fill <{arg}>"
        urls = [u.replace(_placeholder(rule, arg), str(v)) for u in urls for v in values]
    return urls


def _placeholder(rule, arg: str) -> str:
    for converter, name in _converters(rule):
        if name == arg:
            return f"<{converter}:{arg}>" if converter else f"<{arg}>"
    raise AssertionError(arg)


def _converters(rule):
    import re

    for m in re.finditer(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule.rule):
        yield m.group(1), m.group(2)


def _values(arg: str, endpoint: str, ids: dict[str, list[int]]):
    if arg in ID_ARGUMENTS:
        return ids[arg]
    if arg == "slug":
        return sorted(OUTPUTS)
    if arg == "stage":
        return list(STAGES)
    if arg == "fmt":
        return FORMATS.get(endpoint)
    if arg == "export_type":
        return ["csv"]
    if arg == "token":
        return [ids["token:" + endpoint]]
    if arg == "client_id":  # the REST API's clients
        return ids_of(Client, 2)
    if arg == "source_key":  # lead capture: an unknown key (a real one is shown once, never stored)
        return ["zcap_unknown-key"]
    return None


def scenario_ids(client_id: int | None = None) -> dict:
    """Ids for every URL argument; with `client_id`, only that client's (the portal's view)."""
    if client_id is None:
        ids = {arg: ids_of(model) for arg, model in ID_ARGUMENTS.items()}
        ids["lead_id"] = interesting_leads()
        ids["report_id"] = sorted(
            set(ids["report_id"]) | set(ids_of(Report, 2, Report.kind == "pipeline_weekly"))
        )
    else:
        leads = sa.select(Lead.id).where(Lead.client_id == client_id).scalar_subquery()
        ids = {
            "proposal_id": ids_of(Proposal, where=Proposal.lead_id.in_(leads)),
            "project_id": ids_of(Project, where=Project.client_id == client_id),
            "report_id": ids_of(Report, where=Report.client_id == client_id),
            "task_id": ids_of(Task, where=sa.or_(Task.client_id == client_id, Task.lead_id.in_(leads))),
            "attachment_id": ids_of(Attachment),  # every file: the portal must refuse all but its own
        }
    user = db.session.scalar(sa.select(User).where(User.role == "client").order_by(User.id))
    ids["token:auth.accept_invite"] = fresh_token(user, "invite")
    ids["token:auth.reset_password"] = fresh_token(user, "reset")
    return ids


def admin_pages(app) -> list[Page]:
    """Every generated admin page: list, details and edit of a few rows, create, export, look-ups."""
    pages = [Page("/admin/", "admin.index", "admin")]
    for view in admin_views(app):
        base = f"/admin/{view.endpoint}/"
        row_ids = ids_of(view.model, 3)
        pages.append(Page(base, f"{view.endpoint}.index_view", "admin"))
        pages.append(Page(base + "new/", f"{view.endpoint}.create_view", "admin"))
        pages.append(Page(base + "export/csv/", f"{view.endpoint}.export", "admin"))
        for i in row_ids:
            pages.append(Page(f"{base}details/?id={i}", f"{view.endpoint}.details_view", "admin"))
            pages.append(Page(f"{base}edit/?id={i}", f"{view.endpoint}.edit_view", "admin"))
        for name in getattr(view, "_form_ajax_refs", None) or {}:
            pages.append(
                Page(f"{base}ajax/lookup/?name={name}&query=a", f"{view.endpoint}.ajax_lookup", "admin")
            )
    return pages


def get_pages(app, *, client_id: int | None = None) -> list[Page]:
    """Every GET page of the URL map (admin pages from the admin's own views), with a role."""
    staff_ids = scenario_ids()
    client_ids = scenario_ids(client_id) if client_id is not None else None
    admin_endpoints = {v.endpoint for v in admin_views(app)} | {"admin"}
    pages = admin_pages(app)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint.split(".")[-1] == "static":
            continue
        if rule.endpoint.split(".", 1)[0] in admin_endpoints:
            continue  # covered by admin_pages, with ?id= of real rows
        role = role_for(rule.endpoint, app)
        ids = client_ids if role == "client" and client_ids is not None else staff_ids
        for url in fill(rule, app, ids):
            pages.append(Page(url, rule.endpoint, role))
    return pages
