"""The command line: plan, load every table, stamp the migrations' head, write bench/data/meta.json."""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, date, datetime

import sqlalchemy as sa

from zarts.models import Base

from . import __doc__ as SEED_DOC
from .common import (
    ROOT,
    ADMIN_ID,
    ADMIN_URL,
    APPROVER_ID,
    CONTRACT,
    CO_A,
    Clock,
    DATA_DIR,
    DELIVERY_ID,
    DESIGNATED_EVENTS,
    LOST,
    NEW,
    OPS_ID,
    PASSWORD,
)
from .load import PostgresLoader, SqliteLoader
from .plan import LATEST_SENT, Plan
from .sales import gen_approvals
from .tables import TABLES, check_columns


# ---------------------------------------------------------------------------------------------
# Meta: ids a benchmark needs
# ---------------------------------------------------------------------------------------------
def build_meta(plan: Plan, counts: dict, args, elapsed: float) -> dict:
    n = plan.n
    meta = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database_url": args.database_url,
        "leads": n,
        "seed": args.seed,
        "today": plan.clock.today.isoformat(),
        "load_seconds": round(elapsed, 1),
        "counts": counts,
        "password": PASSWORD,
        "staff": {
            "admin": "admin@zarts.test",
            "ops": "ops@zarts.test",
            "approver": "approver@zarts.test",
            "delivery": "delivery@zarts.test",
        },
        "staff_ids": {"admin": ADMIN_ID, "ops": OPS_ID, "approver": APPROVER_ID, "delivery": DELIVERY_ID},
        "designated_lead_id": plan.designated,
        "designated_lead_events": DESIGNATED_EVENTS,
        "search_term": CO_A[0],
        "stage_filter": "proposal",
    }
    # a client whose latest proposal is sent and waiting (contract stage, existing client)
    for i in range(1, n + 1):
        if plan.stage[i] == CONTRACT and plan.client[i] and plan.latest[i] == LATEST_SENT:
            k = plan.client[i]
            meta.update(
                client_with_sent_proposal_id=k,
                client_contact_email=f"client{k}@bench.test",
                sent_proposal_id=plan.prop_first[i] + plan.n_prop[i] - 1,
                sent_proposal_lead_id=i,
            )
            break
    d = plan.designated
    k = plan.client[d]
    meta.update(
        won_lead_id=d,
        won_client_id=k,
        won_client_contact_email=f"client{k}@bench.test",
        won_project_id=plan.project[d],
        accepted_proposal_id=plan.prop_first[d] + plan.n_prop[d] - 1,
    )
    if "client_contact_email" not in meta:
        meta["client_contact_email"] = meta["won_client_contact_email"]
    for i in range(1, n + 1):
        if plan.owner[i] == OPS_ID and plan.stage[i] == CONTRACT and not plan.paused[i]:
            meta["ops_contract_lead_id"] = i
            break
    for i in range(1, n + 1):
        if plan.owner[i] == OPS_ID and plan.stage[i] == NEW:
            meta["ops_new_lead_id"] = i
            break
    for i in range(1, n + 1):
        if plan.stage[i] == LOST and plan.reached[i] == CONTRACT:
            meta["lost_lead_id"] = i
            break
    # the first pending approval, in generation order (proposal pricing of a draft)
    _cols, rows = gen_approvals(plan)
    for row in rows:
        if row[2] == "pending":
            meta["pending_approval_id"] = row[0]
            meta["pending_approval_kind"] = row[1]
            break
    for rid, kind, _p, client, _lead, _s, status, _k in plan.reports():
        if kind == "client_report" and status == "published" and client == k:
            meta["published_report_id"] = rid
            break
    for rid, kind, _p, client, _lead, _s, status, _k in plan.reports():
        if (
            kind == "client_report"
            and status == "published"
            and client == meta.get("client_with_sent_proposal_id")
        ):
            meta["client_published_report_id"] = rid
            break
    return meta


_STATE: dict = {}


def _load_one(name: str):
    """Generate and load one table (in the main process, or in a forked worker)."""
    plan, ctx, loader = _STATE["plan"], _STATE["ctx"], _STATE["loader"]
    make = dict(TABLES)[name]
    t = time.perf_counter()
    cols, rows = make(plan, ctx)
    n = loader.load(name, cols, rows)
    dt = time.perf_counter() - t
    print(f"  {name:<16} {n:>10,} rows {dt:8.1f} s", flush=True)
    return name, n, dt


