"""Builders and helpers for the workspace tests.

The shared `app` fixture keeps one app context for the whole test, so every request of the test
client shares `g` (Flask-Login caches the user there) and the SQLAlchemy session with the test.
`sign_in` therefore also forgets the cached user, and `fresh()` expires every loaded row so the next
request loads what it shows, as a real request would (needed for honest query counts).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import g

from zarts.domain.reads import metrics
from zarts.extensions import db
from zarts.models import Event, today

HX = {"HX-Request": "true"}
STAFF = ("admin", "growth_ops", "approver", "delivery")


@pytest.fixture
def sign_in(auth):
    def _sign_in(user):
        db.session.commit()
        auth.login_as(user)
        g.pop("_login_user", None)
        return user

    return _sign_in


@pytest.fixture
def fresh():
    def _fresh():
        db.session.commit()
        db.session.expire_all()
        g.pop("_login_user", None)

    return _fresh


@pytest.fixture
def hx_get(client):
    def _get(url, **kw):
        return client.get(url, headers=HX, **kw)

    return _get


@pytest.fixture
def hx_post(auth):
    def _post(url, data=None, **kw):
        return auth.post(url, data, htmx=True, **kw)

    return _post


@pytest.fixture
def at_volume(monkeypatch):
    """PostgreSQL's row estimate says a million leads: the dashboard keeps its period figures a while
    (zarts.domain.reads.metrics._PERIODS) and what it made of the snapshot (_FIGURES, _PIPELINES),
    emptied before and after the test."""
    monkeypatch.setattr(metrics, "estimated_leads", lambda session: 1_000_000)
    for kept in (metrics._PERIODS, metrics._FIGURES, metrics._PIPELINES):
        kept.clear()
    yield
    for kept in (metrics._PERIODS, metrics._FIGURES, metrics._PIPELINES):
        kept.clear()


@pytest.fixture
def owner(make):
    return make.user("growth_ops", name="Olga Owner")


@pytest.fixture
def approver(make):
    return make.user("approver", name="Ada Approver")


def add_events(lead, n: int):
    """Timeline filler written directly (set-up only): n stage events on the lead."""
    for i in range(n):
        db.session.add(
            Event(
                lead_id=lead.id,
                kind="next_action_set",
                actor_id=lead.owner_id,
                owner_id=lead.owner_id,
                stage=lead.stage,
                next_action=f"Step {i}",
                next_action_due=today() + timedelta(days=1),
                payload={},
            )
        )
    db.session.flush()


@pytest.fixture
def pending_proposal(journey, make, owner):
    """A lead at the proposal stage with a draft whose three parts wait for approval."""
    from zarts.domain import proposals

    lead = journey.to(make.lead(owner=owner), "proposal")
    proposal = journey.draft(lead)
    approvals = proposals.request_approvals(db.session, proposal, owner)
    db.session.commit()
    return lead, proposal, approvals


# ---------------------------------------------------------------- browser tests (Playwright)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The app served by a real threaded werkzeug server on a file SQLite database."""
    from tests.conftest import BASE_CONFIG, serve
    from zarts import create_app

    path = tmp_path_factory.mktemp("live") / "live.db"
    app = create_app(dict(BASE_CONFIG, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}"))
    with app.app_context():
        db.create_all()
    with serve(app):
        yield app
    with app.app_context():
        db.engine.dispose()
