"""The admin's navigation bar, rendered once per role and page, then reused.

Flask-Admin renders its menu on every page: each table's view asked whether the user may open it,
each link built with `url_for`, through Jinja macros. What it shows depends only on the user's role
(`zarts.admin.permissions`: which tables a role sees) and on which page is open (the active item),
so `admin_menu()` keeps the markup Flask-Admin's own macros wrote for each (role, page) pair: a
few dozen entries for the life of the process.
"""

from __future__ import annotations

from flask import current_app, request
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

# Flask-Admin's main menu and its right-hand links, as admin/base.html writes them.
_SOURCE = (
    "{% import 'admin/layout.html' as layout with context %}"
    '<ul class="nav navbar-nav mr-auto">{{ layout.menu() }}</ul>'
    '<ul class="nav navbar-nav navbar-right">{{ layout.menu_links() }}</ul>'
)


@pass_context
def admin_menu(context) -> Markup:
    view = context["admin_view"]
    role = current_user.role if getattr(current_user, "is_authenticated", False) else None
    key = (role, view.endpoint, request.script_root)
    cache = current_app.extensions.setdefault("zarts_admin_menu", {})
    html = cache.get(key)
    if html is None:
        template = current_app.jinja_env.from_string(_SOURCE)
        html = cache[key] = Markup(template.render(admin_view=view))
    return html
