"""Which part of an admin search term the trigram index looks up (PostgreSQL, large tables).

The lead list's search is `search_document ILIKE '%term%'`, served by a trigram (GIN) index. For a
term of several words, e.g. an email `quentin.nielsen.500000`, PostgreSQL reads the index entries of
every trigram of the term and intersects them; the common ones (`que`, `ent`, `sen`, `000`...) have
entries for a large share of the table, so the look-up grows with the table (7 ms of index reads at a
million leads for one matching row, 1.8x its time at 100,000) although one rare part (`500000`,
290 candidate rows) would find the same row alone.

So the index is asked for the rarest part of the term only, and every row it returns is then tested
against the whole term, as before (an expression the index does not serve, so the planner cannot fold
the two back into one look-up): the rows found are exactly those the plain search finds; only the
work differs. Which part is rarest is estimated on a sample of the table kept per process: up to
SAMPLE_ROWS documents read with TABLESAMPLE, refreshed every REFRESH_SECONDS. A stale or unlucky
sample can only cost time, never change a result. Tables under SMALL_TABLE rows keep the plain search
(it is a few milliseconds there), and so does a term whose rarest part is still common.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import REGCLASS
from sqlalchemy.sql.util import ClauseAdapter

SAMPLE_ROWS = 1000
REFRESH_SECONDS = 600
SMALL_TABLE = 50_000
WINDOW_MAX_ROWS = 2_000  # estimated matches of the rarest part above which the whole term is looked up
_PART = re.compile(r"[^\W_]{3,}")  # a run of letters or digits: pg_trgm's words; trigrams need three


@dataclass(frozen=True)
class Sample:
    text: str  # the sampled documents, lower-cased, one per line
    size: int  # how many documents
    rows: float  # the table's estimated size
    taken: float  # time.monotonic()

    def estimate(self, part: str) -> float:
        """How many rows of the table are expected to contain `part` (lower case, no line break):
        its occurrences in the sample, scaled to the table."""
        if not self.size:
            return self.rows
        return self.text.count(part) / self.size * self.rows


_samples: dict[str, Sample] = {}
_lock = threading.Lock()


def sample(session, table: sa.Table, document) -> Sample:
    """The kept sample of `document` over `table`, taken again when it is older than REFRESH_SECONDS."""
    kept = _samples.get(table.name)
    if kept is not None and time.monotonic() - kept.taken < REFRESH_SECONDS:
        return kept
    rows = session.execute(
        sa.select(sa.column("reltuples"))
        .select_from(sa.table("pg_class"))
        .where(sa.column("oid") == sa.cast(table.name, REGCLASS))
    ).scalar()
    rows = max(float(rows or 0), 0.0)
    documents: list[str] = []
    if rows >= SMALL_TABLE:
        percent = min(100.0, 200.0 * SAMPLE_ROWS / rows)  # twice the rows wanted: pages are not full
        sampled = sa.tablesample(table, sa.func.system(percent))
        statement = sa.select(sa.func.lower(ClauseAdapter(sampled).traverse(document))).limit(SAMPLE_ROWS)
        documents = [d.replace("\n", " ") for d in session.execute(statement).scalars()]
    kept = Sample(
        text="\n".join(documents),
        size=len(documents),
        rows=max(rows, float(len(documents))),
        taken=time.monotonic(),
    )
    with _lock:
        _samples[table.name] = kept
    return kept


def rarest_part(session, table: sa.Table, document, term: str) -> str | None:
    """The part of `term` the index should look up instead of the whole term, or None (the whole)."""
    parts = set(_PART.findall(term.lower()))
    if len(parts) < 2:
        return None  # one word: nothing narrower to look up
    kept = sample(session, table, document)
    if kept.rows < SMALL_TABLE:
        return None
    # The rarest part; between equally rare ones the longest (more trigrams, fewer candidates).
    estimate, _, part = min((kept.estimate(p), -len(p), p) for p in parts)
    return part if estimate <= WINDOW_MAX_ROWS else None


def forget() -> None:
    """Drop the kept samples (tests)."""
    with _lock:
        _samples.clear()
