"""Fault fixtures: the app served over real HTTP in a thread (requests in flight while a service
fails), and a tiny HTTP client that never raises on a status."""

from __future__ import annotations

import http.client
import logging
import threading
from dataclasses import dataclass

import pytest
from werkzeug.serving import make_server

from tests.security.conftest import seeded_db  # noqa: F401  (the seeded scenario, for the fault tests too)


@dataclass
class Answer:
    status: int | str  # an int, or "error" when the connection itself failed
    body: str
    headers: dict
    started: float
    ended: float


class Http:
    def __init__(self, port: int, cookie: str | None = None):
        self.port, self.cookie = port, cookie

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None) -> Answer:
        import time

        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            hdrs = dict(headers or {})
            if self.cookie:
                hdrs["Cookie"] = f"session={self.cookie}"
            if body is not None:
                hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
            return Answer(resp.status, text, dict(resp.getheaders()), started, time.monotonic())
        except OSError as exc:
            return Answer("error", repr(exc), {}, started, time.monotonic())
        finally:
            conn.close()


@pytest.fixture
def serve():
    """serve(app) -> port: the app on a free port, one thread per request (like gunicorn's threads)."""
    servers = []
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    def start(app) -> int:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return server.server_port

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()  # shutdown() only stops the loop; this closes the listening socket
        thread.join(timeout=5)


def browser_session(app, user) -> tuple[str, str]:
    """(session cookie, CSRF token) of a browser signed in as `user` that has opened a page."""
    from tests.conftest import csrf_token

    client = app.test_client()
    with client.session_transaction() as s:
        s["_user_id"] = user.get_id()
        s["_fresh"] = True
    token = csrf_token(client)
    return client.get_cookie("session").value, token
