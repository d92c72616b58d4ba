"""Small builders for test data: `make.user("approver")`, `make.lead(stage="audit")`, …

They write rows directly (set-up only). Tests of behaviour go through zarts.domain.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from zarts.auth.passwords import hash_password
from zarts.extensions import db
from zarts.models import Client, Lead, User, today, utcnow

PASSWORD = "correct horse battery"
_HASH = None
_seq = itertools.count(1)


def password_hash() -> str:
    global _HASH
    if _HASH is None:
        _HASH = hash_password(PASSWORD)
    return _HASH


class Make:
    def user(self, role: str = "growth_ops", *, client=None, email=None, name=None, **kw) -> User:
        n = next(_seq)
        if role == "client" and client is None:
            client = self.client()
        user = User(email=email or f"{role}{n}@zarts.test", name=name or f"{role.title()} {n}", role=role,
                    client_id=client.id if client is not None else None, password_hash=password_hash(), **kw)
        db.session.add(user)
        db.session.flush()
        return user

    def client(self, name=None, **kw) -> Client:
        c = Client(name=name or f"Client {next(_seq)}", **kw)
        db.session.add(c)
        db.session.flush()
        return c

    def lead(self, owner=None, **kw) -> Lead:
        """A new lead with every qualification field filled (so `qualified` passes its gate)."""
        n = next(_seq)
        if owner is None:
            owner = self.user("growth_ops")
        fields = dict(
            title=f"Lead {n}", company=f"Company {n}", contact_name=f"Contact {n}",
            contact_email=f"contact{n}@example.test", contact_path="email, then a call",
            source="referral", source_context="Met at the spring meetup", service="seo",
            service_fit="strong", urgency="high", decision_owner="CMO", budget_signal="5-8k / month",
            next_action="Call to qualify", next_action_due=today() + timedelta(days=2),
            consent="granted", consent_recorded_at=utcnow(), owner_id=owner.id,
        )
        fields.update(kw)
        lead = Lead(**fields)
        db.session.add(lead)
        db.session.flush()
        return lead


@pytest.fixture
def make(app_context_any):
    return Make()


@pytest.fixture
def app_context_any(request):
    """Builders work with whichever app fixture the test uses (SQLite `app` or `pg_app`)."""
    if "pg_app" in request.fixturenames:
        return request.getfixturevalue("pg_app")
    return request.getfixturevalue("app")
