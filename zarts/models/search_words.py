"""The search lexicon: every distinct word of the names people search for, to correct a typo against.

`search_words` holds the words (lower-cased, letters only, 3 to 60 of them) of lead titles,
companies and contact names, client names, project names and task titles. The global search
(zarts.workspace.search) looks a misspelt word up here (pg_trgm similarity on PostgreSQL, through
the table's trigram index; one-edit LIKE patterns on SQLite), then searches the records for the
words it found: a few thousand distinct words are compared instead of millions of records.

Kept on write: the mapper listeners below note the words of every inserted row and of every updated
row whose text changed, and one `INSERT ... ON CONFLICT DO NOTHING` per flush adds them (none when no
text changed: a stage move adds no statement). A bulk insert (the import) calls `add` itself. Words
are never deleted: a word no record holds any more only costs a correction that finds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, trigram_index

MIN_LEN, MAX_LEN = 3, 60
CHUNK = 1000  # words per INSERT
_WORD = re.compile(r"[^\W\d_]+")  # a run of letters
PENDING = "zarts.search_words"  # Session.info: words noted during the flush, added after it

# The text of each kind of record whose words go into the lexicon (attribute names).
SOURCES = {"Lead": ("title", "company", "contact_name"), "Client": ("name",), "Project": ("name",),
           "Task": ("title",)}


class SearchWord(Base):
    __tablename__ = "search_words"

    word: Mapped[str] = mapped_column(sa.String(MAX_LEN), primary_key=True)


# pg_trgm similarity (`%`, `<->`) of a typed word against the lexicon goes through this index.
trigram_index("ix_search_words_word_trgm", SearchWord.__table__.c.word)


def words(texts: Iterable[str | None]) -> set[str]:
    """The lexicon's words of `texts`: lower-cased runs of letters, 3 to 60 of them."""
    found = set()
    for text in texts:
        if text:
            found.update(w for w in _WORD.findall(text.lower()) if MIN_LEN <= len(w) <= MAX_LEN)
    return found


def _insert(connection, found: set[str]) -> None:
    if not found:
        return
    table = SearchWord.__table__
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    ordered = sorted(found)  # one order for every writer: concurrent inserts of new words never deadlock
    for start in range(0, len(ordered), CHUNK):
        rows = [{"word": w} for w in ordered[start:start + CHUNK]]
        connection.execute(insert(table).values(rows).on_conflict_do_nothing(index_elements=["word"]))


def add(session: Session, texts: Iterable[str | None]) -> None:
    """Add the words of `texts` to the lexicon, in the session's transaction (bulk inserts)."""
    _insert(session.connection(), words(texts))


def lead_texts(rows: Iterable[dict]) -> Iterable[str | None]:
    """The texts of new leads given as dicts of fields (a bulk insert), their next-action task's title too."""
    return (row.get(name) for row in rows for name in ("title", "company", "contact_name", "next_action"))


# ---------------------------------------------------------------- backfill (the migration, the bench)

_PG_SOURCES = [("leads", "title || ' ' || company || ' ' || coalesce(contact_name, '')"),
               ("clients", "name"), ("projects", "name"), ("tasks", "title")]


def backfill(connection) -> None:
    """Fill the lexicon from the rows already there."""
    if connection.dialect.name == "postgresql":
        parts = " UNION ALL ".join(
            f"SELECT regexp_split_to_table(lower({expr}), '[^[:alpha:]]+') AS w FROM {table}"
            for table, expr in _PG_SOURCES)
        connection.execute(sa.text(
            f"INSERT INTO search_words (word) SELECT DISTINCT w FROM ({parts}) s "
            f"WHERE length(w) BETWEEN {MIN_LEN} AND {MAX_LEN} ON CONFLICT DO NOTHING"))
        return
    columns = {"leads": ("title", "company", "contact_name"), "clients": ("name",), "projects": ("name",),
               "tasks": ("title",)}
    found: set[str] = set()
    for table, cols in columns.items():
        for row in connection.execute(sa.text(f"SELECT {', '.join(cols)} FROM {table}")):
            found |= words(row)
            if len(found) >= 50_000:
                _insert(connection, found)
                found = set()
    _insert(connection, found)


# ---------------------------------------------------------------- listeners (every ORM write)


def install(*classes) -> None:
    def note_update(mapper, connection, target):
        state = sa.inspect(target)
        changed = [n for n in SOURCES[type(target).__name__] if state.attrs[n].history.has_changes()]
        if changed and state.session is not None:
            state.session.info.setdefault(PENDING, set()).update(words(getattr(target, n) for n in changed))

    def note_insert(mapper, connection, target):
        state = sa.inspect(target)
        if state.session is not None:
            names = SOURCES[type(target).__name__]
            state.session.info.setdefault(PENDING, set()).update(words(getattr(target, n) for n in names))

    for cls in classes:
        sa.event.listen(cls, "after_insert", note_insert)
        sa.event.listen(cls, "before_update", note_update)

    @sa.event.listens_for(Session, "after_flush")
    def _add_noted(session, flush_context):
        found = session.info.pop(PENDING, None)
        if found:
            _insert(session.connection(), found)
