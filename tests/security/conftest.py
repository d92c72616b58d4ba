"""Security fixtures: a full scenario (the demo pipeline, built once per run through the domain and
copied per test), signed-in clients by role, and an app with the sign-in limits switched on.

The scenario is `zarts.demo.seed` (every stage, a won deal with its handoff, a published report
with notes, messages, approvals) plus a stored weekly pipeline report: enough that every page of
the URL map has rows to show.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from html.parser import HTMLParser

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
        _integrations(app, path.parent)
        db.session.remove()
        db.engine.dispose()
    return path


def _integrations(app, folder):
    """What the demo does not make, so every table holds a row for the sweeps: a saved view, an
    exchange rate, an API token, a (disabled) webhook endpoint with a logged delivery, a capture
    source, a spreadsheet import and an attachment — each through its domain function."""
    import io

    from zarts.domain import api_tokens, attachments, capture, imports, money, unit, views, webhooks
    from zarts.models import Event, Lead, WebhookDelivery, utcnow

    admin = db.session.scalar(sa.select(User).where(User.role == "admin").order_by(User.id))
    lead = db.session.scalar(sa.select(Lead).where(Lead.stage == "proposal").order_by(Lead.id))
    app.config["ATTACHMENT_FOLDER"] = str(folder / "attachments")
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True  # no DNS in tests; the endpoint is disabled at once
    with unit(db.session):
        views.save_view(db.session, admin, "board", "My open deals", "owner=me", shared=True)
        money.set_rate(db.session, admin, "USD", "0.92")
        api_tokens.create_token(db.session, admin, "Reporting script")
        capture.create_source(
            db.session,
            admin,
            name="Website form",
            source="website",
            service="seo",
            default_owner_id=admin.id,
            consent_wording="You may contact me.",
        )
        endpoint, _ = webhooks.register_endpoint(
            db.session,
            admin,
            url="http://127.0.0.1:9/in",
            event_types=["lead.created"],
            acts_as_id=admin.id,
            description="CRM sync",
        )
        webhooks.set_endpoint_active(db.session, admin, endpoint, False)
        event = db.session.scalar(sa.select(Event).order_by(Event.id))
        db.session.add(
            WebhookDelivery(
                endpoint_id=endpoint.id,
                event_id=event.id,
                event_type="lead.created",
                delivery_key="d" * 32,
                attempt=1,
                status_code=500,
                response_excerpt="broken",
                duration_ms=12,
                error="HTTP 500",
                created_at=utcnow(),
            )
        )
        imports.start_import(
            db.session,
            admin,
            kind="leads",
            filename="fair.csv",
            stream=io.BytesIO(b"Company,Service\nAcme,seo\n"),
            folder=str(folder / "imports"),
            max_bytes=10**6,
            max_rows=100,
        )
        attachments.add_attachment(
            db.session, admin, lead, filename="notes.txt", stream=io.BytesIO(b"Call notes\n"), max_bytes=10**6
        )


@dataclass
class Scenario:
    app: object

    def first(self, role: str) -> User:
        """The seed's first user of `role` (by id: emails may be overwritten by the XSS sweep)."""
        return db.session.scalar(sa.select(User).where(User.role == role).order_by(User.id))

    @property
    def admin(self) -> User:
        return self.first("admin")

    @property
    def owner(self) -> User:
        return self.first("growth_ops")

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
    # The scenario's files (attachments, imports) stay where it was built; every copy reads them.
    files = {
        "ATTACHMENT_FOLDER": str(path.parent / "attachments"),
        "IMPORT_FOLDER": str(path.parent / "imports"),
    }
    return _make_app(f"sqlite:///{copy}", **{**files, **config})


@pytest.fixture
def scenario(seeded_db, tmp_path):
    """The seeded scenario on a private copy of the database (requests share the test's session)."""
    app = scenario_app(seeded_db, tmp_path)
    with app.app_context():
        yield Scenario(app)
        db.session.remove()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def pg_scenario(pg_url, tmp_path):
    """The same scenario on this run's PostgreSQL database (seeded afresh: a few seconds)."""
    from zarts.demo import seed
    from zarts.domain import unit
    from zarts.domain.weekly import build_weekly_report

    app = _make_app(
        pg_url, ATTACHMENT_FOLDER=str(tmp_path / "attachments"), IMPORT_FOLDER=str(tmp_path / "imports")
    )
    _fresh_schema(app)
    with app.app_context():
        seed(DEMO_PASSWORD)
        with unit(db.session):
            build_weekly_report(db.session, today())
        _integrations(app, tmp_path)
        yield Scenario(app)
        db.session.remove()
    with app.app_context():
        db.engine.dispose()


# --- forms -----------------------------------------------------------------------------------------


class _Forms(HTMLParser):
    """The forms of a page as a browser would submit them: {action: {name: value}}."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, dict[str, str]]] = []
        self.loose: dict[str, str] = {}
        self._current: dict[str, str] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    @property
    def _fields(self) -> dict[str, str]:
        return self._current if self._current is not None else self.loose

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._current = {}
            self.forms.append((a.get("hx-post") or a.get("action") or "", self._current))
        elif tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self._fields[a["name"]] = a.get("value") or "y"
                else:
                    self._fields.setdefault(a["name"], None)
            else:
                self._fields.setdefault(a["name"], a.get("value") or "")
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._fields.setdefault(self._select, None)
        elif tag == "option" and self._select:  # the selected option, else the first
            if "selected" in a or self._fields.get(self._select) is None:
                self._fields[self._select] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._fields[self._textarea] = ""

    def handle_data(self, data):
        if self._textarea:
            self._fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def page_forms(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Forms()
    parser.feed(html)
    return [(action, {k: v for k, v in fields.items() if v is not None}) for action, fields in parser.forms]


def form_fields(html: str, action: str | None = None) -> dict[str, str]:
    """name -> value of the first form posting to `action` (a form without an action posts to its
    own page, which is `action` when the page was fetched from there)."""
    forms = page_forms(html)
    for target, fields in forms:
        if action is None or target.split("?")[0] == action.split("?")[0]:
            return fields
    return next((fields for target, fields in forms if target == ""), {})


def post_form(client, url: str, data: dict, htmx: bool = False, **kw):
    data = dict(data)
    data.setdefault("csrf_token", csrf_token(client))
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(url, data=data, headers=headers, **kw)
