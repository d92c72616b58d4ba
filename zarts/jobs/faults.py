"""Fault injection for tests only: a job calls `fault(job, step)` at its named steps; nothing happens
unless ZARTS_JOBS_FAULT (or the JOBS_FAULT setting) names that job and step. Its own module, so the
job functions (handoff, mail) need not import the runner that imports them."""

from __future__ import annotations

import os
import time

from flask import current_app


def _fault_spec() -> str | None:
    return current_app.config.get("JOBS_FAULT") or os.environ.get("ZARTS_JOBS_FAULT")


def fault(job: str, step: str, session=None) -> None:
    """Fault injection for tests only: ZARTS_JOBS_FAULT (or JOBS_FAULT) = "<job>:<step>:raise",
    "<job>:<step>:sleep:<seconds>" (the process id is written to ZARTS_JOBS_FAULT_PIDFILE first) or
    "<job>:<step>:drop" (PostgreSQL: the job's database connection is terminated mid-transaction)."""
    spec = _fault_spec()
    if not spec:
        return
    parts = spec.split(":")
    if parts[:2] != [job, step]:
        return
    if parts[2] == "drop" and session is not None:
        import sqlalchemy as sa

        session.execute(sa.text("SELECT pg_terminate_backend(pg_backend_pid())"))
    if parts[2] == "raise":
        raise RuntimeError(f"injected fault in {job} after {step}")
    if parts[2] == "sleep":
        pidfile = os.environ.get("ZARTS_JOBS_FAULT_PIDFILE")
        if pidfile:
            with open(pidfile, "w") as fh:
                fh.write(str(os.getpid()))
        time.sleep(float(parts[3]))