def stamp_head(url: str) -> str:
    """Record the migrations' head in alembic_version, as `zarts db stamp head` would: the schema
    comes from the models (create_all), which match the head, so `zarts db upgrade` applies the
    schema changes made after this seed."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", os.path.join(ROOT, "migrations"))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "CREATE TABLE IF NOT EXISTS alembic_version "
                    "(version_num VARCHAR(32) NOT NULL, PRIMARY KEY (version_num))"
                )
            )
            conn.execute(sa.text("DELETE FROM alembic_version"))
            conn.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head})
    finally:
        engine.dispose()
    return head


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=SEED_DOC.split("\n\n")[0])
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--leads", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument(
        "--today",
        type=date.fromisoformat,
        default=datetime.now(UTC).date(),
        help="anchor date (YYYY-MM-DD) for due dates and ages; default today (UTC)",
    )
    ap.add_argument(
        "--admin-url", default=ADMIN_URL, help="PostgreSQL URL used to create the database when it is missing"
    )
    ap.add_argument(
        "--recreate-db",
        action="store_true",
        help="PostgreSQL: DROP DATABASE ... WITH (FORCE) and create it again",
    )
    ap.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="PostgreSQL: tables loaded / indexes built on this many connections at once",
    )
    ap.add_argument(
        "--meta",
        default=os.path.join(DATA_DIR, "meta.json"),
        help="where to write the ids benchmarks need (default bench/data/meta.json)",
    )
    args = ap.parse_args(argv)

    started = time.perf_counter()
    url = sa.engine.make_url(args.database_url)
    if url.get_backend_name() == "postgresql":
        loader = PostgresLoader(args.database_url, args.admin_url, args.recreate_db, args.jobs)
    elif url.get_backend_name() == "sqlite":
        loader = SqliteLoader(args.database_url)
    else:
        raise SystemExit(f"unsupported database: {url.get_backend_name()}")

    timings: list[tuple[str, int, float]] = []
    t = time.perf_counter()
    from zarts.auth.passwords import hash_password

    ctx = {"pw_hash": hash_password(PASSWORD)}
    plan = Plan(args.leads, args.seed, Clock(args.today))
    timings.append(("plan (+ argon2 hash)", args.leads, time.perf_counter() - t))
    for name, make in TABLES:
        cols, _ = make(plan, ctx)
        check_columns(name, cols)

    t = time.perf_counter()
    loader.prepare()
    timings.append(("schema (drop/create)", len(Base.metadata.tables), time.perf_counter() - t))

    counts = {}
    plan.reports()  # materialise the shared report structure before any thread reads it
    t_load = time.perf_counter()

    _STATE.update(plan=plan, ctx=ctx, loader=loader)
    jobs = getattr(loader, "jobs", 1)
    if jobs > 1:
        # Processes, not threads: generating rows is pure Python and would serialise on the GIL.
        # fork shares the plan with the children for free (copy-on-write); nothing is connected yet.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ordered = [name for name, _ in sorted(TABLES, key=lambda item: loader._rank(item[0]))]
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_load_one, ordered, chunksize=1))
    else:
        results = [_load_one(name) for name, _ in TABLES]
    by_name = {name: (n, dt) for name, n, dt in results}
    for name, _make in TABLES:
        n, dt = by_name[name]
        counts[name] = n
        timings.append((name, n, dt))
    timings.append((f"all tables (wall, {jobs} job(s))", sum(counts.values()), time.perf_counter() - t_load))
    loader.finish(timings)
    head = stamp_head(args.database_url)
    timings.append((f"alembic stamp {head}", 0, 0.0))
    elapsed = time.perf_counter() - started

    print()
    print(f"{'step / table':<30} {'rows':>12} {'seconds':>9} {'rows/s':>11}")
    print("-" * 65)
    for name, n, dt in timings:
        rate = f"{n / dt:,.0f}" if dt > 0 and (name in counts or name.startswith("all tables")) else ""
        print(f"{name:<30} {n:>12,} {dt:9.1f} {rate:>11}")
    print("-" * 65)
    print(f"{'total':<30} {sum(counts.values()):>12,} {elapsed:9.1f}")
    print(f"\n{loader.describe()}")

    meta = build_meta(plan, counts, args, elapsed)
    os.makedirs(os.path.dirname(os.path.abspath(args.meta)), exist_ok=True)
    with open(args.meta, "w") as fh:
        json.dump(meta, fh, indent=2)
    print(f"\ndesignated lead (exactly {DESIGNATED_EVENTS} events): {plan.designated}")
    for key in (
        "client_contact_email",
        "client_with_sent_proposal_id",
        "sent_proposal_id",
        "won_client_contact_email",
        "won_project_id",
        "pending_approval_id",
        "published_report_id",
    ):
        print(f"{key}: {meta.get(key)}")
    print(f"meta written to {args.meta}")
    return 0
