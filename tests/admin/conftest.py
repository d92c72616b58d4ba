"""Admin test helpers: rows of every table (tests/admin/rows.py) and a signed-in client on PostgreSQL."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import pytest
from flask import g

from tests.conftest import AuthActions
from zarts.extensions import db


def settle():
    """Commit, then forget every loaded row and the cached signed-in user, as a fresh request would.

    The test client's requests share the test's app context (and so its session and `g`): without
    this, rows the test built are served from the identity map and an N+1 stays invisible.
    """
    db.session.commit()
    db.session.expunge_all()
    g.pop("_login_user", None)


@pytest.fixture
def pg_client(pg_app):
    return pg_app.test_client()


@pytest.fixture
def pg_auth(pg_client):
    return AuthActions(pg_client)


class _FormParser(HTMLParser):
    """The values a browser would submit from the page's admin form (Save button, nothing else)."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.fields[name] = a.get("value", "y")
            else:
                self.fields[name] = a.get("value") or ""
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self.fields[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            self.fields.setdefault(self._select, self._first_option or "")
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            first = not self.fields[self._textarea]  # browsers drop the newline after <textarea>
            self.fields[self._textarea] += data.removeprefix("\r\n").removeprefix("\n") if first else data


def form_fields(html: str) -> dict[str, str]:
    start = html.index('<form action="" method="POST"')
    parser = _FormParser()
    parser.feed(html[start : html.index("</form>", start)])
    return parser.fields


def flashes(page: str) -> list[str]:
    """The admin's flash messages on a page, as text."""
    return [
        unescape(" ".join(m.split()))
        for m in re.findall(
            r'<div class="alert alert-\w+ alert-dismissable">\s*<button[^>]*>&times;</button>(.*?)</div>',
            page,
            re.DOTALL,
        )
    ]
