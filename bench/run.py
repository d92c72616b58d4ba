#!/usr/bin/env python
"""Latency / throughput harness: run the app under gunicorn against a seeded database and time it.

    python bench/run.py                                   # zarts_bench (1M leads): pages and writes
    python bench/run.py --concurrency 16 --duration 30    # plus a mixed concurrent run
    python bench/run.py --jobs                            # plus 1,000 handoffs on one RQ worker and
                                                          # the reminder sweep (bench/jobs.py)
    python bench/run.py --only lead --only approvals      # endpoints whose name contains a word
    python bench/run.py --base-url http://127.0.0.1:8000  # an already running server
    python bench/run.py --reference                       # plus stock Flask-Admin on the same lists

Sequential: per endpoint, WARMUP requests then REQUESTS timed one after another (p50/p95/max,
requests/s), compared with its target. GET pages as ops@zarts.test (staff), approver@zarts.test (the
approvals queue) and the client contact of meta.json (portal). Writes, as HTMX POSTs with the page's
CSRF header: a stage move (one lead owned by ops moved proposal -> audit -> proposal -> ..., the
backward move has no gate and the forward one passes it; each POST carries the version the previous
answer showed) and an approval decision (approve; one fresh pending approval per request, inserted
before timing). An endpoint answering 4xx/5xx or a redirect to /login is reported and not timed.
Concurrent mode: N threads, each with its own connections, requests spread over the GET endpoints
that answered 2xx, for --duration seconds: errors, p50/p95/max and requests/s. Peak RSS of each
gunicorn worker (VmHWM) after the run. Results: a table on stdout and a run appended to
bench/results/<YYYY-MM-DD>.json.

Ids come from bench/data/meta.json (bench/seed.py); the write set-up reads and writes the database
directly (SQLAlchemy core).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from datetime import UTC, date, datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---------------------------------------------------------------------------------------------
# The endpoints: (name, who, path, target p95 ms). `who`: "staff" (ops@zarts.test), "approver"
# (approver@zarts.test), "client" (the client contact of meta.json), "api" (ops@zarts.test's personal
# API token, made for the run and revoked after it: `api_token`) or "anon". {placeholders} come
# from meta.json. Flask-Admin's filter arguments are positional (flt<n>_<index of the filter in the
# view's list>): flt0_0 is the first filter of LeadView.column_filters ("stage", "equals").
# ---------------------------------------------------------------------------------------------
LIST_TARGET, PAGE_TARGET, WRITE_TARGET, CONCURRENT_TARGET = 20, 30, 20, 100
ENDPOINTS = [
    ("admin lead list p1", "staff", "/admin/leads/", LIST_TARGET),
    ("admin lead deep page 250", "staff", "/admin/leads/?page=250", LIST_TARGET),
    ("admin lead stage filter", "staff", "/admin/leads/?flt0_0={stage_filter}", LIST_TARGET),
    ("admin lead search (common)", "staff", "/admin/leads/?search={search_term}", LIST_TARGET),
    ("admin lead search (rare)", "staff", "/admin/leads/?search={rare_search_term}", LIST_TARGET),
    ("admin task list", "staff", "/admin/tasks/", LIST_TARGET),
    ("workspace board", "staff", "/workspace/", PAGE_TARGET),
    ("workspace lead page (200 ev)", "staff", "/workspace/leads/{designated_lead_id}", PAGE_TARGET),
    ("workspace my tasks", "staff", "/workspace/tasks", PAGE_TARGET),
    ("workspace approvals", "approver", "/workspace/approvals", PAGE_TARGET),
    ("workspace dashboard", "staff", "/workspace/dashboard", PAGE_TARGET),
    ("portal home", "client", "/portal/", PAGE_TARGET),
    ("portal proposal", "client", "/portal/proposals/{sent_proposal_id}", PAGE_TARGET),
    ("portal reports", "client", "/portal/reports", PAGE_TARGET),
    ("api lead list p1", "api", "/api/v1/leads?limit=50", LIST_TARGET),
    ("api lead list stage filter", "api", "/api/v1/leads?limit=50&stage={stage_filter}", LIST_TARGET),
    ("login page (static)", "anon", "/login", None),
]
# Request headers per `who` (the API's bearer token), next to the cookies of the signed-in ones.
HEADERS: dict[str, dict] = {}
WRITES = [
    ("stage move (HTMX POST)", "staff", WRITE_TARGET),
    ("approval approve (HTMX POST)", "approver", WRITE_TARGET),
]

DEFAULT_DB = "postgresql+psycopg://root@127.0.0.1:5432/zarts_bench"
PASSWORD = "bench-password-123"
CSRF_HEADER = re.compile(rb'"X-CSRFToken": "([^"]+)"')
VERSION_INPUT = re.compile(rb'name="version" value="(\d+)"')


# ---------------------------------------------------------------------------------------------
# HTTP with a cookie, on http.client
# ---------------------------------------------------------------------------------------------
class Client:
    def __init__(self, base_url: str, cookies: dict | None = None, timeout: float = 60, headers=None):
        u = urllib.parse.urlsplit(base_url)
        self.headers = dict(headers or {})
        self.host, self.port = u.hostname, u.port or 80
        self.timeout = timeout
        self.cookies = dict(cookies or {})
        self.conn = None

    def _connection(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.conn

    def request(
        self, method: str, path: str, body: dict | None = None, headers: dict | None = None
    ) -> tuple[int, bytes, dict]:
        headers = {"Accept": "text/html", **self.headers, **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                payload = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # gunicorn's sync worker closes the connection: reconnect once
                if attempt == 2:
                    raise
        for header, value in resp.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        return resp.status, payload, dict(resp.getheaders())

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def sign_in(base_url: str, email: str, password: str) -> dict:
    c = Client(base_url)
    status, body, _ = c.request("GET", "/login")
    m = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body) or re.search(
        rb'value="([^"]+)"[^>]*name="csrf_token"', body
    )
    if status != 200 or not m:
        raise SystemExit(f"GET /login answered {status} without a csrf_token input")
    status, body, _ = c.request(
        "POST", "/login", {"email": email, "password": password, "csrf_token": m.group(1).decode()}
    )
    if status not in (302, 303):
        raise SystemExit(f"sign-in as {email} failed: {status} {body[:200]!r}")
    c.close()
    return c.cookies


def csrf_header(client: Client, page: str) -> dict:
    """The X-CSRFToken header htmx sends: the token of the <body hx-headers> of a page."""
    status, body, _ = client.request("GET", page)
    m = CSRF_HEADER.search(body)
    if status != 200 or not m:
        raise SystemExit(f"GET {page} answered {status} without an hx-headers CSRF token")
    return {"X-CSRFToken": m.group(1).decode(), "HX-Request": "true"}


# ---------------------------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def absolute_db_url(url: str) -> str:
    """Flask-SQLAlchemy puts a relative SQLite path in instance/: make it absolute (from the cwd)."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        return "sqlite:///" + os.path.abspath(url[len("sqlite:///") :])
    return url


