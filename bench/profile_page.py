#!/usr/bin/env python
"""Where a page's time goes: every SQL statement it runs, with its duration, and the rest (Python).

    python bench/profile_page.py /admin/leads/?search=Northwind
    python bench/profile_page.py /workspace/ --repeat 20                 # median of 20 runs
    python bench/profile_page.py /portal/ --as client1@bench.test
    python bench/profile_page.py /workspace/dashboard --explain          # EXPLAIN (ANALYZE, BUFFERS) of each
    python bench/profile_page.py /portal/reports --cprofile 50           # where the Python time goes
    PROFILE_CUM=150 python bench/profile_page.py /admin/leads/ --cprofile 50   # ... with 150 cumulative lines
    python bench/profile_page.py /workspace/leads/500000/move --post stage=audit --post version=7

In-process (Flask test client, no HTTP server): the app is created against --database-url, the user
is signed in through Flask-Login's test helper, and the request is run --repeat times. Reported:
request time (median), time spent in SQL (sum of statement times), and each statement of the last
run with its time. With --explain, each SELECT of the last run is re-run under EXPLAIN ANALYZE.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path")
    ap.add_argument("--database-url", default="postgresql+psycopg://root@127.0.0.1:5432/zarts_bench")
    ap.add_argument("--as", dest="email", default="ops@zarts.test")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--post", action="append", default=[], help="form field name=value (POST instead of GET)")
    ap.add_argument("--htmx", action="store_true", help="send HX-Request: true")
    ap.add_argument("--explain", action="store_true")
    ap.add_argument(
        "--cprofile",
        type=int,
        metavar="N",
        default=0,
        help="after the timed runs, N more under cProfile: the top functions by own time",
    )
    ap.add_argument("--sql-chars", type=int, default=400, help="characters of each statement to print")
    ap.add_argument("--save-body", metavar="FILE", help="write the last response's body to FILE")
    args = ap.parse_args(argv)

    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("SECRET_KEY", "bench-profile")
    os.environ.pop("REDIS_URL", None)
    import sqlalchemy as sa

    from zarts import create_app
    from zarts.extensions import db
    from zarts.models import User

    app = create_app()
    app.config.update(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    from zarts.runtime import WEB_THRESHOLD, collect_after_response, freeze_start_up

    app.wsgi_app = collect_after_response(app.wsgi_app)  # as wsgi.py does in the web workers
    freeze_start_up(WEB_THRESHOLD)
    stmts: list[tuple[str, dict, float]] = []
    started: dict[int, float] = {}

    with app.app_context():
        engine = db.engine

        @sa.event.listens_for(engine, "before_cursor_execute")
        def _before(conn, cursor, statement, params, context, executemany):
            started[id(cursor)] = time.perf_counter()

        @sa.event.listens_for(engine, "after_cursor_execute")
        def _after(conn, cursor, statement, params, context, executemany):
            stmts.append(
                (statement, params, time.perf_counter() - started.pop(id(cursor), time.perf_counter()))
            )

        user = db.session.execute(sa.select(User).where(User.email == args.email)).scalar_one()
        token = f"{user.id}:{user.session_token}"
        db.session.remove()

    client = app.test_client()
    with client.session_transaction() as s:
        s["_user_id"] = token
        s["_fresh"] = True
    form = dict(p.split("=", 1) for p in args.post)
    headers = {"HX-Request": "true"} if args.htmx else {}
    times, sql_times = [], []
    for _ in range(args.repeat):
        stmts.clear()
        t = time.perf_counter()
        resp = (
            client.post(args.path, data=form, headers=headers)
            if form
            else client.get(args.path, headers=headers)
        )
        times.append(time.perf_counter() - t)
        sql_times.append(sum(d for _, _, d in stmts))
    print(
        f"{'POST' if form else 'GET'} {args.path} as {args.email}: {resp.status_code}, {len(resp.data)} bytes"
    )
    if args.save_body:
        with open(args.save_body, "wb") as fh:
            fh.write(resp.data)
    print(
        f"request median {statistics.median(times) * 1000:.1f} ms (min {min(times) * 1000:.1f}), "
        f"SQL median {statistics.median(sql_times) * 1000:.1f} ms, {len(stmts)} statements"
    )
    for i, (sql, _, d) in enumerate(stmts, 1):
        flat = " ".join(sql.split())
        print(f"  {i:>2}. {d * 1000:7.2f} ms  {flat[: args.sql_chars]}")
    if args.cprofile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.cprofile):
            client.post(args.path, data=form, headers=headers) if form else client.get(
                args.path, headers=headers
            )
        prof.disable()
        print(f"\ncProfile of {args.cprofile} requests (milliseconds are totals over all of them):")
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(int(os.environ.get("PROFILE_CUM", 40)))
        if os.environ.get("PROFILE_DUMP"):
            prof.dump_stats(os.environ["PROFILE_DUMP"])
    if args.explain:
        with app.app_context(), db.engine.connect() as conn:
            for i, (sql, params, _) in enumerate(stmts, 1):
                if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                    continue
                cursor = conn.connection.driver_connection.cursor()
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                print(f"\n--- {i}. " + " ".join(sql.split())[: args.sql_chars])
                for (line,) in cursor.fetchall():
                    print("   ", line)
            conn.rollback()
    return 0


if __name__ == "__main__":
    sys.exit(main())
