"""The webhook deliveries of the events an import writes in bulk.

`trail.record_event` hands every event it records to its listeners (zarts.domain.webhooks queues a
"webhook" outbox row per subscribed endpoint once the flush gave the event its id). The import does
not record its leads' `created` (and `paused`) events one by one through it: it inserts a batch of
them in a few statements (COPY on PostgreSQL), which no listener sees. So the import asks here, once
per batch, which endpoints listen to the kinds it writes, and adds their outbox rows in bulk: the
same job, key and payload as `webhooks._queue_deliveries` makes for an event recorded on a screen,
so an imported lead reaches a `lead.created` endpoint exactly as a lead typed in does.

Nobody listening costs nothing (the subscriptions are cached per app, as for record_event).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from . import webhooks

OUTBOX_COLUMNS = ("job", "key", "payload", "status", "attempts", "available_at", "created_at")


def listeners(session: Session, kinds: Iterable[str]) -> dict[str, tuple[int, ...]]:
    """Event kind -> ids of the active endpoints subscribed to it, for those of `kinds` someone
    listens to (empty outside an app, as trail's listener does nothing there)."""
    if not has_app_context():
        return {}
    subs = webhooks.subscriptions(session)
    return {kind: subs[kind] for kind in set(kinds) if subs.get(kind)}


def delivery_rows(
    hooks: dict[str, tuple[int, ...]], events: Iterable[tuple[int, str]], now: datetime
) -> list[dict]:
    """The "webhook" outbox rows (as dicts of OUTBOX_COLUMNS) of the events (id, kind) listened to:
    one per event and endpoint, keyed `webhook:<endpoint>:<event>` like a recorded event's."""
    out = []
    for event_id, kind in events:
        for endpoint_id in hooks.get(kind, ()):
            out.append(
                {
                    "job": "webhook",
                    "key": f"webhook:{endpoint_id}:{event_id}",
                    "payload": {
                        "endpoint_id": endpoint_id,
                        "event_id": event_id,
                        "delivery": uuid.uuid4().hex,
                    },
                    "status": "pending",
                    "attempts": 0,
                    "available_at": now,
                    "created_at": now,
                }
            )
    return out


def relay_after_commit(session: Session, rows: list[dict]) -> None:
    """Have the relay hand the first of these rows on right after the batch commits, as it does a
    recorded event's. Only as many as one relay pass claims (JOBS_RELAY_BATCH): naming a batch's
    thousands of keys would only make the relay's look-up longer, and the scheduled relay takes the
    rest within its interval either way."""
    if not rows:
        return
    cap = current_app.config.get("JOBS_RELAY_BATCH", 200) if has_app_context() else len(rows)
    session.info.setdefault("outbox_keys", []).extend(row["key"] for row in rows[:cap])