def start_server(
    db_url: str,
    port: int,
    workers: int,
    log_path: str,
    app: tuple[str, ...] = ("wsgi:app",),
    page_cache: bool = True,
):
    env = dict(
        os.environ,
        DATABASE_URL=absolute_db_url(db_url),
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-secret-key-not-for-production"),
    )
    if not page_cache:  # every page rendered (zarts.page_cache off): what a first view costs
        env["PAGE_CACHE_SECONDS"] = "0"
    env.pop("REDIS_URL", None)  # jobs (if a write queues any) run in-process, as on a one-box install
    # The API's per-token limit (300/minute by default) would answer most of 220 timed calls 429:
    # the bench times the API's work, so its one token may call as often as the bench asks.
    env.setdefault("RATELIMIT_API", "100000/minute")
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    with open(log_path, "w") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [
                gunicorn,
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{port}",
                "--timeout",
                "120",
                "--backlog",
                "256",
                *app,
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited ({proc.returncode}); see {log_path}")
        try:
            status, _, _ = Client(base, timeout=5).request("GET", "/login")
            if status == 200:
                return proc, base
        except OSError:
            pass
        time.sleep(0.3)
    stop_server(proc)
    raise SystemExit(f"gunicorn did not answer within 60 s; see {log_path}")


def stop_server(proc) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)  # its own session: the master and its workers only
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def worker_memory(master_pid: int) -> list[dict]:
    """Peak (VmHWM) and current (VmRSS) resident memory of each gunicorn worker, in MB."""
    out = []
    try:
        with open(f"/proc/{master_pid}/task/{master_pid}/children") as fh:
            children = fh.read().split()
    except OSError:
        return out
    for pid in children:
        try:
            with open(f"/proc/{pid}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh)
        except OSError:
            continue
        out.append(
            {
                "pid": int(pid),
                "peak_rss_mb": round(int(fields["VmHWM"].split()[0]) / 1024, 1),
                "rss_mb": round(int(fields["VmRSS"].split()[0]) / 1024, 1),
            }
        )
    return out


def load_average() -> list[float]:
    try:
        with open("/proc/loadavg") as fh:
            return [float(x) for x in fh.read().split()[:3]]
    except OSError:
        return []


# ---------------------------------------------------------------------------------------------
# Write set-up: the database directly
# ---------------------------------------------------------------------------------------------
@contextlib.contextmanager
def api_token(db_url: str, email: str):
    """A personal API token of `email` for the run, made and revoked through zarts.domain.api_tokens
    (what the workspace's API tokens page does); yields the token."""
    import sqlalchemy as sa

    from zarts import create_app
    from zarts.domain import api_tokens, unit
    from zarts.extensions import db
    from zarts.models import User

    app = create_app({"SQLALCHEMY_DATABASE_URI": absolute_db_url(db_url)})
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        with unit(db.session):
            row, token = api_tokens.create_token(db.session, user, "bench/run.py")
        token_id = row.id
        db.session.remove()
    try:
        yield token
    finally:
        with app.app_context():
            user = db.session.scalar(sa.select(User).where(User.email == email))
            with unit(db.session):
                api_tokens.revoke_token(db.session, user, token_id)
            db.session.remove()


def rare_search_term(db_url: str, meta: dict) -> str:
    """One lead's whole email name (the lead in the middle of the table: `quentin.nielsen.500000` at
    1M leads, seed 42), so every size of seed searches for a term that matches exactly one lead."""
    import sqlalchemy as sa

    engine = sa.create_engine(absolute_db_url(db_url))
    try:
        with engine.connect() as conn:
            email = conn.execute(
                sa.text("SELECT contact_email FROM leads WHERE id = :id"),
                {"id": max(meta.get("leads", 2) // 2, 1)},
            ).scalar()
    finally:
        engine.dispose()
    return (email or "quentin.nielsen.500000@").split("@", 1)[0]


def move_candidates(db_url: str, owner_id: int, limit: int = 20) -> list[int]:
    """Leads owned by ops, in proposal, not paused, with a next action due today or later and a
    completed audit with evidence: proposal -> audit (backward, no gate) -> proposal (gate met)."""
    import sqlalchemy as sa

    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    sa.text(
                        "SELECT l.id FROM leads l WHERE l.owner_id = :owner AND l.stage IN ('proposal', 'audit') "
                        "AND l.paused_at IS NULL AND l.next_action IS NOT NULL AND l.next_action_due >= :today "
                        "AND EXISTS (SELECT 1 FROM audits a WHERE a.lead_id = l.id AND a.status = 'completed' "
                        "AND coalesce(a.findings, '') <> '' AND coalesce(a.baseline_figures, '') <> '') "
                        "ORDER BY l.id LIMIT :n"
                    ),
                    {"owner": owner_id, "today": date.today(), "n": limit},
                ).scalars()
            )
    finally:
        engine.dispose()


def make_pending_approvals(db_url: str, requester_id: int, n: int) -> list[int]:
    """N fresh pending pricing approvals (each on a different draft proposal), requested by ops."""
    import sqlalchemy as sa

    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            return list(
                conn.execute(
                    sa.text(
                        "INSERT INTO approvals (kind, state, lead_id, proposal_id, content, requested_by_id, "
                        "requested_at, version, created_at, updated_at) "
                        "SELECT 'pricing', 'pending', p.lead_id, p.id, 'bench: price ' || p.price_cents, :who, "
                        "now() AT TIME ZONE 'utc', 1, now() AT TIME ZONE 'utc', now() AT TIME ZONE 'utc' "
                        "FROM proposals p WHERE p.status = 'draft' ORDER BY p.id DESC LIMIT :n RETURNING id"
                    ),
                    {"who": requester_id, "n": n},
                ).scalars()
            )
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------
def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))
    return s[k]


