#!/usr/bin/env python
"""The spreadsheet import at volume: N rows through zarts.domain.imports with duplicate checks.

    python bench/import_bench.py                              # 100,000 rows on a scratch PostgreSQL DB
    python bench/import_bench.py --rows 20000 --existing 50000
    python bench/import_bench.py --database-url postgresql+psycopg://root@127.0.0.1:5432/zarts_bench_import

The database (default `zarts_import_bench`, created if missing; its schema from the models) gets
`--existing` plain leads first (COPY; for a big load the leads' indexes are dropped and rebuilt
after; skipped when that many exist), so every batch's duplicate look-ups (email, email domain,
company) probe indexes of a populated table and every insert pays for indexes of that size. The CSV
has `--rows` rows: ~5% duplicate an existing lead by email, ~1% are invalid (unknown service), the
rest are new companies (named per run, so a second run on the same database imports them anew);
~30% carry a next action with a due date (a task each), ~25% withdrawn consent (a pause each).

Timed: the upload (copy, encoding check and the count/formula scan), then run_import as the job runs
it (one process, batches of imports.BATCH, a commit each). Reported: seconds, rows per second, the
seconds spent writing the new leads, events and tasks (ids + COPY, i.e. PostgreSQL's side), the
RSS after each batch (flat memory: it stops growing after the first batches whatever N is) and
the peak RSS (ru_maxrss). `--save` adds the run (name "import") to bench/results/<today>.json;
`--profile N` prints the main thread's N costliest functions. Target (issue 18): 100,000 rows in
≤ 60 s on one worker, at 1M leads.

    python bench/import_bench.py --database-url postgresql+psycopg://root@127.0.0.1:5432/zarts_import_1m \
        --rows 100000 --existing 1000000 --save
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import sqlalchemy as sa  # noqa: E402

ADMIN_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ensure_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def seed(db, existing: int, owner_id: int) -> None:
    """`existing` plain leads (new, unique company and email each), loaded with COPY. When many are
    missing, the leads' secondary indexes are dropped first and rebuilt after (as bench/seed.py does):
    built whole, the trigram index takes a minute at 1M rather than the many a row-by-row load takes."""
    from psycopg import sql

    from zarts.models import Lead
    from zarts.models.keys import company_key, email_domain, email_key

    have = db.session.scalar(sa.select(sa.func.count()).select_from(Lead))
    db.session.commit()  # no open read of leads while their indexes are dropped below
    if have >= existing:
        return
    engine = db.engine
    rebuild = existing - have > 50_000
    if rebuild:
        with engine.begin() as conn:
            for index in Lead.__table__.indexes:
                conn.execute(sa.text(f"DROP INDEX IF EXISTS {index.name}"))
    columns = (
        "title",
        "company",
        "contact_email",
        "source",
        "service",
        "stage",
        "consent",
        "owner_id",
        "company_key",
        "email_key",
        "email_domain",
        "reactivation_never",
        "version",
        "created_at",
        "updated_at",
        "probability",
    )
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        statement = sql.SQL("COPY leads ({}) FROM STDIN").format(
            sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for i in range(have, existing):
                company, email = f"Seeded {i} GmbH", f"lead{i}@seeded{i}.de"
                copy.write_row(
                    (
                        company,
                        company,
                        email,
                        "referral",
                        "seo",
                        "new",
                        "unknown",
                        owner_id,
                        company_key(company),
                        email_key(email),
                        email_domain(email),
                        False,
                        1,
                        now,
                        now,
                        5,
                    )
                )
    if rebuild:
        for index in Lead.__table__.indexes:
            with engine.begin() as conn:
                index.create(conn, checkfirst=True)
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE leads"))


def make_csv(rows: int, existing: int, tag: str) -> bytes:
    """`tag` makes this run's new companies new (a second run on the same database is not all duplicates)."""
    rnd = random.Random(18)
    out = io.StringIO()
    out.write("Company,E-mail,Contact,Phone,Service,Value,Currency,Next action,Due,Consent\n")
    for i in range(rows):
        roll = rnd.random()
        if roll < 0.05 and existing:
            j = rnd.randrange(existing)
            company, email = f"Seeded {j} GmbH", f"lead{j}@seeded{j}.de"
        else:
            company, email = f"Imported {tag}-{i} Ltd", f"contact{i}@imported{tag}-{i}.com"
        service = "Plumbing" if roll > 0.99 else rnd.choice(["SEO", "Paid media", "Analytics", "Content"])
        action, due = ("Call back", "2999-01-15") if rnd.random() < 0.3 else ("", "")
        consent = rnd.choice(["yes", "", "", "withdrawn"])
        out.write(
            f"{company},{email},Person {i},+49 30 {i:07d},{service},{rnd.randrange(1, 90) * 500},EUR,"
            f"{action},{due},{consent}\n"
        )
    return out.getvalue().encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=ADMIN_URL.rsplit("/", 1)[0] + "/zarts_import_bench")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--existing", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=None, help="rows per batch (default imports.BATCH)")
    parser.add_argument("--profile", type=int, default=0, help="print the N functions with most own time")
    parser.add_argument("--note", default="")
    parser.add_argument("--save", action="store_true", help="add the run to bench/results/<today>.json")
    args = parser.parse_args()
    ensure_database(args.database_url)

    from zarts import create_app
    from zarts.domain import imports, unit
    from zarts.extensions import db
    from zarts.models import Lead, User

    folder = tempfile.mkdtemp(prefix="zarts-import-bench-")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": args.database_url,
            "REDIS_URL": None,
            "IMPORT_FOLDER": folder,
            "JOBS_RELAY_AFTER_COMMIT": False,
            "IMPORT_MAX_ROWS": max(args.rows, 200_000),
        }
    )
    with app.app_context():
        db.create_all()
        owner = db.session.scalar(sa.select(User).where(User.email == "import-bench@zarts.test"))
        if owner is None:
            owner = User(email="import-bench@zarts.test", name="Import Bench", role="growth_ops")
            db.session.add(owner)
            db.session.commit()
        t = time.perf_counter()
        seed(db, args.existing, owner.id)
        seeded = time.perf_counter() - t
        content = make_csv(args.rows, args.existing, tag=time.strftime("%H%M%S"))
        existing = db.session.scalar(sa.select(sa.func.count()).select_from(Lead))
        db.session.commit()
        before = rss_mb()

        t = time.perf_counter()
        with unit(db.session):
            job = imports.start_import(
                db.session,
                owner,
                kind="leads",
                filename="bench.csv",
                stream=io.BytesIO(content),
                folder=folder,
                max_bytes=len(content) + 1,
                max_rows=args.rows,
            )
        del content
        uploaded = time.perf_counter() - t
        with unit(db.session):
            imports.set_mapping(
                db.session,
                job,
                owner,
                job.version,
                mapping=job.mapping,
                options={"source": "event", "source_context": "Import bench"},
            )
            imports.confirm_import(db.session, job, owner, job.version, {})
        job_id = job.id
        db.session.remove()

        t = time.perf_counter()
        from zarts.jobs.runner import new_session

        session = new_session(expire_on_commit=False)
        options = {"batch_size": args.batch} if args.batch else {}
        rss_start = current_rss_mb()
        batches, inserts = [], []  # RSS after each batch (flat memory: it stops growing), seconds in COPY
        real_batch, real_insert = imports._run_batch, imports._insert_leads

        def run_batch(*a, **kw):
            real_batch(*a, **kw)
            batches.append(round(current_rss_mb()))

        def insert_leads(*a, **kw):
            t0 = time.perf_counter()
            real_insert(*a, **kw)
            inserts.append(time.perf_counter() - t0)

        imports._run_batch, imports._insert_leads = run_batch, insert_leads
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        result = imports.run_import(session, job_id, folder=folder, **options)
        if profiler is not None:
            profiler.disable()
        rss_end = current_rss_mb()
        imports._run_batch, imports._insert_leads = real_batch, real_insert
        session.close()
        ran = time.perf_counter() - t
    print(f"seed/check existing leads: {seeded:.1f} s ({args.existing:,} existing)")
    print(f"upload + scan of {args.rows:,} rows: {uploaded:.1f} s")
    print(f"run_import: {ran:.1f} s, {args.rows / ran:,.0f} rows/s -> {result}")
    print(
        f"peak RSS: {before:.0f} MB before the import (the CSV held in memory by the bench itself), "
        f"{rss_mb():.0f} MB after; RSS {rss_start:.0f} MB when run_import started, {rss_end:.0f} MB at its end"
    )
    print(f"writing the new leads, events and tasks (ids + COPY): {sum(inserts):.1f} s of {ran:.1f} s")
    print(f"RSS after each batch (MB): {batches}")
    if profiler is not None:
        import pstats

        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(args.profile)
        stats.sort_stats("cumulative").print_stats(r"zarts/domain", args.profile)
    if args.save:
        save(
            {
                "name": "import",
                "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "database": args.database_url,
                "existing_leads": existing,
                "rows": args.rows,
                "batch": args.batch or imports.BATCH,
                "upload_scan_s": round(uploaded, 2),
                "run_import_s": round(ran, 2),
                "rows_per_s": round(args.rows / ran),
                "result": result,
                "target_s": 60,
                "peak_rss_mb_before": round(before),
                "peak_rss_mb_after": round(rss_mb()),
                "rss_mb_run_start": round(rss_start),
                "rss_mb_run_end": round(rss_end),
                "rss_mb_after_each_batch": batches,
                "insert_s": round(sum(inserts), 2),
                "python_loop_ms": python_loop_ms(),
                "load_average": os.getloadavg(),
                "note": args.note,
            }
        )


def current_rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def python_loop_ms() -> float:
    """The machine's speed now, as bench/jobs.py's python_speed measures it (ms, best of 5)."""
    best = float("inf")
    for _ in range(5):
        t, total = time.perf_counter(), 0
        for i in range(1_000_000):
            total += i % 7
        best = min(best, time.perf_counter() - t)
    return round(best * 1000, 1)


def save(run: dict) -> None:
    """Add the run (name "import") to the "runs" of bench/results/<today>.json, as the other benches
    do, keeping whatever else it holds."""
    import json

    path = os.path.join(ROOT, "bench", "results", time.strftime("%Y-%m-%d") + ".json")
    data = {}
    if os.path.exists(path):
        with open(path) as fh:
            data = json.load(fh)
    data.setdefault("runs", []).append(run)
    with open(path + ".tmp", "w") as fh:
        json.dump(data, fh, indent=2)
        fh.write("\n")
    os.replace(path + ".tmp", path)
    print(f"saved to {path}")


if __name__ == "__main__":
    main()
