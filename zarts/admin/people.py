"""Client organisations and users (staff, and client contacts bound to one client)."""

from typing import ClassVar

import sqlalchemy as sa
from flask import request, url_for
from flask_admin.actions import action
from flask_admin.helpers import get_redirect_target
from flask_login import current_user
from markupsafe import Markup, escape

from ..auth.tokens import revoke
from ..domain import portal_access, projects
from ..domain.duplicates import client_duplicates
from ..extensions import db
from ..models import Client, Lead, User, new_session_token
from .actions import DomainActionsMixin, actor
from .base import SecureModelView
from .domain_forms import DomainFormsMixin, row_id
from .duplicate_warning import stop_for_duplicates, with_confirm
from .leads import leads_of_client_url
from .permissions import MERGE, NO_DELETE, VIEW, rights_for
from .refs import CLIENT, STAFF

LEADS_SHOWN = 100  # a client's leads are counted up to this ("100+"): a page's cost stays bounded


def leads_by_client(session, client_ids) -> dict[int, list[int]]:
    """Up to LEADS_SHOWN + 1 ids of each client's leads (merged ones left out, as the leads list
    does), in one statement for a whole page of clients: each client's look-up is bounded on the
    client_id index, not a count of every lead it ever had."""
    found: dict[int, list[int]] = {client_id: [] for client_id in client_ids}
    if not found:
        return found
    pages = []
    for client_id in found:
        page = (
            sa.select(Lead.client_id, Lead.id)
            .where(Lead.client_id == client_id, Lead.merged_into_id.is_(None))
            .limit(LEADS_SHOWN + 1)
            .subquery()
        )
        pages.append(sa.select(page.c.client_id, page.c.id))
    for client_id, lead_id in session.execute(sa.union_all(*pages)):
        found[client_id].append(lead_id)
    return found


class ClientView(DomainActionsMixin, DomainFormsMixin, SecureModelView):
    """Created and edited through zarts.domain.projects: handing a client to another owner is for its
    owner or an admin. Clients stay (a former client is churned, not deleted). Each row links to the
    client's leads; "Merge into…" opens the workspace's merge screen (zarts.domain.merge)."""

    rights_limit = NO_DELETE | {MERGE}
    action_rights: ClassVar[dict[str, str]] = {**SecureModelView.action_rights, "merge": MERGE}
    row_noun = "Client"
    column_list = ("id", "name", "status", "owner", "leads", "report_cadence", "created_at")
    column_export_list = ("id", "name", "status", "owner", "report_cadence", "created_at")
    column_select_related_list = (Client.owner,)
    column_sortable_list = ("id", "name", "status")
    column_searchable_list = ("name",)
    column_filters = ("status", "report_cadence", "owner.email")
    form_columns = ("name", "status", "owner", "report_cadence", "notes")
    form_ajax_refs = {"owner": STAFF}

    column_descriptions: ClassVar[dict[str, str]] = {
        "leads": f"The client's leads (merged ones left out), counted up to {LEADS_SHOWN}."
    }

    # -- each row's leads: read for the whole page at once (one statement), shown as a link ------

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        count, rows = super().get_list(
            page, sort_column, sort_desc, search, filters, execute=execute, page_size=page_size
        )
        if execute:
            self._page_leads().update(leads_by_client(db.session, [row.id for row in rows]))
        return count, rows

    @staticmethod
    def _page_leads() -> dict[int, list[int]]:
        return request.environ.setdefault("zarts.client_leads", {})  # this request's, like its rights

    def _leads_cell(self, context, client, name):
        known = self._page_leads()
        if client.id not in known:  # not read with a list page (the details page): this client's
            known.update(leads_by_client(db.session, [client.id]))
        ids = known[client.id]
        if not ids:
            return "none"
        shown = min(len(ids), LEADS_SHOWN)
        text = f"{shown}{'+' if len(ids) > LEADS_SHOWN else ''} lead{'s' if shown > 1 else ''}"
        if VIEW in rights_for(current_user, "leads"):
            url = leads_of_client_url(client.id)
        elif len(ids) == 1:  # delivery: no leads table in the admin, but the lead's workspace page
            url = url_for("workspace.lead", lead_id=ids[0])
        else:
            return text
        return Markup(f'<a href="{escape(url)}">{escape(text)}</a>')

    column_formatters: ClassVar[dict] = {"leads": _leads_cell}

    # -- actions ----------------------------------------------------------------------------------

    def describe_row(self, client):
        return client.name, ""

    @action("merge", "Merge into…")
    def action_merge(self, ids):
        return self.open_merge_screen(ids, "workspace.merge_clients_screen")

    def client_fields(self, form) -> dict:
        return {
            "name": form.name.data,
            "status": form.status.data,
            "owner_id": row_id(form.owner.data),
            "report_cadence": form.report_cadence.data,
            "notes": form.notes.data,
        }

    def create(self, form):
        return projects.create_client(db.session, actor(), **self.client_fields(form))

    def get_create_form(self):
        return with_confirm(super().get_create_form())

    def get_query(self):
        """Merged clients (zarts.domain.merge) leave the list; `?merged=1` shows them too."""
        query = super().get_query()
        return query if request.args.get("merged") == "1" else query.filter(Client.merged_into_id.is_(None))

    def create_model(self, form):
        domain = form["domain"].data if "domain" in form else None
        matches = client_duplicates(db.session, name=form.name.data, domain=domain)
        if stop_for_duplicates(
            form,
            matches,
            lambda client: [
                (f"client #{client.id}", self.get_url(".edit_view", id=client.id)),
                ("merge…", url_for("workspace.merge_clients_screen", survivor=client.id)),
            ],
        ):
            return False
        return super().create_model(form)

    def save(self, client, version, form):
        return projects.update_client(db.session, client, actor(), version, **self.client_fields(form))


