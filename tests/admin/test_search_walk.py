"""An admin search never walks the whole table (PostgreSQL): a walk that runs past its time limit
is run again through the search index, and the page shows the same matches."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from tests.admin.conftest import settle
from zarts.admin.base import SecureModelView
from zarts.extensions import db

pytestmark = pytest.mark.pg


def test_a_search_that_walks_too_long_is_run_through_the_search_index(
    pg_client, pg_auth, make, monkeypatch, caplog
):
    pg_auth.login_as(make.user("admin"))
    make.lead(title="Slowwalk Holdings")
    for i in range(5):
        make.lead(title=f"Other lead {i}")
    settle()
    # Every row the search looks at now costs 10 ms, and the walk may take 1 ms.
    monkeypatch.setattr(SecureModelView, "SEARCH_WALK_MS", 1)
    search = SecureModelView._apply_search

    def slow(self, query, count_query, joins, count_joins, term):
        query, count_query, joins, count_joins = search(self, query, count_query, joins, count_joins, term)
        return query.filter(sa.text("pg_sleep(0.01) IS NOT NULL")), count_query, joins, count_joins

    monkeypatch.setattr(SecureModelView, "_apply_search", slow)
    with caplog.at_level(logging.INFO, logger="zarts.admin.base"):
        response = pg_client.get("/admin/leads/?search=slowwalk")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Slowwalk Holdings" in html and "Other lead" not in html
    assert "run again through the search index" in caplog.text


def test_after_a_search_the_request_has_no_time_limit_left(pg_client, pg_auth, make):
    pg_auth.login_as(make.user("admin"))
    make.lead(title="Quickfind Ltd")
    settle()
    before = db.session.execute(sa.text("SHOW statement_timeout")).scalar()
    html = pg_client.get("/admin/leads/?search=quickfind").get_data(as_text=True)
    assert "Quickfind Ltd" in html
    # The test shares the request's transaction: what the search set for itself is undone.
    assert db.session.execute(sa.text("SHOW statement_timeout")).scalar() == before
