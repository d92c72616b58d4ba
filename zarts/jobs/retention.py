"""Outbox retention: rows done longer ago than JOBS_OUTBOX_RETENTION_DAYS leave the hot table.

Pruning never lets a job run twice. An outbox key is unique, and `trail.enqueue` skips a key whose
row exists, so a pruned key could be enqueued again; but no once-only job depends on that alone:
- `handoff:<lead>`: only `mark_won` queues it, once per win (a won deal does not move again), and a
  rerun finds the lead's `handoff_done` event and changes nothing ("already done");
- `email:<message>`: queued when its message is made (a message is made once per key), and
  `deliver` never sends a message marked sent;
- `notify:...`: the notification's own key is unique (INSERT ... ON CONFLICT DO NOTHING);
- sweeps are not outbox rows, and their records carry unique keys (reminder messages, tasks).
Only `done` rows are pruned: pending, dispatched and failed rows stay whatever their age, so nothing
still owed is forgotten and a failure stays visible on /jobs/ until someone retries it.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from ..models import Outbox, utcnow


def prune_outbox(session: Session, *, max_batches: int = 200) -> Counter:
    """Delete done rows older than the retention, JOBS_PRUNE_BATCH ids per statement (an id range:
    each DELETE walks a slice of the primary key, never the whole table), committing each batch.
    Stops at the first id made after the cutoff (ids grow with time; nothing newer can be that old),
    or after `max_batches` (the next run goes on)."""
    cfg = current_app.config
    cutoff = utcnow() - timedelta(days=cfg["JOBS_OUTBOX_RETENTION_DAYS"])
    batch = max(int(cfg["JOBS_PRUNE_BATCH"]), 1)
    out: Counter = Counter()
    low = session.scalar(sa.select(sa.func.min(Outbox.id)))
    for _ in range(max_batches):
        if low is None:
            break
        first = session.execute(
            sa.select(Outbox.id, Outbox.created_at).where(Outbox.id >= low).order_by(Outbox.id).limit(1)
        ).first()
        if first is None or first.created_at >= cutoff:
            break
        low = first.id
        deleted = session.execute(
            sa.delete(Outbox).where(
                Outbox.id >= low, Outbox.id < low + batch, Outbox.status == "done", Outbox.done_at < cutoff
            ),
            execution_options={"synchronize_session": False},
        ).rowcount
        session.commit()
        out["pruned"] += deleted
        out["batches"] += 1
        low += batch
    return out