def summarize(lat: list[float], elapsed: float) -> dict:
    return {
        "n": len(lat),
        "p50_ms": round(pct(lat, 50) * 1000, 1),
        "p95_ms": round(pct(lat, 95) * 1000, 1),
        "max_ms": round(max(lat) * 1000, 1) if lat else None,
        "mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else None,
        "rps": round(len(lat) / elapsed, 1) if elapsed > 0 else None,
    }


def verdict(row: dict) -> None:
    target = row.get("target_ms")
    if target is not None and row.get("p95_ms") is not None:
        row["met"] = row["p95_ms"] <= target


def sequential(base: str, cookies: dict, endpoints, requests: int, warmup: int, measure_errors: bool):
    results = []
    for name, who, path, target in endpoints:
        client = Client(base, cookies.get(who), headers=HEADERS.get(who))
        try:
            status, body, headers = client.request("GET", path)
        except OSError as exc:
            results.append({"name": name, "path": path, "who": who, "status": f"error: {exc}"})
            continue
        row = {
            "name": name,
            "path": path,
            "who": who,
            "status": status,
            "bytes": len(body),
            "target_ms": target,
        }
        if status in (301, 302, 303) and "/login" in headers.get("Location", ""):
            row["status"] = f"{status} -> login"
        if (status >= 400 or status in (301, 302, 303)) and not measure_errors:
            results.append(row)
            print(f"  {name:<32} {row['status']} (not timed)", flush=True)
            continue
        for _ in range(max(0, warmup - 1)):
            client.request("GET", path)
        lat, statuses = [], Counter()
        t0 = time.perf_counter()
        for _ in range(requests):
            t = time.perf_counter()
            st, _, _ = client.request("GET", path)
            lat.append(time.perf_counter() - t)
            statuses[st] += 1
        row.update(summarize(lat, time.perf_counter() - t0))
        row["statuses"] = dict(statuses)
        verdict(row)
        if set(statuses) != {status}:  # some timed answers were not the page (a limit, an error)
            row["status"], row["met"] = (
                f"{status}+{'/'.join(map(str, sorted(set(statuses) - {status})))}",
                False,
            )
        client.close()
        results.append(row)
        print(f"  {name:<32} {status} p50 {row['p50_ms']} ms  p95 {row['p95_ms']} ms", flush=True)
    return results


