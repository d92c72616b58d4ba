"""Client organisations and users (staff, and client contacts bound to one client)."""

import sqlalchemy as sa

from ..models import Client, User, new_session_token
from .base import SecureModelView
from .permissions import NO_DELETE
from .refs import CLIENT, STAFF


class ClientView(SecureModelView):
    column_list = ("id", "name", "status", "owner", "report_cadence", "created_at")
    column_select_related_list = (Client.owner,)
    column_sortable_list = ("id", "name", "status")
    column_searchable_list = ("name",)
    column_filters = ("status", "report_cadence", "owner.email")
    form_ajax_refs = {"owner": STAFF}


class UserView(SecureModelView):
    """Users are deactivated, not deleted. Password hashes and session tokens never appear."""

    rights_limit = NO_DELETE
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
        if not is_created and (state.attrs.active.history.has_changes()
                               or state.attrs.role.history.has_changes()):
            model.session_token = new_session_token()  # a role change or deactivation ends sessions
