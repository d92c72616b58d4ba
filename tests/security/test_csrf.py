"""CSRF: every POST route of the URL map (admin, workspace, portal, auth, jobs), posted as a role that
may use it but without the session's token — or with another session's — is refused with the
"Form expired" page and changes nothing."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import csrf_token
from tests.security.test_fuzz import make_decoys, sign_in, snapshot, targets
from zarts.extensions import db
from zarts.models import Lead, User


def test_every_post_route_refuses_a_missing_or_foreign_csrf_token(scenario):
    make_decoys()
    contact = db.session.scalar(
        sa.select(User)
        .join(Lead, Lead.client_id == User.client_id)
        .where(User.role == "client", Lead.stage == "contract")
        .order_by(User.id)
    )
    users = {
        "admin": scenario.admin.id,
        "client": contact.id,
        "signed-in": scenario.admin.id,
        "anonymous": None,
    }
    sessions = {
        role: scenario.client_as(db.session.get(User, uid) if uid else None) for role, uid in users.items()
    }
    sessions["client-user"] = contact
    plan = targets(scenario, sessions)
    foreign = csrf_token(scenario.app.test_client())  # valid, but for another browser's session
    before = snapshot()
    for target in plan:
        client = scenario.app.test_client()
        for token in (None, foreign):
            sign_in(client, users[target.role])
            data = dict(target.fields)
            if token:
                data["csrf_token"] = token
            resp = client.post(target.url, data=data)
            assert resp.status_code == 400, (target.endpoint, resp.status_code)
            assert "Form expired" in resp.get_data(as_text=True), target.endpoint
    db.session.rollback()
    assert snapshot() == before
    assert len(plan) > 100