def time_posts(name: str, who: str, target, calls, warmup: int) -> dict:
    """Run `calls` (each a function doing one POST and returning its status), the first `warmup`
    untimed."""
    row = {"name": name, "who": who, "target_ms": target, "path": "POST"}
    lat, statuses = [], Counter()
    t0 = None
    for i, call in enumerate(calls):
        if i == warmup:
            t0 = time.perf_counter()
        t = time.perf_counter()
        status = call()
        dt = time.perf_counter() - t
        if i >= warmup:
            lat.append(dt)
            statuses[status] += 1
        elif status >= 300:
            row.update(status=status)
            print(f"  {name:<32} {status} (not timed)", flush=True)
            return row
    elapsed = time.perf_counter() - t0 if t0 is not None else 0
    row.update(
        status=max(statuses, key=statuses.get) if statuses else None,
        statuses=dict(statuses),
        **summarize(lat, elapsed),
    )
    if any(s >= 300 for s in statuses):
        row["errors"] = sum(c for s, c in statuses.items() if s >= 300)
    verdict(row)
    print(f"  {name:<32} {row['status']} p50 {row['p50_ms']} ms  p95 {row['p95_ms']} ms", flush=True)
    return row


def mover(base: str, cookies: dict, db_url: str, meta: dict):
    """A function moving one lead of ops between proposal and audit (one HTMX POST a call, returning
    its status), and that lead's id; (None, None) if no lead moves both ways."""
    client = Client(base, cookies[WRITES[0][1]])
    headers = csrf_header(client, "/workspace/")
    for lead_id in move_candidates(db_url, meta["staff_ids"]["ops"]):
        status, body, _ = client.request("GET", f"/workspace/leads/{lead_id}/card", headers=headers)
        m = VERSION_INPUT.search(body)
        stage = re.search(rb'data-stage="(\w+)"', body)
        if status != 200 or not m or not stage:
            continue
        state = {"version": m.group(1).decode(), "stage": stage.group(1).decode()}

        def one(state=state, lead_id=lead_id):
            to = "audit" if state["stage"] == "proposal" else "proposal"
            status, body, _ = client.request(
                "POST",
                f"/workspace/leads/{lead_id}/move",
                {"stage": to, "version": state["version"]},
                headers=headers,
            )
            m = VERSION_INPUT.search(body)
            if status == 200 and m:
                state["version"], state["stage"] = m.group(1).decode(), to
            return status

        if one() == 200 and one() == 200:  # both directions work for this lead
            return one, lead_id
    return None, None


