#!/usr/bin/env python
"""Where a page's time goes: SQL, ORM, rendering, request set-up, our own code (issue 22).

    python bench/profile_pages.py                         # the five heaviest pages, zarts_bench
    python bench/profile_pages.py --only board --requests 50

In-process (Flask test client, signed in through Flask-Login's session keys, as bench/search_bench.py
does), so the figures are the app's own work without HTTP or gunicorn. Per page: WARMUP requests,
then REQUESTS timed ones: the median wall time, then one cProfile run over REQUESTS requests whose
own time (tottime) is summed by where the code lives:

- sql: waiting on PostgreSQL and the driver (psycopg) — the statements themselves;
- orm: SQLAlchemy (compiling statements, loading rows into objects, the unit of work);
- render: Jinja (our templates' compiled code, the environment and its filters, markupsafe);
- forms/admin: WTForms and Flask-Admin (form and filter building, list helpers);
- setup: Flask, Werkzeug, Flask-Login, Flask-WTF, itsdangerous, blinker (routing, sessions,
  cookies, CSRF, signals — what every request pays);
- app: zarts itself; other: the standard library and the rest.

Shares are of the profiled time (cProfile slows pure-Python code more than waiting, so `sql` is
understated there); the median wall time is unprofiled. Results go to stdout and, with --save, to
bench/results/<YYYY-MM-DD>.json (name "profile").
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from datetime import UTC, datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import sqlalchemy as sa  # noqa: E402

DEFAULT_DB = "postgresql+psycopg://root@127.0.0.1:5432/zarts_bench"
PAGES = [  # (name, user email or "client", path with {meta} placeholders)
    ("workspace board", "ops@zarts.test", "/workspace/"),
    ("workspace lead page (200 ev)", "ops@zarts.test", "/workspace/leads/{designated_lead_id}"),
    ("workspace my tasks", "ops@zarts.test", "/workspace/tasks"),
    ("workspace approvals", "approver@zarts.test", "/workspace/approvals"),
    ("workspace dashboard", "ops@zarts.test", "/workspace/dashboard"),
    ("admin lead list p1", "ops@zarts.test", "/admin/leads/"),
    ("admin lead stage filter", "ops@zarts.test", "/admin/leads/?flt0_0=proposal"),
    ("admin task list", "ops@zarts.test", "/admin/tasks/"),
]
GROUPS = (
    ("sql", ("psycopg", "method 'execute' of", "connection.py", "waiting")),
    ("orm", ("sqlalchemy",)),
    ("render", ("jinja2", "markupsafe", ".html")),
    ("forms/admin", ("wtforms", "flask_admin")),
    ("setup", ("flask/", "flask_login", "flask_wtf", "werkzeug", "itsdangerous", "blinker", "flask_limiter")),
    ("app", ("/zarts/",)),
)


def group_of(filename: str, name: str) -> str:
    where = f"{filename} {name}"
    if "psycopg" in where or "{method 'execute'" in where or "select.poll" in where or "_socket" in where:
        return "sql"
    for group, marks in GROUPS[1:]:
        if any(m in where for m in marks):
            return group
    return "other"


def sign_in(app, client, email: str) -> None:
    from zarts.extensions import db
    from zarts.models import User

    with client.session_transaction() as s:
        with app.app_context():
            user = db.session.execute(sa.select(User).where(User.email == email)).scalar_one()
            s["_user_id"] = user.get_id()
            db.session.remove()
        s["_fresh"] = True


def profile_page(app, email: str, path: str, requests: int, warmup: int) -> dict:
    client = app.test_client()
    sign_in(app, client, email)
    for _ in range(warmup):
        assert client.get(path).status_code == 200, path
    times = []
    for _ in range(requests):
        t0 = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - t0) * 1000)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(path)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    groups: dict[str, float] = {}
    total = 0.0
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.items():
        g = group_of(filename, name)
        groups[g] = groups.get(g, 0.0) + tottime
        total += tottime
    share = {g: round(100 * t / total, 1) for g, t in sorted(groups.items(), key=lambda x: -x[1])}
    return {"p50_ms": round(statistics.median(times), 1), "share_pct": share}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", default=DEFAULT_DB)
    ap.add_argument("--meta", default=os.path.join(ROOT, "bench", "data", "meta.json"))
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--note", default="")
    ap.add_argument("--save", action="store_true")
    args = ap.parse_args(argv)
    with open(args.meta) as fh:
        meta = json.load(fh)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("SECRET_KEY", "bench-secret")
    from zarts import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "REDIS_URL": None, "TESTING": False})
    results = []
    print(f"{'page':32} {'p50 ms':>7}  where the profiled time goes (%)")
    for name, email, path in PAGES:
        if args.only and not any(o in name for o in args.only):
            continue
        r = profile_page(app, email, path.format(**meta), args.requests, args.warmup)
        results.append({"page": name, "path": path, **r})
        print(
            f"{name:32} {r['p50_ms']:7.1f}  " + "  ".join(f"{g} {p}" for g, p in r["share_pct"].items()),
            flush=True,
        )
    if args.save:
        out = os.path.join(ROOT, "bench", "results", f"{datetime.now(UTC).date().isoformat()}.json")
        data = {"runs": []}
        if os.path.exists(out):
            with open(out) as fh:
                data = json.load(fh)
        data.setdefault("runs", []).append(
            {
                "name": "profile",
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "database": args.database_url,
                "note": args.note,
                "pages": results,
            }
        )
        with open(out, "w") as fh:
            json.dump(data, fh, indent=2)
        print(f"appended to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
