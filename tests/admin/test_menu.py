"""The admin's navigation bar, rendered once per role and page (zarts/admin/menu.py), is the bar
Flask-Admin's own base template writes: the same tables for each role, the same active item."""

from __future__ import annotations

import re

import pytest

from tests.admin.conftest import settle


def _nav(html: str) -> str:
    start = html.index('id="admin-navbar-collapse"')
    body = html[start : html.index("</nav>", start)]
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", body)).strip()


def _both(app, client, url):
    fast = client.get(url)
    theme = app.extensions["admin"][0].theme
    theme.base_template, mine = "admin/base.html", theme.base_template  # Flask-Admin's own
    try:
        stock = client.get(url)
    finally:
        theme.base_template = mine
    assert fast.status_code == stock.status_code == 200
    return _nav(fast.get_data(as_text=True)), _nav(stock.get_data(as_text=True))


@pytest.mark.parametrize("role", ["admin", "growth_ops", "approver", "delivery"])
def test_each_role_gets_the_menu_flask_admin_would_write_on_each_page(app, client, auth, make, role):
    auth.login_as(make.user(role))
    settle()
    pages = ["/admin/", "/admin/leads/", "/admin/tasks/", "/admin/leads/?search=x"]
    seen = set()
    for url in pages:
        if client.get(url).status_code != 200:
            continue  # a table this role does not see
        fast, stock = _both(app, client, url)
        assert fast == stock
        seen.add(fast)
    assert len(seen) >= 2  # the active item differs between pages: not one bar for all


def test_a_role_sees_only_its_tables_in_the_menu_after_another_role_was_served(app, client, auth, make):
    auth.login_as(make.user("admin"))
    settle()
    admin_nav, _ = _both(app, client, "/admin/")
    assert "/admin/users/" in admin_nav and "/admin/outbox/" in admin_nav
    client.get("/logout")
    auth.login_as(make.user("approver"))
    settle()
    approver_nav = _nav(client.get("/admin/").get_data(as_text=True))
    assert "/admin/users/" not in approver_nav and "/admin/outbox/" not in approver_nav
    assert "/admin/leads/" in approver_nav  # approvers read the leads