def stage_moves(base: str, cookies: dict, db_url: str, meta: dict, requests: int, warmup: int) -> dict:
    name, who, target = WRITES[0]
    one, lead_id = mover(base, cookies, db_url, meta)
    if one is None:
        return {"name": name, "who": who, "target_ms": target, "status": "no lead of ops moves both ways"}
    row = time_posts(name, who, target, [one] * (requests + warmup), warmup)
    row["path"] = f"POST /workspace/leads/{lead_id}/move (proposal <-> audit)"
    return row


def approvals(base: str, cookies: dict, db_url: str, meta: dict, requests: int, warmup: int) -> dict:
    name, who, target = WRITES[1]
    client = Client(base, cookies[who])
    headers = csrf_header(client, "/workspace/approvals")
    ids = make_pending_approvals(db_url, meta["staff_ids"]["ops"], requests + warmup)
    if len(ids) < requests + warmup:
        return {"name": name, "who": who, "target_ms": target, "status": f"only {len(ids)} draft proposals"}

    def decide(approval_id):
        return lambda: client.request(
            "POST",
            f"/workspace/approvals/{approval_id}/decide",
            {"decision": "approve", "version": "1"},
            headers=headers,
        )[0]

    row = time_posts(name, who, target, [decide(i) for i in ids], warmup)
    row["path"] = "POST /workspace/approvals/<fresh pending id>/decide (approve)"
    return row


def concurrent(
    base: str, cookies: dict, endpoints, threads: int, duration: float, write=None, writes_per_s=0.0
):
    """`threads` clients asking the endpoints in turn for `duration` seconds; with `write` (a function
    doing one POST), one more thread writes `writes_per_s` times a second meanwhile, so that pages
    kept by zarts.page_cache are rendered again after each commit, as on a team at work."""
    lat_by = defaultdict(list)
    errors = Counter()
    hits = Counter()
    stop = time.perf_counter() + duration
    lock = threading.Lock()
    written = Counter()

    def writer():
        interval = 1 / writes_per_s
        due = time.perf_counter()
        while time.perf_counter() < stop:
            due += interval
            try:
                written[write()] += 1
            except OSError as exc:  # counted, and the run is not met (below)
                written[type(exc).__name__] += 1
            time.sleep(max(0.0, due - time.perf_counter()))

    def worker(k: int):
        clients = {
            who: Client(base, cookies.get(who), headers=HEADERS.get(who))
            for who in ("staff", "approver", "client", "anon", "api")
        }
        i = k
        local_lat, local_err, local_hits = defaultdict(list), Counter(), Counter()
        while time.perf_counter() < stop:
            name, who, path, _ = endpoints[i % len(endpoints)]
            i += 1
            t = time.perf_counter()
            try:
                st, _, headers = clients[who].request("GET", path)
                dt = time.perf_counter() - t
                if st >= 400:
                    local_err[f"{name}: {st}"] += 1
                else:
                    local_lat[name].append(dt)
                    if headers.get("X-Page-Cache") == "hit":
                        local_hits[name] += 1
            except OSError as exc:
                local_err[f"{name}: {type(exc).__name__}"] += 1
                clients[who].close()
        with lock:
            for n, v in local_lat.items():
                lat_by[n].extend(v)
            errors.update(local_err)
            hits.update(local_hits)

    t0 = time.perf_counter()
    ths = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    if write is not None and writes_per_s > 0:
        ths.append(threading.Thread(target=writer))
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    elapsed = time.perf_counter() - t0
    all_lat = [x for v in lat_by.values() for x in v]
    out = {
        "threads": threads,
        "duration_s": round(elapsed, 1),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        **summarize(all_lat, elapsed),
        "target_ms": CONCURRENT_TARGET,
        "per_endpoint": {n: summarize(v, elapsed) for n, v in sorted(lat_by.items())},
        "page_cache_hits": sum(hits.values()),
        "writes": dict(written),
    }
    out["met"] = (
        out["errors"] == 0 and out["p95_ms"] <= CONCURRENT_TARGET and all(status == 200 for status in written)
    )
    return out


