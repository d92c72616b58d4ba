"""Admin test helpers: rows of every table (tests/admin/rows.py) and a signed-in client on PostgreSQL."""

from __future__ import annotations

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
