"""Fixtures shared by every test: an app on SQLite (default) or PostgreSQL, clients and builders.

PostgreSQL and Redis are real services on 127.0.0.1. A test that needs one fails (never skips)
when it is down. Each pytest process gets its own PostgreSQL database and Redis key prefix, so
several runs can share the machine.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import uuid

import pytest
import sqlalchemy as sa
from flask import g, has_app_context
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from zarts import create_app
from zarts.extensions import db as _db

PG_ADMIN_URL = os.environ.get("ZARTS_TEST_PG", "postgresql+psycopg://root@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ZARTS_TEST_REDIS", "redis://127.0.0.1:6379/0")
RUN_ID = uuid.uuid4().hex[:8]

BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "REDIS_URL": None,
    "SMTP_URL": None,
    "RATELIMIT_ENABLED": False,
    "SERVER_NAME": None,
    "RQ_QUEUE": f"zarts-test-{RUN_ID}",
    # Our templates fail on a variable nobody passed; Flask-Admin's stay lenient (zarts.templating).
    "TEMPLATES_STRICT": True,
}


class IsolatedClient(FlaskClient):
    """A test client whose requests do not inherit per-request state from each other.

    The fixtures keep one app context open for the whole test (so builders and requests share the
    session), and Flask reuses it for every request: without this, `g` would carry Flask-Login's
    cached user and the CSRF token from one request (or one client) to the next.
    """

    def open(self, *args, **kwargs):
        # Read the whole body and close it (a file the app sends is closed at once, not left to the
        # garbage collector: warnings are errors); a test of streaming passes buffered=False.
        kwargs.setdefault("buffered", True)
        _clear_g()
        try:
            response = super().open(*args, **kwargs)
        finally:
            _clear_g()
        for sent in (*response.history, response):
            # Werkzeug spools a big request body to a temporary file and leaves it open when the app
            # refuses the request unread (413): close it here.
            stream = sent.request.environ.get("wsgi.input") if sent.request is not None else None
            if stream is not None and not stream.closed:
                stream.close()
        return response


def _clear_g():
    if has_app_context():
        vars(g).clear()


def _make_app(db_url: str, **extra):
    config = dict(BASE_CONFIG, SQLALCHEMY_DATABASE_URI=db_url, **extra)
    app = create_app(config)
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture(scope="session")
def pg_url():
    """A private PostgreSQL database for this pytest process, dropped at the end."""
    name = f"zarts_t_{RUN_ID}"
    # No pool: a PostgreSQL restart during the run (tests/faults) must not leave a dead connection here.
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:  # pragma: no cover - environment problem
        pytest.fail(f"PostgreSQL is required on 127.0.0.1:5432 ({exc.orig})")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
            ),
            {"n": name},
        )
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError as exc:  # pragma: no cover - environment problem
        pytest.fail(f"Redis is required on 127.0.0.1:6379 ({exc})")
    return REDIS_URL


def _fresh_schema(app):
    with app.app_context():
        _db.drop_all()
        _db.create_all()


@pytest.fixture
def app(tmp_path):
    """The app on a fresh SQLite file database (fast, the embedded default)."""
    app = _make_app(f"sqlite:///{tmp_path / 'test.db'}")
    _fresh_schema(app)
    with app.app_context():
        yield app
        _db.session.remove()
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture
def pg_app(pg_url):
    """The app on this process's PostgreSQL database, emptied before the test."""
    app = _make_app(pg_url)
    _fresh_schema(app)
    with app.app_context():
        yield app
        _db.session.remove()
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
    r'|"X-CSRFToken": "([^"]+)"'
)


def csrf_token(client) -> str:
    """The CSRF token of the client's session, read from a page like a browser would."""
    html = client.get("/login").get_data(as_text=True)
    m = _CSRF_RE.search(html)
    assert m, "no CSRF token on the login page"
    return next(g for g in m.groups() if g)


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login_as(self, user):
        """Sign in without the password round-trip (fast); see test_auth for the real form."""
        with self.client.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
        return user

    def login(self, email, password):
        token = csrf_token(self.client)
        return self.client.post("/login", data={"email": email, "password": password, "csrf_token": token})

    def post(self, url, data=None, htmx=False, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", csrf_token(self.client))
        headers = kw.pop("headers", {})
        if htmx:
            headers["HX-Request"] = "true"
        return self.client.post(url, data=data, headers=headers, **kw)


@pytest.fixture
def auth(client):
    return AuthActions(client)


class QueryCounter:
    def __init__(self, engine):
        self.engine = engine
        self.statements: list[str] = []

    def _on(self, conn, cursor, statement, params, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "PRAGMA")):
            self.statements.append(statement)

    def __enter__(self):
        self.statements = []
        sa.event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._on)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries():
    """`with count_queries() as q: ...; q.count` counts SQL statements on the current app's engine."""
    return lambda: QueryCounter(_db.engine)


# ---------------------------------------------------------------- browser tests (Playwright)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium (`make browsers` installs it); Playwright downloads no browser here."""
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url(pytestconfig):
    """pytest-playwright's own `base_url` (--base-url, else the ini value) as a plain function: theirs
    is a method of a plugin class, which pytest 9 deprecates (PytestRemovedIn10Warning)."""
    return pytestconfig.getoption("--base-url", None) or pytestconfig.getini("base_url") or None


@contextlib.contextmanager
def serve(app):
    """The app over HTTP on a free port (threaded werkzeug); links in messages point at it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app.config["BASE_URL"]
    finally:
        server.shutdown()
        server.server_close()  # shutdown() only stops the loop; this closes the listening socket
        thread.join(timeout=5)


@pytest.fixture
def live_server(app):
    with serve(app) as url:
        yield url


from tests.builders import *  # noqa: E402, F403  (the builders' fixtures, after the fixtures they use)
