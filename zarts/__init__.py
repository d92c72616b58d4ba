"""ZartsAlgo Sales Ops: create_app() builds the Flask application."""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)

    from . import config as cfg

    app.config.update(cfg.DEFAULTS)
    app.config.update(cfg.from_env(app.instance_path))
    if config:
        app.config.update(config)
    cfg.check(app.config)
    from .templating import install as install_templating

    # Tests render our templates strictly: a template reading a variable nobody passed fails loudly
    # instead of printing an empty string to the user (zarts.templating).
    install_templating(app)
    if app.config.get("TRUSTED_PROXIES"):
        # Behind N proxies, take the client address and scheme from their X-Forwarded-* headers
        # (sign-in limits count per address; Secure cookies and HSTS need the real scheme).
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from .extensions import csrf, db, htmx, login_manager, migrate
    from .statements import install as install_statements

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"),
        render_as_batch=True,
    )
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)

    with app.app_context():
        _tune_engine(db.engine)
        install_statements(db.engine)

    from .auth import bp as auth_bp, init_auth

    init_auth(app)
    app.register_blueprint(auth_bp)

    from .auth.limits import install as install_limits

    install_limits(app)  # after the auth views exist: it wraps them

    from .admin import init_admin

    init_admin(app)

    from .outputs import bp as outputs_bp
    from .portal import bp as portal_bp
    from .workspace import bp as workspace_bp

    app.register_blueprint(workspace_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(outputs_bp)

    from .api import init_api

    init_api(app)  # /api/v1 (tokens, OpenAPI) and /capture; after install_limits: it adds limits

    from .jobs import init_jobs

    init_jobs(app)

    from .web import init_web

    init_web(app)

    from .page_cache import install as install_page_cache

    install_page_cache(app)  # last: its hooks run after every other before_request, and keep what they added

    from .cli import register_commands

    register_commands(app)
    return app


def _tune_engine(engine) -> None:
    if engine.dialect.name == "postgresql":

        @sa.event.listens_for(engine, "connect")
        def _postgresql_settings(dbapi_conn, _record):
            # No JIT compilation: the app's statements run in milliseconds, and PostgreSQL compiles
            # any whose estimated cost passes jit_above_cost (the dashboard's conversion at a million
            # leads: 1.3 s of compiling for 0.4 s of work). Per connection, so migrations, the
            # bench's seeding and ad-hoc reports keep the server's setting.
            autocommit = dbapi_conn.autocommit
            dbapi_conn.autocommit = True
            dbapi_conn.execute("SET jit = off")
            dbapi_conn.autocommit = autocommit

        return
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=5000")
        cur.close()
