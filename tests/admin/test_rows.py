"""The list rows built in Python (zarts/admin/rows.py) are the table Flask-Admin's own template
renders: same cells, values, links and checkboxes, for every table and for a user with fewer rights."""

from __future__ import annotations

import re

import pytest

from tests.admin.conftest import settle
from tests.admin.rows import TABLES, add_rows
from zarts.admin.base import SecureModelView


def _table(html: str) -> str:
    """The list's <table>, with whitespace and the per-render tokens (nonce, CSRF) normalised."""
    start = html.index("model-list")
    body = html[start : html.index("</table>", start)]
    body = re.sub(r'(nonce|value)="[^"]{30,}"', r'\1=""', body)  # CSRF tokens and CSP nonces
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", body)).strip()


def _both(app, client, url):
    fast = client.get(url)
    views = [v for v in app.extensions["admin"][0]._views if isinstance(v, SecureModelView)]
    for v in views:
        v.list_template = "admin/model/list.html"  # Flask-Admin's own list template
    try:
        stock = client.get(url)
    finally:
        for v in views:
            v.list_template = SecureModelView.list_template
    assert fast.status_code == stock.status_code == 200
    return fast.get_data(as_text=True), stock.get_data(as_text=True)


@pytest.mark.parametrize("table", TABLES)
def test_each_list_renders_the_rows_flask_admin_would(app, table, client, auth, make):
    auth.login_as(make.user("admin"))
    add_rows(table, 3)
    settle()
    fast, stock = _both(app, client, f"/admin/{table}/?search=&page_size=20")
    assert _table(fast) == _table(stock)
    assert _table(fast).count("<tr>") >= 4  # the header and the three rows


def test_a_user_who_may_only_view_gets_the_same_rows_without_edit_links(app, client, auth, make):
    auth.login_as(make.user("delivery"))
    add_rows("tasks", 3)
    settle()
    fast, stock = _both(app, client, "/admin/tasks/")
    assert _table(fast) == _table(stock)


def test_row_values_are_escaped(app, client, auth, make):
    auth.login_as(make.user("admin"))
    lead_id = make.lead(title="<script>alert(1)</script> & co", company='Quote "Co"').id
    settle()
    fast, stock = _both(app, client, "/admin/leads/")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in fast and "<script>alert(1)" not in fast
    assert f"/admin/leads/edit/?id={lead_id}&amp;url=" in fast
    assert _table(fast) == _table(stock)


def test_row_links_are_written_without_a_macro_call_per_row(app, client, auth, make, monkeypatch):
    """The view and edit links of rows with a numeric id come from one URL per page: Flask-Admin's
    row-action macros are not called for each row (they were, when every id arrived as text)."""
    from flask_admin.model import template

    calls = []
    original = template.TemplateLinkRowAction.render

    def counted(self, context, row_id, row):
        calls.append(row_id)
        return original(self, context, row_id, row)

    monkeypatch.setattr(template.TemplateLinkRowAction, "render", counted)
    auth.login_as(make.user("admin"))
    ids = [make.lead(title=f"Row link {i}").id for i in range(3)]
    settle()
    html = client.get("/admin/leads/").get_data(as_text=True)
    for lead_id in ids:
        assert f"/admin/leads/edit/?id={lead_id}&amp;url=" in html
    assert calls == []
