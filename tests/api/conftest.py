"""API fixtures: a token for a user, and a client that sends it."""

from __future__ import annotations

import pytest

from zarts.domain import unit
from zarts.domain.api_tokens import create_token
from zarts.extensions import db


class Api:
    """Calls /api/v1 with a bearer token (and no session)."""

    def __init__(self, client, token: str):
        self.client, self.token = client, token

    def _headers(self, headers=None, version=None):
        out = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        if version is not None:
            out["If-Match"] = f'"{version}"'
        return out

    def get(self, path, **kw):
        return self.client.get(f"/api/v1{path}", headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, path, json=None, version=None, **kw):
        return self.client.post(
            f"/api/v1{path}",
            json=json if json is not None else {},
            headers=self._headers(kw.pop("headers", None), version),
            **kw,
        )

    def patch(self, path, json=None, version=None, **kw):
        return self.client.patch(
            f"/api/v1{path}", json=json or {}, headers=self._headers(kw.pop("headers", None), version), **kw
        )


def token_for(user) -> str:
    with unit(db.session):
        _, token = create_token(db.session, user, "test script")
    return token


@pytest.fixture
def api_as(app):
    def make_api(user):
        return Api(app.test_client(), token_for(user))

    return make_api