def run_reference(args, endpoints, seq) -> list[dict]:
    """The admin lead list URLs again, on stock Flask-Admin (bench/reference.py) under the same
    gunicorn settings, and the app's time beside it."""
    urls = [
        (name, "anon", path, None) for name, who, path, _ in endpoints if path.startswith("/admin/leads/")
    ]
    if not urls:
        return []
    proc = None
    try:
        proc, base = start_server(
            args.database_url,
            free_port(),
            args.workers,
            os.path.join(ROOT, "bench", "results", "gunicorn-reference.log"),
            app=("--chdir", "bench", "reference:app"),
        )
        print(
            f"\nreference: stock Flask-Admin on {base}, {min(args.warmup, 3)} warm-up + "
            f"{args.reference_requests} timed requests per URL"
        )
        rows = sequential(base, {"anon": {}}, urls, args.reference_requests, min(args.warmup, 3), False)
    finally:
        stop_server(proc)
    ours = {r["name"]: r for r in seq}
    print(
        f"\n{'admin lead list':<32} {'stock p50':>10} {'p95':>8} {'ours p50':>9} {'p95':>8} {'p50 ratio':>10}"
    )
    for r in rows:
        o = ours.get(r["name"], {})
        if "p50_ms" in r and "p50_ms" in o:
            r["ours_p50_ms"], r["ours_p95_ms"] = o["p50_ms"], o["p95_ms"]
            r["ratio_p50"] = round(r["p50_ms"] / o["p50_ms"], 1) if o["p50_ms"] else None
            print(
                f"{r['name']:<32} {r['p50_ms']:>10} {r['p95_ms']:>8} {o['p50_ms']:>9} {o['p95_ms']:>8} "
                f"{r['ratio_p50']:>9}x"
            )
    return rows


