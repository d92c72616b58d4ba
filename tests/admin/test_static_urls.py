"""The admin's stylesheet and script URLs (built once per process, zarts/admin/static_urls.py) are
the URLs Flask-Admin's own static macro builds, they load, and they follow the app's mount point."""

from __future__ import annotations

import re

from tests.admin.conftest import settle

_STATIC = re.compile(r'(?:href|src)="(/[^"]*admin/static/[^"]+)"')


def _static_urls(html: str) -> list[str]:
    return [u.replace("&amp;", "&") for u in _STATIC.findall(html)]


def test_each_stylesheet_and_script_is_the_one_flask_admin_would_link_and_loads(app, client, auth, make):
    auth.login_as(make.user("admin"))
    settle()
    urls = _static_urls(client.get("/admin/leads/").get_data(as_text=True))
    assert len(urls) >= 15  # bootstrap, jquery, select2, the list's own scripts ...
    with app.test_request_context():
        from flask import url_for

        for url in urls:
            path, _, query = url.partition("?")
            filename = path.split("/admin/static/", 1)[1]
            args = dict(p.split("=", 1) for p in query.split("&")) if query else {}
            assert url == url_for("admin.static", filename=filename, **args)
    for url in set(urls):
        response = client.get(url)
        assert response.status_code == 200, url
        response.close()


def test_under_a_mount_point_the_urls_carry_its_prefix(app, client, auth, make):
    auth.login_as(make.user("admin"))
    settle()
    client.get("/admin/leads/")  # URLs built and kept for the root mount first
    html = client.get("/admin/leads/", environ_overrides={"SCRIPT_NAME": "/crm"}).get_data(as_text=True)
    urls = _static_urls(html)
    assert urls and all(u.startswith("/crm/admin/static/") for u in urls)
