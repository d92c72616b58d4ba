"""A signed-in user's page, answered again without rendering while nothing in the database changed.

Staff move between the same few pages (the board, a lead, my tasks, an admin list) and htmx asks
for the same fragments again; a client reloads the portal on a phone. Most of those requests find
the database exactly as the last time the same person asked: this answers them with the bytes of
that last answer instead of rendering again.

When may an answer be reused? Only when the request is the same and everything the page is made
of is the same:
- the request: the same method (GET), path and query, the same htmx headers, Accept and
  Accept-Language, the same user agent and address, and the same session content and other
  cookies. Whatever a view can read of its request is part of the key; a page is never shared
  between two sessions, so never between two users.
- the database: PostgreSQL's `pg_current_snapshot()` (xmin:xmax:running xids) changes with every
  commit of a writing transaction anywhere in the cluster, and never comes back to an earlier value:
  a commit either takes its xid out of the running list or moves xmax past it. So an answer stored
  under the snapshot read *before* the page was rendered may be reused while that snapshot is
  still current: nothing has committed since, so the page would read the same rows. (A page that
  read newer rows than its snapshot says is never reused: that commit already changed the snapshot.)
  Access is decided from the same rows (the user's role, active flag and session token), so it
  cannot change either. A user's own write commits before its response: the next page is new.
- the clock: what a page says about time ("due today", "overdue", relative times) moves without a
  commit, so an answer is reused for at most PAGE_CACHE_SECONDS (15 by default).

What is never reused: anything but a 200 text/html answer to a GET of a signed-in session on the
workspace, the portal, the outputs pages or an admin list; an answer that changed the session
(a first CSRF token, flashed messages shown) or set a cookie; a request whose session holds flashed
messages; anything on SQLite (no snapshot to read: the embedded default renders every time). A page
that writes on a GET commits, so it is rendered every time, side effects included.

Each process keeps its own entries, for the current snapshot only: the first request that sees a
newer snapshot drops all of them (no older one can be asked for again), and the bytes kept are
capped by PAGE_CACHE_BYTES. A reused admin page gets a fresh CSP nonce. The answer says
`X-Page-Cache: hit` when it was reused.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time

import sqlalchemy as sa
from flask import Response, current_app, g, request, session

from .extensions import db

SNAPSHOT = sa.select(sa.cast(sa.func.pg_current_snapshot(), sa.Text))
CACHED_BLUEPRINTS = frozenset(("workspace", "portal", "outputs"))
# Request headers a view may read; any other header a view reads would have to be added here.
KEYED_HEADERS = ("Accept", "Accept-Language", "User-Agent", "Host", "Authorization")
MAX_PAGE_BYTES = 2 * 1024 * 1024
# Headers of a stored answer that are not replayed: the server and Flask set them for each answer.
NOT_REPLAYED = frozenset(("set-cookie", "content-length", "date", "x-page-cache"))


class PageCache:
    """One process's reusable answers. Entries are keyed by generation (snapshot, span of the clock)
    and request, so one stored by a request that read an older snapshot can never answer a newer
    one, even when threads interleave; entries of older generations are dropped when a newer
    generation is first seen."""

    def __init__(self, seconds: int, max_bytes: int):
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.generation: tuple[str, int] | None = None
        self.entries: dict[tuple, tuple[int, list, bytes, str | None]] = {}
        self.bytes = 0
        self.hits = self.stores = 0

    def lookup(self, generation: tuple[str, int], key: bytes):
        if generation != self.generation:
            # A newer snapshot (or span of the clock): nothing kept can be asked for again.
            self.generation, self.entries, self.bytes = generation, {}, 0
            return None
        return self.entries.get((generation, key))

    def store(self, generation: tuple[str, int], key: bytes, entry) -> None:
        size = len(entry[2])
        if generation != self.generation or size > MAX_PAGE_BYTES:
            return
        if self.bytes + size > self.max_bytes:
            self.entries, self.bytes = {}, 0
        self.entries[(generation, key)] = entry
        self.bytes += size
        self.stores += 1


def cacheable_endpoint(endpoint: str | None) -> bool:
    if not endpoint:
        return False
    blueprint, _, view = endpoint.partition(".")
    return blueprint in CACHED_BLUEPRINTS or view == "index_view" and blueprint != "admin"


def request_key() -> bytes:
    """Everything of the request a view may read, hashed."""
    h = hashlib.blake2b(digest_size=20)
    h.update(request.full_path.encode("utf-8", "surrogatepass"))
    for name in KEYED_HEADERS:
        h.update(b"\0" + (request.headers.get(name) or "").encode("utf-8", "surrogatepass"))
    for name, value in sorted(request.headers.items()):
        if name.lower().startswith("hx-"):
            h.update(f"\0{name}={value}".encode("utf-8", "surrogatepass"))
    h.update(b"\0" + (request.remote_addr or "").encode())
    h.update(b"\0" + request.scheme.encode())
    h.update(b"\0" + json.dumps(dict(session), sort_keys=True, default=str).encode())
    cookie_name = current_app.config.get("SESSION_COOKIE_NAME", "session")
    for name, value in sorted(request.cookies.items()):
        if name != cookie_name:
            h.update(f"\0{name}={value}".encode("utf-8", "surrogatepass"))
    return h.digest()


def _generation(cache: PageCache) -> tuple[str, int]:
    return db.session.execute(SNAPSHOT).scalar_one(), int(time.time() // cache.seconds)


def install(app) -> None:
    """Answer repeated pages from the cache (PostgreSQL only; PAGE_CACHE_SECONDS=0 turns it off)."""
    seconds = int(app.config.get("PAGE_CACHE_SECONDS", 0) or 0)
    if seconds <= 0 or not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    cache = PageCache(seconds, int(app.config.get("PAGE_CACHE_BYTES", 32 * 1024 * 1024)))
    app.extensions["zarts.page_cache"] = cache

    def serve_again():
        if request.method != "GET" or not cacheable_endpoint(request.endpoint):
            return None
        if "_user_id" not in session or "_flashes" in session:
            return None
        if db.session.registry.has() and db.session().in_transaction():
            return None  # a request inside someone's open transaction (a test's) may see its rows
        key = request_key()
        generation = _generation(cache)
        g.page_cache = (generation, key)
        entry = cache.lookup(generation, key)
        if entry is None:
            return None
        status, headers, body, nonce = entry
        if nonce:  # an admin page: its scripts get a nonce nobody saw before
            fresh = secrets.token_urlsafe(16)
            body = body.replace(nonce.encode(), fresh.encode())
            headers = [(k, v.replace(nonce, fresh)) for k, v in headers]
        g.page_cache = None
        cache.hits += 1
        response = Response(body, status=status, headers=headers)
        response.headers["X-Page-Cache"] = "hit"
        return response

    def keep(response):
        stored = g.pop("page_cache", None)
        if (
            stored is None
            or response.status_code != 200
            or response.mimetype != "text/html"
            or response.is_streamed
            or response.direct_passthrough
            or session.modified
            or "Set-Cookie" in response.headers
        ):
            return response
        generation, key = stored
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in NOT_REPLAYED]
        cache.store(generation, key, (200, headers, response.get_data(), g.get("csp_nonce")))
        return response

    # Served after every other before_request (the limits still count), kept after every other
    # after_request (the security headers are part of what is kept). Flask runs after_request
    # functions last-registered first.
    app.before_request_funcs.setdefault(None, []).append(serve_again)
    app.after_request_funcs.setdefault(None, []).insert(0, keep)
