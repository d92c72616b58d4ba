"""The generated admin (Flask-Admin) for every table: secured, role-aware, configuration only.

Each table's view is a class of class attributes on `base.SecureModelView`; who sees which table
comes from `zarts.auth.access.ADMIN_TABLES`, what each role may do there from `permissions`.
"""

from __future__ import annotations

from flask_admin import Admin
from flask_admin.menu import MenuLink
from flask_admin.theme import Bootstrap4Theme

from ..extensions import db
from ..models import (
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
)
from .base import AdminHome, SecureModelView
from .delivery import ConnectorView, OutboxView, ProjectView
from .evidence import AuditView, ReportNoteView, ReportView
from .leads import LeadView
from .money import CurrencyRateView
from .people import ClientView, UserView
from .pipeline import EventView, TaskView
from .sales import ApprovalView, ContractView, MessageView, ProposalItemView, ProposalView

# (view, model, menu category, menu name). The endpoint and URL are the table name: /admin/leads/.
VIEWS: list[tuple[type[SecureModelView], type, str, str]] = [
    (LeadView, Lead, "Pipeline", "Leads"),
    (TaskView, Task, "Pipeline", "Tasks"),
    (EventView, Event, "Pipeline", "Events"),
    (AuditView, Audit, "Evidence", "Audits"),
    (ReportView, Report, "Evidence", "Reports"),
    (ReportNoteView, ReportNote, "Evidence", "Report notes"),
    (ProposalView, Proposal, "Sales", "Proposals"),
    (ProposalItemView, ProposalItem, "Sales", "Proposal items"),
    (ApprovalView, Approval, "Sales", "Approvals"),
    (ContractView, Contract, "Sales", "Contracts"),
    (MessageView, Message, "Sales", "Messages"),
    (ClientView, Client, "Delivery", "Clients"),
    (ProjectView, Project, "Delivery", "Projects"),
    (ConnectorView, Connector, "Delivery", "Connectors"),
    (UserView, User, "System", "Users"),
    (OutboxView, Outbox, "System", "Outbox"),
    (CurrencyRateView, CurrencyRate, "System", "Exchange rates"),
]


def init_admin(app) -> Admin:
    from ..web import csp_nonce
    from . import template_source
    from .display import admin_row_url
    from .menu import admin_menu
    from .rows import list_row
    from .static_urls import admin_static_url

    admin = Admin(
        app,
        name="ZartsAlgo admin",
        theme=Bootstrap4Theme(
            swatch=app.config.get("FLASK_ADMIN_SWATCH", "default"),
            fluid=True,
            base_template="admin/zarts_base.html",
        ),
        index_view=AdminHome(name="Home", url="/admin"),
        csp_nonce_generator=csp_nonce,  # Flask-Admin's own <script> tags carry the page's nonce
    )
    for view, model, category, name in VIEWS:
        table = model.__tablename__
        admin.add_view(view(model, db, name=name, category=category, endpoint=table, url=table))
    from .integrations import CaptureSourcesView, WebhooksView  # custom pages, admins only

    admin.add_view(
        WebhooksView(name="Webhooks", category="Integrations", endpoint="webhooks", url="webhooks")
    )
    admin.add_view(
        CaptureSourcesView(
            name="Lead capture", category="Integrations", endpoint="capture_sources", url="capture_sources"
        )
    )
    admin.add_link(MenuLink(name="Workspace", endpoint="workspace.board"))
    template_source.install(app, admin.theme.folder)  # no javascript: links in Flask-Admin's templates
    app.jinja_env.globals["admin_row_url"] = admin_row_url  # the workspace's "Open in admin"
    app.jinja_env.globals["admin_list_row"] = list_row  # used by templates/admin/list.html
    app.jinja_env.globals["admin_menu"] = admin_menu  # used by templates/admin/zarts_base.html
    app.jinja_env.globals["admin_static_url"] = admin_static_url  # used by templates/admin/static.html
    return admin
