"""A database that does not answer at all: every page that needs it says so with the 503 page, for
visitors, staff and clients, full pages and HTMX fragments alike — never a 500. (The error page is
rendered as a visitor: loading the signed-in user would ask the database again.)"""

from __future__ import annotations

import pytest

from tests.conftest import _make_app

DEAD = "postgresql+psycopg://root@127.0.0.1:5499/nothing-listens-here"
PAGES = [
    "/workspace/",
    "/workspace/leads/1",
    "/workspace/leads/1/card",
    "/portal/",
    "/portal/proposals/1",
    "/admin/leads/",
    "/outputs/",
    "/jobs/",
    "/account/password",
]


@pytest.fixture
def dead_app():
    return _make_app(DEAD)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_a_signed_in_user_gets_the_503_page_everywhere(dead_app, htmx):
    client = dead_app.test_client()
    with client.session_transaction() as s:
        s["_user_id"], s["_fresh"] = "1:some-session-token", True
    for path in PAGES:
        resp = client.get(path, headers={"HX-Request": "true"} if htmx else {})
        assert resp.status_code == 503, path
        assert "The database is not answering right now." in resp.get_data(as_text=True), path
        assert resp.headers["Retry-After"] == "5"


def test_signing_in_while_the_database_is_down_says_so(dead_app):
    from tests.conftest import csrf_token

    client = dead_app.test_client()
    token = csrf_token(client)  # the sign-in page itself reads nothing from the database
    resp = client.post(
        "/login", data={"email": "a@zarts.test", "password": "whatever it is", "csrf_token": token}
    )
    assert resp.status_code == 503
    assert "Nothing you saved is lost." in resp.get_data(as_text=True)
