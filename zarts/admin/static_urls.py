"""The admin's static file URLs, built once per file and kept.

Flask-Admin writes every stylesheet and script tag of a page (17 on a list page) through its
`admin/static.html` macro, which calls `url_for` each time. The URL of a file depends only on the
admin's endpoint, the file, its version argument and the app's script root, so
`templates/admin/static.html` asks `admin_static_url` instead, which builds each URL once with the
same `url_for` and keeps it for the life of the process.
"""

from __future__ import annotations

from flask import current_app, request, url_for
from markupsafe import Markup


def admin_static_url(admin_endpoint: str, *args, **kwargs) -> Markup:
    key = (request.script_root, admin_endpoint, args, tuple(sorted(kwargs.items())))
    cache = current_app.extensions.setdefault("zarts_admin_static_urls", {})
    url = cache.get(key)
    if url is None:
        # The markup Flask-Admin's macro writes: the URL, escaped as an expression in a template.
        url = cache[key] = Markup.escape(url_for(f"{admin_endpoint}.static", *args, **kwargs))
    return url
