#!/usr/bin/env python
"""Time the workspace's global search (/workspace/search) on a large PostgreSQL database.

    python bench/search_bench.py --seed 1000000          # (re)make zarts_bench_search, then time
    python bench/search_bench.py                         # time an existing zarts_bench_search
    python bench/search_bench.py --database-url postgresql+psycopg://root@127.0.0.1:5432/zarts_bench

`--seed N` builds a database of N leads and what the search reads besides them (N/50 clients and
projects, 2N tasks, N/4 messages), with the company names and contacts of bench/seed.py (so the
terms mean the same on both: "Northwind" is in 1.6 % of the leads), and the search's lexicon of
words (search_words) filled from them as the migration fills it. The tables are created from the
models (create_all: every index the models declare, the trigram ones included), loaded with COPY
with their secondary indexes dropped, then indexed and ANALYZEd. Only the search's tables: the full
bench/seed.py set works as well (`--database-url` of its database).

Timing: the search's fragment (what the search box asks for as you type, HX-Request) and its full
page, in-process (Flask test client, signed in as a growth-ops user through Flask-Login's session
keys): per term WARMUP requests, then REQUESTS timed ones → p50 / p95 / max, against the target
(p95 ≤ 30 ms). Terms: a common company word, a rare one (one lead's email), a common and a rare
typo, two words, a task and a message word. Results: a table on stdout and a run appended to
bench/results/<YYYY-MM-DD>.json (name "search").
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for path in (ROOT, os.path.join(ROOT, "bench")):
    if path not in sys.path:
        sys.path.insert(0, path)

import sqlalchemy as sa  # noqa: E402

from seed import CO_A, company_of, contact_of, service_of  # noqa: E402

DEFAULT_DB = "postgresql+psycopg://root@127.0.0.1:5432/zarts_bench_search"
ADMIN_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"
TARGET_MS = 30
WARMUP, REQUESTS = 10, 100
STAFF = [
    (1, "admin@zarts.test", "Admin", "admin"),
    (2, "ops@zarts.test", "Ops Person", "growth_ops"),
    (3, "approver@zarts.test", "Approver", "approver"),
    (4, "delivery@zarts.test", "Delivery", "delivery"),
] + [(k, f"ops{k}@zarts.test", f"Ops Person {k}", "growth_ops") for k in range(5, 13)]
OPS_IDS = [2] + list(range(5, 13))
TASK_TITLES = (
    "Follow up with {first} at {company}",
    "Send the audit summary to {company}",
    "Call {first} about the proposal",
    "Book the discovery call with {company}",
    "Chase the signed contract from {company}",
)
SUBJECTS = (
    "Proposal for {company}",
    "Re: proposal for {company}",
    "Call notes: {company}",
    "Kickoff with {company}",
    "Question about the audit",
)


def terms(n_leads: int) -> list[tuple[str, str]]:
    rare_lead = max(1, n_leads // 2)
    first, last = contact_of(rare_lead)[0].lower().split(" ", 1)
    return [
        ("common word", CO_A[0]),  # Northwind: 1.6 % of the leads
        ("common word, lower case", CO_A[1].lower()),
        ("rare (one lead's email)", f"{first}.{last}.{rare_lead}"),
        ("common typo", "Nortwind"),
        ("rare typo", f"{last[:-1]}{last[-1]}x {rare_lead}"),
        ("two words", f"{CO_A[2]} Dental"),
        ("two-word typo", f"{CO_A[2][:3]}{CO_A[2][4:]} Dentl"),  # "Cedr Dentl"
        ("a task word", "discovery call"),
        ("a message word", "kickoff"),
        ("nothing matches", "zzyzxq"),
    ]


# ---------------------------------------------------------------- seeding


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def rows_users():
    now = _ts(datetime(2026, 1, 1))
    for uid, email, name, role in STAFF:
        yield (uid, email, name, role, None, None, True, f"{uid:032x}", None, now, now)


USER_COLS = (
    "id",
    "email",
    "name",
    "role",
    "client_id",
    "password_hash",
    "active",
    "session_token",
    "last_login_at",
    "created_at",
    "updated_at",
)
LEAD_COLS = (
    "id",
    "title",
    "company",
    "contact_name",
    "contact_email",
    "source",
    "service",
    "stage",
    "consent",
    "reactivation_never",
    "owner_id",
    "version",
    "created_at",
    "updated_at",
)
CLIENT_COLS = ("id", "name", "status", "owner_id", "report_cadence", "version", "created_at", "updated_at")
PROJECT_COLS = (
    "id",
    "name",
    "client_id",
    "lead_id",
    "service",
    "status",
    "scope_snapshot",
    "payment_state",
    "contract_state",
    "client_text_status",
    "version",
    "created_at",
    "updated_at",
)
TASK_COLS = (
    "id",
    "kind",
    "title",
    "owner_id",
    "due",
    "done_at",
    "lead_id",
    "client_visible",
    "version",
    "created_at",
    "updated_at",
)
MESSAGE_COLS = (
    "id",
    "lead_id",
    "client_id",
    "direction",
    "channel",
    "subject",
    "body",
    "client_visible",
    "email_status",
    "sent_at",
    "created_at",
    "updated_at",
)
OPEN = ("new", "qualified", "discovery", "audit", "proposal", "contract")


def seed(url: str, n: int, today: date) -> dict:
    import psycopg

    from zarts.models import Base
    from zarts.models.search_words import backfill_sql

    name = sa.engine.make_url(url).database
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    Base.metadata.create_all(engine)
    tables = ("users", "leads", "clients", "projects", "tasks", "messages")
    recreate = []
    with engine.begin() as conn:
        for t in tables:
            for index in Base.metadata.tables[t].indexes:
                recreate.append(str(sa.schema.CreateIndex(index).compile(dialect=engine.dialect)))
                conn.execute(sa.text(f'DROP INDEX IF EXISTS "{index.name}"'))
    engine.dispose()

    rng = random.Random(42)
    now = datetime(today.year, today.month, today.day, 12)
    n_clients = max(1, n // 50)
    started = time.perf_counter()
    counts = {}

    def leads():
        for i in range(1, n + 1):
            contact, email = contact_of(i)
            company = company_of(i)
            t = _ts(now - timedelta(days=rng.randint(0, 900)))
            yield (
                i,
                f"{service_of(i).replace('_', ' ').title()} for {company}",
                company,
                contact,
                email,
                rng.choice(("referral", "website", "outbound", "event")),
                service_of(i),
                rng.choice(OPEN),
                "granted",
                False,
                rng.choice(OPS_IDS),
                1,
                t,
                t,
            )

    def clients():
        for k in range(1, n_clients + 1):
            yield (k, company_of(k * 50), "active", rng.choice(OPS_IDS), "monthly", 1, _ts(now), _ts(now))

    def projects():
        for k in range(1, n_clients + 1):
            lead = k * 50
            yield (
                k,
                f"{company_of(lead)} — {service_of(lead).replace('_', ' ')}",
                k,
                lead,
                service_of(lead),
                "active",
                "{}",
                "paid",
                "signed",
                "none",
                1,
                _ts(now),
                _ts(now),
            )

    def tasks():
        tid = 0
        for i in range(1, n + 1):
            first = contact_of(i)[0].split(" ")[0]
            for _ in range(2):
                tid += 1
                due = today + timedelta(days=rng.randint(-30, 30))
                done = _ts(now - timedelta(days=rng.randint(0, 30))) if rng.random() < 0.5 else None
                yield (
                    tid,
                    "follow_up",
                    rng.choice(TASK_TITLES).format(first=first, company=company_of(i)),
                    rng.choice(OPS_IDS),
                    due.isoformat(),
                    done,
                    i,
                    False,
                    1,
                    _ts(now),
                    _ts(now),
                )

    def messages():
        for k in range(1, n // 4 + 1):
            lead = k * 4
            client = (lead // 50) if lead % 50 == 0 else None
            t = _ts(now - timedelta(days=rng.randint(0, 300)))
            yield (
                k,
                lead,
                client,
                rng.choice(("outbound", "inbound", "internal")),
                "email",
                rng.choice(SUBJECTS).format(company=company_of(lead)),
                "Thanks for the call today.",
                client is not None and rng.random() < 0.5,
                "none",
                t,
                t,
                t,
            )

    plan = [
        ("users", USER_COLS, rows_users()),
        ("clients", CLIENT_COLS, clients()),
        ("leads", LEAD_COLS, leads()),
        ("projects", PROJECT_COLS, projects()),
        ("tasks", TASK_COLS, tasks()),
        ("messages", MESSAGE_COLS, messages()),
    ]
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("SET session_replication_role = replica")  # no FK triggers while loading
        conn.execute("SET synchronous_commit = off")
        for table, cols, rows in plan:
            t0 = time.perf_counter()
            count = 0
            with conn.cursor().copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            counts[table] = count
            print(f"  {table}: {count:,} rows in {time.perf_counter() - t0:.1f} s", flush=True)
        conn.commit()
        conn.execute("SET session_replication_role = DEFAULT")
        t0 = time.perf_counter()
        for statement in recreate:
            conn.execute(statement)
        conn.execute("ALTER INDEX ix_leads_search_trgm ALTER COLUMN 1 SET STATISTICS 250")
        for table in tables:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        conn.commit()
        print(f"  indexes: {len(recreate)} in {time.perf_counter() - t0:.1f} s", flush=True)
        t0 = time.perf_counter()
        conn.execute(
            backfill_sql()
        )  # the search's lexicon (zarts.models.search_words), as the migration fills it
        counts["search_words"] = conn.execute("SELECT count(*) FROM search_words").fetchone()[0]
        conn.commit()
        print(
            f"  search_words: {counts['search_words']:,} words in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE)")
    return {"leads": n, "rows": counts, "seconds": round(time.perf_counter() - started, 1)}


# ---------------------------------------------------------------- timing


def measure(url: str, n_leads: int, requests: int, warmup: int) -> list[dict]:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-secret")
    from zarts import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "TESTING": False})
    client = app.test_client()
    with client.session_transaction() as s:
        with app.app_context():
            from zarts.extensions import db
            from zarts.models import User

            user = db.session.execute(sa.select(User).where(User.email == "ops@zarts.test")).scalar_one()
            s["_user_id"] = user.get_id()
            db.session.remove()
        s["_fresh"] = True
    results = []
    for label, term in terms(n_leads):
        for kind, headers in (("fragment", {"HX-Request": "true"}), ("page", {})):
            url_path = "/workspace/search?q=" + term.replace(" ", "+")
            times, found = [], 0
            for k in range(warmup + requests):
                t0 = time.perf_counter()
                resp = client.get(url_path, headers=headers)
                elapsed = (time.perf_counter() - t0) * 1000
                assert resp.status_code == 200, (url_path, resp.status_code)
                if k >= warmup:
                    times.append(elapsed)
                found = resp.get_data(as_text=True).count(
                    'role="option"' if kind == "fragment" else 'class="search-result'
                )
            times.sort()
            results.append(
                {
                    "term": label,
                    "q": term,
                    "kind": kind,
                    "results": found,
                    "p50_ms": round(statistics.median(times), 1),
                    "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
                    "max_ms": round(times[-1], 1),
                    "target_p95_ms": TARGET_MS,
                }
            )
            r = results[-1]
            flag = "ok" if r["p95_ms"] <= TARGET_MS else "SLOW"
            print(
                f"  {label:26} {kind:8} {r['results']:3} results  p50 {r['p50_ms']:6.1f}  "
                f"p95 {r['p95_ms']:6.1f}  max {r['max_ms']:6.1f} ms  {flag}",
                flush=True,
            )
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", default=DEFAULT_DB)
    ap.add_argument(
        "--seed", type=int, metavar="LEADS", help="(re)make the database with this many leads first"
    )
    ap.add_argument("--leads", type=int, help="how many leads the database has (default: counted)")
    ap.add_argument("--requests", type=int, default=REQUESTS)
    ap.add_argument("--warmup", type=int, default=WARMUP)
    ap.add_argument("--note", default="")
    ap.add_argument("--seed-only", action="store_true", help="seed, do not time")
    args = ap.parse_args(argv)
    today = datetime.now(UTC).date()
    seeded = None
    if args.seed:
        print(f"seeding {args.seed:,} leads into {args.database_url}", flush=True)
        seeded = seed(args.database_url, args.seed, today)
        print(f"seeded in {seeded['seconds']} s", flush=True)
        if args.seed_only:
            return 0
    n_leads = args.leads or args.seed
    if not n_leads:
        engine = sa.create_engine(args.database_url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            n_leads = conn.execute(sa.text("SELECT max(id) FROM leads")).scalar() or 0
        engine.dispose()
    print(f"timing /workspace/search at {n_leads:,} leads ({args.requests} requests per term)", flush=True)
    results = measure(args.database_url, n_leads, args.requests, args.warmup)
    worst = max(r["p95_ms"] for r in results)
    print(f"worst p95 {worst} ms (target {TARGET_MS} ms): {'met' if worst <= TARGET_MS else 'NOT met'}")
    out_dir = os.path.join(ROOT, "bench", "results")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{today.isoformat()}.json")
    runs = []
    if os.path.exists(path):
        with open(path) as f:
            runs = json.load(f).get("runs", [])
    runs.append(
        {
            "name": "search",
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": sa.engine.make_url(args.database_url).render_as_string(hide_password=True),
            "leads": n_leads,
            "seeded": seeded,
            "note": args.note,
            "results": results,
            "worst_p95_ms": worst,
        }
    )
    with open(path, "w") as f:
        json.dump({"runs": runs}, f, indent=2)
    print(f"appended to {os.path.relpath(path, ROOT)}")
    return 0 if worst <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
