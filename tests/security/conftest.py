"""Security fixtures: a full scenario (the demo pipeline, built once per run through the domain and
copied per test), signed-in clients by role, and an app with the sign-in limits switched on.

The scenario is `zarts.demo.seed` (every stage, a won deal with its handoff, a published report
with notes, messages, approvals) plus a stored weekly pipeline report: enough that every page of
the URL map has rows to show.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from tests.conftest import _fresh_schema, _make_app, csrf_token
from zarts.extensions import db
from zarts.models import User, today

DEMO_PASSWORD = "demo-password-2026"


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory):
    """A SQLite file holding the seeded scenario (built once; tests work on copies)."""
    from zarts.demo import seed
    from zarts.domain import unit
    from zarts.domain.weekly import build_weekly_report

    path = tmp_path_factory.mktemp("scenario") / "scenario.db"
    app = _make_app(f"sqlite:///{path}")
    _fresh_schema(app)
    with app.app_context():
        seed(DEMO_PASSWORD)
        with unit(db.session):
            build_weekly_report(db.session, today())
        db.session.remove()
        db.engine.dispose()
    return path


@dataclass
class Scenario:
    app: object

    def user(self, email: str) -> User:
        return db.session.scalar(sa.select(User).where(User.email == email))

    @property
    def admin(self) -> User:
        return self.user("admin@zarts.test")

    @property
    def owner(self) -> User:
        return self.user("ops@zarts.test")

    @property
    def contacts(self) -> list[User]:
        return list(db.session.scalars(sa.select(User).where(User.role == "client").order_by(User.id)))

    def client_as(self, user: User | None):
        """A test client signed in as `user` (None: anonymous)."""
        c = self.app.test_client()
        if user is not None:
            with c.session_transaction() as s:
                s["_user_id"] = user.get_id()
                s["_fresh"] = True
        return c


def scenario_app(path, tmp_path, **config):
    copy = tmp_path / "scenario.db"
    shutil.copy(path, copy)
    return _make_app(f"sqlite:///{copy}", **config)


@pytest.fixture
def scenario(seeded_db, tmp_path):
    """The seeded scenario on a private copy of the database (requests share the test's session)."""
    app = scenario_app(seeded_db, tmp_path)
    with app.app_context():
        yield Scenario(app)
        db.session.remove()
    with app.app_context():
        db.engine.dispose()


# --- forms -----------------------------------------------------------------------------------------

_INPUT = re.compile(r"<(input|textarea|select)\b([^>]*)>", re.I)
_ATTR = re.compile(r'([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*"([^"]*)"')


def form_fields(html: str, action: str | None = None) -> dict[str, str]:
    """name -> value of the inputs of the first form posting to `action` (or of the whole page)."""
    import html as htmlmod

    if action is not None:
        for m in re.finditer(r"<form\b([^>]*)>(.*?)</form>", html, re.S | re.I):
            attrs = dict(_ATTR.findall(m.group(1)))
            target = htmlmod.unescape(attrs.get("action") or attrs.get("hx-post") or "")
            if target.split("?")[0] == action.split("?")[0]:
                html = m.group(2)
                break
        else:
            return {}
    fields: dict[str, str] = {}
    for tag, raw in _INPUT.findall(html):
        attrs = dict(_ATTR.findall(raw))
        name = attrs.get("name")
        if not name or attrs.get("type") in ("submit", "button"):
            continue
        if attrs.get("type") == "checkbox" and "checked" not in raw:
            fields.setdefault(name, "")
            continue
        fields.setdefault(name, htmlmod.unescape(attrs.get("value", "")))
    return fields


def post_form(client, url: str, data: dict, htmx: bool = False, **kw):
    data = dict(data)
    data.setdefault("csrf_token", csrf_token(client))
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(url, data=data, headers=headers, **kw)
