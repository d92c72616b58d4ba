#!/usr/bin/env python
"""Latency / throughput harness: run the app under gunicorn against a seeded database and time pages.

    python bench/run.py                                   # zarts_bench (1M leads), sequential
    python bench/run.py --concurrency 16 --duration 30    # plus a mixed concurrent run
    python bench/run.py --database-url sqlite:///bench/data/bench.db --meta bench/data/meta_sqlite.json
    python bench/run.py --base-url http://127.0.0.1:8000  # an already running server
    python bench/run.py --only lead --only approvals      # endpoints whose name contains a word

Sequential mode: per endpoint, WARMUP requests then REQUESTS timed one after another (p50/p95/max,
requests/s). An endpoint that answers 404 or 5xx is reported with its status and not timed further.
Concurrent mode: N threads, each with its own connection, requests spread over the endpoints that
answered 2xx, for --duration seconds: errors, p50/p95/max and requests/s overall and per endpoint.
Results: a table on stdout and a run appended to bench/results/<YYYY-MM-DD>.json.

Only the standard library (http.client) is used; ids come from bench/data/meta.json (bench/seed.py).
"""

from __future__ import annotations

import argparse
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
from datetime import UTC, datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---------------------------------------------------------------------------------------------
# The endpoints: (name, who, path). `who` is "staff" (signed in as ops@zarts.test) or "client"
# (the contact of a client with a sent proposal). {placeholders} come from meta.json.
# Flask-Admin filter URLs depend on the view's filter list; adjust the stage filter once it exists.
# ---------------------------------------------------------------------------------------------
ENDPOINTS = [
    ("admin lead list p1", "staff", "/admin/lead/"),
    ("admin lead deep page 2000", "staff", "/admin/lead/?page=2000"),
    ("admin lead stage filter", "staff", "/admin/lead/?flt1_stage_equals={stage_filter}"),
    ("admin lead search", "staff", "/admin/lead/?search={search_term}"),
    ("admin task list", "staff", "/admin/task/"),
    ("workspace board", "staff", "/workspace/"),
    ("workspace lead page (200 ev)", "staff", "/workspace/leads/{designated_lead_id}"),
    ("workspace my tasks", "staff", "/workspace/tasks"),
    ("workspace approvals", "staff", "/workspace/approvals"),
    ("workspace dashboard", "staff", "/workspace/dashboard"),
    ("portal home", "client", "/portal/"),
    ("portal proposal", "client", "/portal/proposals/{sent_proposal_id}"),
    ("portal reports", "client", "/portal/reports"),
    ("login page (static)", "anon", "/login"),
]

DEFAULT_DB = "postgresql+psycopg://root@127.0.0.1:5432/zarts_bench"
PASSWORD = "bench-password-123"


# ---------------------------------------------------------------------------------------------
# HTTP with a cookie, on http.client
# ---------------------------------------------------------------------------------------------
class Client:
    def __init__(self, base_url: str, cookies: dict | None = None, timeout: float = 60):
        u = urllib.parse.urlsplit(base_url)
        self.host, self.port = u.hostname, u.port or 80
        self.timeout = timeout
        self.cookies = dict(cookies or {})
        self.conn = None

    def _connection(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.conn

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes, dict]:
        headers = {"Accept": "text/html"}
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
    m = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body) or \
        re.search(rb'value="([^"]+)"[^>]*name="csrf_token"', body)
    if status != 200 or not m:
        raise SystemExit(f"GET /login answered {status} without a csrf_token input")
    status, body, _ = c.request("POST", "/login", {"email": email, "password": password,
                                                         "csrf_token": m.group(1).decode()})
    if status not in (302, 303):
        raise SystemExit(f"sign-in as {email} failed: {status} {body[:200]!r}")
    c.close()
    return c.cookies


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
        return "sqlite:///" + os.path.abspath(url[len("sqlite:///"):])
    return url


