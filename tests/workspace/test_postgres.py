"""The workspace's prepared reads on PostgreSQL: same pages, same fixed query counts, same moves."""

from __future__ import annotations

import pytest
from flask import g

from tests.conftest import AuthActions, QueryCounter
from zarts.domain import proposals
from zarts.extensions import db
from zarts.models import Lead

from .conftest import HX, add_events

pytestmark = pytest.mark.pg


@pytest.fixture
def pg_client(pg_app):
    return pg_app.test_client()


def sign_in(client, user):
    db.session.commit()
    AuthActions(client).login_as(user)
    g.pop("_login_user", None)


def count(client, path):
    db.session.commit()
    db.session.expire_all()
    g.pop("_login_user", None)
    with QueryCounter(db.engine) as q:
        resp = client.get(path)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return q.count


def test_pages_render_with_constant_query_counts_on_postgresql(pg_app, pg_client, make, journey):
    owner = make.user("growth_ops")
    approver = make.user("approver")
    first = journey.to(make.lead(owner=owner), "contract")
    sign_in(pg_client, owner)
    small = {
        path: count(pg_client, path)
        for path in (
            "/workspace/",
            f"/workspace/leads/{first.id}",
            "/workspace/dashboard",
            "/workspace/tasks",
        )
    }

    for i in range(30):
        lead = make.lead(owner=owner, source=("referral", "event")[i % 2])
        if i % 6 == 0:
            journey.to(lead, "proposal")
            proposals.request_approvals(db.session, journey.draft(lead), owner)
    add_events(first, 60)
    large = {path: count(pg_client, path) for path in small}
    assert small == large, (small, large)

    sign_in(pg_client, approver)
    assert count(pg_client, "/workspace/approvals") <= 7  # 6, and the database snapshot (zarts.page_cache)


def test_move_and_conflict_on_postgresql(pg_app, pg_client, make):
    owner = make.user("growth_ops")
    lead = make.lead(owner=owner)
    sign_in(pg_client, owner)
    token = pg_client.get("/workspace/").get_data(as_text=True).split('"X-CSRFToken": "')[1].split('"')[0]
    headers = {**HX, "X-CSRFToken": token}
    seen = lead.version
    resp = pg_client.post(
        f"/workspace/leads/{lead.id}/move", data={"stage": "qualified", "version": seen}, headers=headers
    )
    assert resp.status_code == 200 and 'hx-swap-oob="afterbegin:#cards-qualified"' in resp.get_data(
        as_text=True
    )
    resp = pg_client.post(
        f"/workspace/leads/{lead.id}/move", data={"stage": "discovery", "version": seen}, headers=headers
    )
    assert resp.status_code == 409
    assert db.session.get(Lead, lead.id).stage == "qualified"
