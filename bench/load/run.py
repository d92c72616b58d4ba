"""A bounded load run: fresh PostgreSQL database, `zarts db upgrade` + `zarts seed-demo`, gunicorn on
127.0.0.1, Locust headless (mixed staff and portal traffic), RSS of every gunicorn worker sampled
throughout. Writes bench/load/results-<date>.md. Not part of the test suite.

    .venv/bin/python bench/load/run.py --users 24 --minutes 4
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BIN = Path(sys.executable).parent
ADMIN_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"


def sh(*args, env=None, **kw):
    return subprocess.run(args, env=env, check=True, cwd=ROOT, **kw)


def fresh_database(name: str) -> str:
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def workers(master: int) -> list[int]:
    out = subprocess.run(
        ["pgrep", "-P", str(master)], capture_output=True, text=True, check=False
    ).stdout.split()
    return sorted(int(p) for p in out)


def sample(master: int, stop: threading.Event, rows: list, every: float):
    start = time.monotonic()
    while not stop.is_set():
        for pid in workers(master):
            kb = rss_kb(pid)
            if kb:
                rows.append((round(time.monotonic() - start, 1), pid, kb))
        stop.wait(every)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=24)
    ap.add_argument("--spawn-rate", type=float, default=4)
    ap.add_argument("--minutes", type=float, default=4)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--port", type=int, default=8099)
    args = ap.parse_args()

    stamp = dt.datetime.now(dt.UTC)
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    db_url = fresh_database("zarts_load")
    env = dict(
        os.environ,
        DATABASE_URL=db_url,
        SECRET_KEY="load-test-secret",
        ZARTS_ENV="development",
        REDIS_URL="redis://127.0.0.1:6379/0",
        RQ_QUEUE="zarts-load",
        TRUSTED_PROXIES="1",
        BASE_URL=f"http://127.0.0.1:{args.port}",
    )
    sh(str(BIN / "zarts"), "db", "upgrade", env=env, capture_output=True)
    seeded = sh(str(BIN / "zarts"), "seed-demo", env=env, capture_output=True, text=True).stdout

    log = open(out / "gunicorn.log", "w")  # noqa: SIM115 - open for the server's whole life
    # keep-alive above the clients' think time: no race between a client reusing a connection and
    # the server closing it (a "connection reset" that is no error of the app)
    gunicorn = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-w",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--keep-alive",
            "10",
            "-b",
            f"127.0.0.1:{args.port}",
            "--access-logfile",
            "-",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{args.port}/login", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    rows: list = []
    stop = threading.Event()
    sampler = threading.Thread(target=sample, args=(gunicorn.pid, stop, rows, 5.0), daemon=True)
    sampler.start()
    started = time.monotonic()
    try:
        with open(out / "locust.log", "w") as locust_log:  # exits 1 when a request failed: reported below
            subprocess.run(
                [
                    str(BIN / "locust"),
                    "-f",
                    str(HERE / "locustfile.py"),
                    "--headless",
                    "-u",
                    str(args.users),
                    "-r",
                    str(args.spawn_rate),
                    "-t",
                    f"{int(args.minutes * 60)}s",
                    "--host",
                    f"http://127.0.0.1:{args.port}",
                    "--csv",
                    str(out / "locust"),
                    "--only-summary",
                ],
                cwd=ROOT,
                stdout=locust_log,
                stderr=subprocess.STDOUT,
                check=False,
            )
    finally:
        elapsed = time.monotonic() - started
        stop.set()
        sampler.join()
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)
        log.close()
    with open(out / "rss.csv", "w", newline="") as f:
        csv.writer(f).writerows([("t_seconds", "pid", "rss_kb"), *rows])
    report(stamp, args, elapsed, rows, out, seeded)


def report(stamp, args, elapsed, rows, out, seeded):
    with open(out / "locust_stats.csv") as f:
        stats = list(csv.DictReader(f))
    with open(out / "locust_failures.csv") as f:
        failures = list(csv.DictReader(f))
    total = next(r for r in stats if r["Name"] == "Aggregated")
    with open(out / "gunicorn.log") as f:
        server_errors = sum(1 for line in f if '" 5' in line)
    by_pid: dict[int, list] = {}
    for t, pid, kb in rows:
        by_pid.setdefault(pid, []).append((t, kb))
    warm = 60.0  # the first minute: imports, template compilation, connection pools
    mem = []
    for pid, series in sorted(by_pid.items()):
        after = [kb for t, kb in series if t >= warm] or [kb for _, kb in series]
        first, last, peak = after[0], after[-1], max(after)
        mem.append((pid, series[0][1], first, last, peak))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=False
    ).stdout.strip()
    lines = [
        f"# Load run {stamp:%Y-%m-%d}",
        "",
        f"- when: {stamp:%Y-%m-%d %H:%M} UTC, commit {commit}",
        (
            f"- server: gunicorn {args.workers} workers × {args.threads} threads on 127.0.0.1, PostgreSQL 15 "
            "(fresh database, `zarts db upgrade` + `zarts seed-demo`), Redis (sign-in limits, RQ queue)"
        ),
        (
            f"- load: Locust headless, {args.users} users (staff:client = 3:1, each signs in through the form "
            f"from its own address), spawn {args.spawn_rate}/s, {elapsed / 60:.1f} minutes, "
            "think time 0.2–1.0 s"
        ),
        "",
        "## Result",
        "",
        (
            f"- requests: {total['Request Count']}, failures: {total['Failure Count']}, "
            f"5xx in the gunicorn access log: {server_errors}"
        ),
        f"- throughput: {float(total['Requests/s']):.1f} requests/s",
        (
            f"- latency (all requests): median {total['50%']} ms, p95 {total['95%']} ms, p99 {total['99%']} ms, "
            f"max {float(total['Max Response Time']):.0f} ms"
        ),
        "",
        "| request | count | failures | median ms | p95 ms | p99 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in stats:
        if r["Name"] == "Aggregated":
            continue
        lines.append(
            f"| {r['Type']} {r['Name']} | {r['Request Count']} | {r['Failure Count']} | {r['50%']} | "
            f"{r['95%']} | {r['99%']} | {float(r['Max Response Time']):.0f} |"
        )
    minutes = list(range(1, int(max((t for t, _, _ in rows), default=0) // 60) + 1))
    lines += [
        "",
        "## Memory (RSS of each gunicorn worker)",
        "",
        f"Sampled every 5 s; growth is measured after the first {warm:.0f} s of warm-up.",
        "",
        "| worker pid | at start KB | after warm-up KB | at end KB | peak KB | growth after warm-up |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for pid, start, first, last, peak in mem:
        lines.append(
            f"| {pid} | {start} | {first} | {last} | {peak} | {(last - first) / first * 100:+.1f}% |"
        )
    lines += [
        "",
        "RSS (KB) at each minute:",
        "",
        "| worker pid | " + " | ".join(f"{m} min" for m in minutes) + " |",
        "| ---: | " + " | ".join("---:" for _ in minutes) + " |",
    ]
    for pid, series in sorted(by_pid.items()):
        at = [next((kb for t, kb in series if t >= m * 60), series[-1][1]) for m in minutes]
        lines.append(f"| {pid} | " + " | ".join(str(kb) for kb in at) + " |")
    if failures:
        lines += ["", "## Failures", "", "| method | name | error | count |", "| --- | --- | --- | ---: |"]
        lines += [f"| {f['Method']} | {f['Name']} | {f['Error']} | {f['Occurrences']} |" for f in failures]
    lines += ["", "Raw files (not committed): bench/load/out/ (locust_*.csv, rss.csv, gunicorn.log).", ""]
    path = HERE / f"results-{stamp:%Y-%m-%d}.md"
    path.write_text("\n".join(lines))
    print(path.read_text())


if __name__ == "__main__":
    main()