def start_server(db_url: str, port: int, workers: int, log_path: str):
    env = dict(os.environ, DATABASE_URL=absolute_db_url(db_url),
               SECRET_KEY=os.environ.get("SECRET_KEY", "bench-secret-key-not-for-production"))
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    with open(log_path, "w") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([gunicorn, "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "120",
                                 "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
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
    return {"n": len(lat), "p50_ms": round(pct(lat, 50) * 1000, 1), "p95_ms": round(pct(lat, 95) * 1000, 1),
            "max_ms": round(max(lat) * 1000, 1) if lat else None,
            "mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else None,
            "rps": round(len(lat) / elapsed, 1) if elapsed > 0 else None}


def sequential(base: str, cookies: dict, endpoints, requests: int, warmup: int, measure_errors: bool):
    results = []
    for name, who, path in endpoints:
        client = Client(base, cookies.get(who))
        try:
            status, body, headers = client.request("GET", path)
        except OSError as exc:
            results.append({"name": name, "path": path, "who": who, "status": f"error: {exc}"})
            continue
        row = {"name": name, "path": path, "who": who, "status": status, "bytes": len(body)}
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
        client.close()
        results.append(row)
        print(f"  {name:<32} {status} p50 {row['p50_ms']} ms  p95 {row['p95_ms']} ms", flush=True)
    return results


def concurrent(base: str, cookies: dict, endpoints, threads: int, duration: float):
    lat_by = defaultdict(list)
    errors = Counter()
    stop = time.perf_counter() + duration
    lock = threading.Lock()

    def worker(k: int):
        clients = {who: Client(base, cookies.get(who)) for who in ("staff", "client", "anon")}
        i = k
        local_lat, local_err = defaultdict(list), Counter()
        while time.perf_counter() < stop:
            name, who, path = endpoints[i % len(endpoints)]
            i += 1
            t = time.perf_counter()
            try:
                st, _, _ = clients[who].request("GET", path)
                dt = time.perf_counter() - t
                if st >= 400:
                    local_err[f"{name}: {st}"] += 1
                else:
                    local_lat[name].append(dt)
            except OSError as exc:
                local_err[f"{name}: {type(exc).__name__}"] += 1
                clients[who].close()
        with lock:
            for n, v in local_lat.items():
                lat_by[n].extend(v)
            errors.update(local_err)

    t0 = time.perf_counter()
    ths = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    elapsed = time.perf_counter() - t0
    all_lat = [x for v in lat_by.values() for x in v]
    out = {"threads": threads, "duration_s": round(elapsed, 1), "errors": sum(errors.values()),
           "error_kinds": dict(errors), **summarize(all_lat, elapsed),
           "per_endpoint": {n: summarize(v, elapsed) for n, v in sorted(lat_by.items())}}
    return out


def print_table(rows, title: str) -> None:
    print(f"\n{title}")
    head = f"{'endpoint':<32} {'status':>12} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'req/s':>7} {'KB':>6}"
    print(head)
    print("-" * len(head))
    def f(r, k):
        v = r.get(k)
        return "" if v is None else str(v)

    for r in rows:
        kb = f"{r['bytes'] / 1024:.0f}" if r.get("bytes") is not None else ""
        print(f"{r['name']:<32} {r['status']!s:>12} {f(r, 'p50_ms'):>8} {f(r, 'p95_ms'):>8} "
              f"{f(r, 'max_ms'):>8} {f(r, 'rps'):>7} {kb:>6}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", default=DEFAULT_DB)
    ap.add_argument("--meta", default=os.path.join(ROOT, "bench", "data", "meta.json"))
    ap.add_argument("--base-url", help="benchmark a server that is already running (no gunicorn start)")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--concurrency", type=int, default=0, help="threads for the mixed run (0: skip it)")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of the mixed run")
    ap.add_argument("--only", action="append", default=[], help="endpoints whose name contains this")
    ap.add_argument("--measure-errors", action="store_true", help="time 4xx/5xx endpoints too")
    ap.add_argument("--staff-email", default="ops@zarts.test")
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv)

    with open(args.meta) as fh:
        meta = json.load(fh)
    endpoints = []
    for name, who, path in ENDPOINTS:
        if args.only and not any(w.lower() in name.lower() for w in args.only):
            continue
        try:
            endpoints.append((name, who, path.format(**meta)))
        except KeyError as exc:
            print(f"  skipping {name}: meta.json has no {exc}")

    proc = None
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    try:
        if args.base_url:
            base = args.base_url.rstrip("/")
        else:
            port = args.port or free_port()
            proc, base = start_server(args.database_url, port, args.workers,
                                      os.path.join(ROOT, "bench", "results", "gunicorn.log"))
            print(f"gunicorn -w {args.workers} on {base} against {args.database_url}")
        cookies = {"anon": {}, "staff": sign_in(base, args.staff_email, PASSWORD)}
        client_email = meta.get("client_contact_email")
        if any(who == "client" for _, who, _ in endpoints) and client_email:
            cookies["client"] = sign_in(base, client_email, PASSWORD)

        print(f"\nsequential: {args.warmup} warm-up + {args.requests} timed requests per endpoint")
        seq = sequential(base, cookies, endpoints, args.requests, args.warmup, args.measure_errors)
        print_table(seq, f"Sequential ({meta.get('leads'):,} leads, {args.workers} gunicorn workers)")

        conc = None
        if args.concurrency:
            ok = [e for e, r in zip(endpoints, seq) if isinstance(r["status"], int) and r["status"] < 300]
            if not ok:
                print("\nno endpoint answered 2xx: concurrent run skipped")
            else:
                print(f"\nconcurrent: {args.concurrency} threads, {args.duration:.0f} s, "
                      f"mixed over {len(ok)} endpoints")
                conc = concurrent(base, cookies, ok, args.concurrency, args.duration)
                rows = [{"name": n, "status": "", **s} for n, s in conc["per_endpoint"].items()]
                rows.append({"name": "ALL", "status": f"{conc['errors']} err", **{k: conc[k] for k in (
                    "p50_ms", "p95_ms", "max_ms", "rps")}})
                print_table(rows, f"Concurrent ({args.concurrency} threads)")
                if conc["error_kinds"]:
                    print("errors:", conc["error_kinds"])
    finally:
        stop_server(proc)

    if not args.no_save:
        path = os.path.join(ROOT, "bench", "results", f"{datetime.now(UTC):%Y-%m-%d}.json")
        runs = []
        if os.path.exists(path):
            with open(path) as fh:
                runs = json.load(fh).get("runs", [])
        git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
        runs.append({"at": datetime.now(UTC).isoformat(timespec="seconds"),
                     "commit": git.stdout.strip(), "database_url": args.database_url if not args.base_url
                     else None, "base_url": args.base_url, "leads": meta.get("leads"),
                     "workers": args.workers, "requests": args.requests, "warmup": args.warmup,
                     "sequential": seq, "concurrent": conc})
        with open(path, "w") as fh:
            json.dump({"runs": runs}, fh, indent=2)
        print(f"\nresults appended to {os.path.relpath(path, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
