#!/usr/bin/env python
"""Fault bench (issue 23): recovery times of the background jobs, measured by the fault tests.

    python bench/faults.py              # 3 rounds; writes bench/results/<date>-faults.json
    python bench/faults.py --rounds 5

Each round runs tests/faults/test_job_recovery.py and tests/faults/test_email_once.py (real
`zarts worker` / `zarts schedule` processes on PostgreSQL and Redis, small JOBS_* settings), which
assert the targets and print what they measured:
- a worker killed with SIGKILL mid-handoff: done <= 60 s after the kill;
- a handoff's database connection dropped mid-transaction: done <= 30 s after the drop;
- the leading scheduler killed: the reminder due that minute sent <= 90 s after the kill;
- handoff notice emails delivered twice: 0 (kill and drop runs), and one Message-ID per email when
  the connection drops between the SMTP send and the commit.
Needs what `make test` needs (PostgreSQL and Redis on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ["tests/faults/test_job_recovery.py", "tests/faults/test_email_once.py"]
TARGETS = {"kill_worker_mid_job_done_s": 60, "dropped_connection_done_s": 30, "scheduler_kill_reminder_s": 90}
PATTERNS = {
    "kill_worker_mid_job_done_s": r"FAULT kill -9 mid-handoff: done ([\d.]+) s",
    "dropped_connection_done_s": r"FAULT dropped DB connection mid-handoff: done ([\d.]+) s",
    "scheduler_kill_reminder_s": r"FAULT scheduler killed: reminder sent ([\d.]+) s",
}


def one_round() -> dict:
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:randomly", "-p", "no:cacheprovider", *TESTS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    out = {
        name: float(m.group(1)) if (m := re.search(p, run.stdout)) else None for name, p in PATTERNS.items()
    }
    out["tests_passed"] = run.returncode == 0
    # The tests assert one notice per deal and one Message-ID per email: passing means none twice.
    out["handoff_notices_delivered_twice"] = 0 if run.returncode == 0 else None
    out["seconds"] = round(time.monotonic() - started, 1)
    if run.returncode != 0:
        out["tail"] = run.stdout[-2000:]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rounds = []
    for i in range(args.rounds):
        rounds.append(one_round())
        print(f"round {i + 1}: {json.dumps(rounds[-1])}", flush=True)
    worst = {name: max((r[name] for r in rounds if r[name] is not None), default=None) for name in TARGETS}
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit.strip(),
        "note": "working tree of the issue-23 changes (uncommitted at measurement time)",
        "settings": "JOBS_HEARTBEAT_SECONDS=1 JOBS_STALE_SECONDS=3 JOBS_RELAY_SECONDS=1 "
        "JOBS_MAINTENANCE_SECONDS=2 JOBS_SCHEDULER_LOCK_SECONDS=5; retries 10,60,300 s",
        "targets": TARGETS,
        "worst": worst,
        "met": all(worst[n] is not None and worst[n] <= TARGETS[n] for n in TARGETS)
        and all(r["tests_passed"] for r in rounds),
        "rounds": rounds,
    }
    path = ROOT / "bench" / "results" / f"{datetime.now(UTC):%Y-%m-%d}-faults.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {path.relative_to(ROOT)}: worst {worst}, targets met: {result['met']}")


if __name__ == "__main__":
    main()