class UserView(DomainActionsMixin, SecureModelView):
    """Users are deactivated, not deleted. Password hashes and session tokens never appear.

    Client contacts' portal access (resend invite, revoke, restore) goes through
    zarts.domain.portal_access, as on the lead page; without SMTP a resent invite's link is shown on
    the page that answers the action, once, to be copied (never flashed: flashes live in the cookie).
    """

    rights_limit = NO_DELETE
    row_noun = "User"
    raw_writes = True  # accounts are the admin's own records (ADMIN_TABLES: admins only), no workflow
    column_list = ("id", "email", "name", "role", "client", "active", "last_login_at", "created_at")
    column_select_related_list = (User.client,)
    column_sortable_list = ("id", "email", "role")
    column_searchable_list = ("email", "name")
    column_filters = ("role", "active", "last_login_at")
    form_columns = ("email", "name", "role", "client", "active")  # a whitelist: no secrets
    form_ajax_refs = {"client": CLIENT}

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        model.email = (model.email or "").strip().lower()  # sign-in compares lower-cased addresses
        state = sa.inspect(model)
        if not is_created and (
            state.attrs.active.history.has_changes() or state.attrs.role.history.has_changes()
        ):
            model.session_token = new_session_token()  # a role change or deactivation ends sessions
        if not is_created and state.attrs.email.history.has_changes():
            revoke(db.session, user_id=model.id)  # links already emailed went to the old address

    @action(
        "resend_invite",
        "Resend invite",
        "Send the selected client contacts a new portal invite? Their earlier links stop working.",
    )
    def action_resend_invite(self, ids):
        links = []

        def resend(user) -> str:
            invite = portal_access.resend_invite(db.session, actor(), user)
            if invite.emailed:
                return f"a new invite was emailed to {user.email}."
            links.append((user.name, user.email, invite.link))
            return "a new invite link is shown below: no email server is set up."

        self.run_on_selected(ids, resend)
        if links:  # this answer is the only place the links ever appear
            return self.render(
                "admin/portal_links.html",
                links=links,
                return_url=get_redirect_target() or self.get_url(".index_view"),
            )
        return None

    @action(
        "revoke_access",
        "Revoke access",
        "Revoke the portal access of the selected client contacts? "
        "They are signed out and their links stop working.",
    )
    def action_revoke_access(self, ids):
        self.run_on_selected(ids, self._revoke)

    def _revoke(self, user) -> str:
        portal_access.revoke_access(db.session, actor(), user)
        return "access revoked: signed out, links spent."

    @action("restore_access", "Restore access")
    def action_restore_access(self, ids):
        self.run_on_selected(ids, self._restore)

    def _restore(self, user) -> str:
        portal_access.restore_access(db.session, actor(), user)
        return "access restored: they sign in with their password, or resend the invite."