def print_table(rows, title: str) -> None:
    print(f"\n{title}")
    head = (
        f"{'endpoint':<32} {'status':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'req/s':>7} {'KB':>6} "
        f"{'target':>7} {'met':>4}"
    )
    print(head)
    print("-" * len(head))

    def f(r, k):
        v = r.get(k)
        return "" if v is None else str(v)

    for r in rows:
        kb = f"{r['bytes'] / 1024:.0f}" if r.get("bytes") is not None else ""
        met = "" if r.get("met") is None else ("yes" if r["met"] else "NO")
        print(
            f"{r['name']:<32} {r['status']!s:>8} {f(r, 'p50_ms'):>8} {f(r, 'p95_ms'):>8} "
            f"{f(r, 'max_ms'):>8} {f(r, 'rps'):>7} {kb:>6} {f(r, 'target_ms'):>7} {met:>4}"
        )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", default=DEFAULT_DB)
    ap.add_argument("--meta", default=os.path.join(ROOT, "bench", "data", "meta.json"))
    ap.add_argument("--base-url", help="benchmark a server that is already running (no gunicorn start)")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--write-requests", type=int, default=100, help="timed POSTs per write endpoint")
    ap.add_argument("--no-writes", action="store_true", help="skip the stage move and approval POSTs")
    ap.add_argument("--concurrency", type=int, default=0, help="threads for the mixed run (0: skip it)")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of the mixed run")
    ap.add_argument(
        "--page-cache",
        choices=("on", "off"),
        default="on",
        help="off: the server renders every page (PAGE_CACHE_SECONDS=0), what a first view costs",
    )
    ap.add_argument(
        "--mix-writes",
        type=float,
        default=0.0,
        help="stage moves per second during the mixed run (each commit makes kept pages stale)",
    )
    ap.add_argument("--only", action="append", default=[], help="endpoints whose name contains this")
    ap.add_argument("--measure-errors", action="store_true", help="time 4xx/5xx endpoints too")
    ap.add_argument("--staff-email", default="ops@zarts.test")
    ap.add_argument("--approver-email", default="approver@zarts.test")
    ap.add_argument("--jobs", action="store_true", help="also run bench/jobs.py (handoffs, reminder sweep)")
    ap.add_argument("--jobs-args", default="", help="extra arguments for bench/jobs.py")
    ap.add_argument(
        "--reference",
        action="store_true",
        help="also time stock Flask-Admin (bench/reference.py) on the admin lead list URLs",
    )
    ap.add_argument("--reference-requests", type=int, default=30)
    ap.add_argument("--note", default="", help="free text stored with the run")
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv)

    with open(args.meta) as fh:
        meta = json.load(fh)
    if "rare_search_term" not in meta:
        meta["rare_search_term"] = rare_search_term(args.database_url, meta)

    def wanted(name):
        return not args.only or any(w.lower() in name.lower() for w in args.only)

    endpoints = []
    for name, who, path, target in ENDPOINTS:
        if not wanted(name):
            continue
        try:
            endpoints.append((name, who, path.format(**meta), target))
        except KeyError as exc:
            print(f"  skipping {name}: meta.json has no {exc}")

    proc = None
    load_before = load_average()
    from jobs import python_speed  # bench/jobs.py: how fast this shared VM runs Python right now

    speed_before = python_speed()
    seq, writes, conc, memory = [], [], None, []
    cleanup = contextlib.ExitStack()  # the run's API token, revoked at the end
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    try:
        if args.base_url:
            base = args.base_url.rstrip("/")
        else:
            port = args.port or free_port()
            proc, base = start_server(
                args.database_url,
                port,
                args.workers,
                os.path.join(ROOT, "bench", "results", "gunicorn.log"),
                page_cache=args.page_cache == "on",
            )
            print(f"gunicorn -w {args.workers} on {base} against {args.database_url}")
        print(f"load average {load_before}; a fixed Python loop takes {speed_before} ms")
        cookies = {
            "anon": {},
            "staff": sign_in(base, args.staff_email, PASSWORD),
            "approver": sign_in(base, args.approver_email, PASSWORD),
        }
        if any(who == "api" for _, who, _, _ in endpoints):
            token = cleanup.enter_context(api_token(args.database_url, args.staff_email))
            HEADERS["api"] = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        client_email = meta.get("client_contact_email")
        if client_email:
            cookies["client"] = sign_in(base, client_email, PASSWORD)

        print(f"\nsequential: {args.warmup} warm-up + {args.requests} timed requests per endpoint")
        seq = sequential(base, cookies, endpoints, args.requests, args.warmup, args.measure_errors)
        if not args.no_writes and not args.base_url:
            print(f"\nwrites: {min(args.warmup, 10)} warm-up + {args.write_requests} timed POSTs each")
            if wanted(WRITES[0][0]):
                writes.append(
                    stage_moves(
                        base, cookies, args.database_url, meta, args.write_requests, min(args.warmup, 10)
                    )
                )
            if wanted(WRITES[1][0]):
                writes.append(
                    approvals(
                        base, cookies, args.database_url, meta, args.write_requests, min(args.warmup, 10)
                    )
                )
        print_table(
            seq + writes, f"Sequential ({meta.get('leads'):,} leads, {args.workers} gunicorn workers)"
        )

        if args.concurrency:
            # The API is left out of the mix: its per-token rate limit (by design) answers 429 to 16
            # threads sharing one token, and the mix stays comparable with earlier runs.
            ok = [
                e
                for e, r in zip(endpoints, seq, strict=True)
                if isinstance(r["status"], int) and r["status"] < 300 and e[1] != "api"
            ]
            if not ok:
                print("\nno endpoint answered 2xx: concurrent run skipped")
            else:
                print(
                    f"\nconcurrent: {args.concurrency} threads, {args.duration:.0f} s, "
                    f"mixed over {len(ok)} endpoints"
                )
                write = None
                if args.mix_writes > 0:
                    write, lead_id = mover(base, cookies, args.database_url, meta)
                    if write is None:
                        raise SystemExit("--mix-writes: no lead of ops moves both ways")
                    print(f"  and {args.mix_writes:g} stage moves a second (lead {lead_id})")
                conc = concurrent(base, cookies, ok, args.concurrency, args.duration, write, args.mix_writes)
                rows = [{"name": n, "status": "", **s} for n, s in conc["per_endpoint"].items()]
                rows.append(
                    {
                        "name": "ALL",
                        "status": f"{conc['errors']} err",
                        "target_ms": CONCURRENT_TARGET,
                        "met": conc["met"],
                        **{k: conc[k] for k in ("p50_ms", "p95_ms", "max_ms", "rps")},
                    }
                )
                print_table(rows, f"Concurrent ({args.concurrency} threads)")
                print(
                    f"answered from zarts.page_cache: {conc['page_cache_hits']} of {conc['n']}"
                    + (f"; stage moves: {conc['writes']}" if conc["writes"] else "")
                )
                if conc["error_kinds"]:
                    print("errors:", conc["error_kinds"])
        if proc is not None:
            memory = worker_memory(proc.pid)
            if memory:
                print(
                    "\ngunicorn workers, peak RSS (VmHWM): "
                    + ", ".join(f"{m['peak_rss_mb']} MB" for m in memory)
                )
    finally:
        stop_server(proc)
        cleanup.close()
    reference = None
    if args.reference and not args.base_url:
        reference = run_reference(args, endpoints, seq)
    load_after = load_average()
    print(f"load average after: {load_after}")

    jobs = None
    if args.jobs:
        out = os.path.join(ROOT, "bench", "results", ".jobs.json")
        cmd = [
            sys.executable,
            os.path.join(ROOT, "bench", "jobs.py"),
            "--database-url",
            args.database_url,
            "--json-out",
            out,
            *args.jobs_args.split(),
        ]
        print("\n" + " ".join(cmd), flush=True)
        if subprocess.run(cmd, cwd=ROOT, check=False).returncode == 0 and os.path.exists(out):
            with open(out) as fh:
                jobs = json.load(fh)
            os.unlink(out)

    if not args.no_save:
        path = os.path.join(ROOT, "bench", "results", f"{datetime.now(UTC):%Y-%m-%d}.json")
        runs = []
        if os.path.exists(path):
            with open(path) as fh:
                runs = json.load(fh).get("runs", [])
        git = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        runs.append(
            {
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "commit": git.stdout.strip() + ("+dirty" if dirty else ""),
                "database_url": args.database_url if not args.base_url else None,
                "base_url": args.base_url,
                "leads": meta.get("leads"),
                "workers": args.workers,
                "requests": args.requests,
                "warmup": args.warmup,
                "load_average_before": load_before,
                "load_average_after": load_after,
                "python_loop_ms": speed_before,
                "note": args.note,
                "page_cache": args.page_cache,
                "mix_writes_per_s": args.mix_writes,
                "sequential": seq,
                "writes": writes,
                "concurrent": conc,
                "worker_memory": memory,
                "jobs": jobs,
                "reference": reference,
            }
        )
        with open(path, "w") as fh:
            json.dump({"runs": runs}, fh, indent=2)
        print(f"\nresults appended to {os.path.relpath(path, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
