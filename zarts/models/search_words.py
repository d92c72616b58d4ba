"""The search lexicon: every distinct word of the names people search for, to correct a typo against.

`search_words` holds the words (lower-cased, letters only, 3 to 60 of them) of lead titles,
companies and contact names, client names, project names and task titles. The global search
(zarts.workspace.search) looks a misspelt word up here (pg_trgm similarity on PostgreSQL, through
the table's trigram index; one-edit LIKE patterns on SQLite), then searches the records for the
words it found: a few thousand distinct words are compared instead of millions of records.

Kept on write, `INSERT ... ON CONFLICT DO NOTHING`, whichever path wrote the row: on PostgreSQL by
triggers (`trigger_ddl`: inserted rows set-wise per statement, COPY included; updated rows when their
searched text changed), so no write path sends one statement more; on SQLite by the mapper listeners
below (the words of inserted rows and of changed text, one INSERT per flush that has new text) and,
for a bulk Core insert (the import), by `add`. Words are never deleted: a word no record holds any
more only costs a correction that finds nothing.
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
SOURCES = {
    "Lead": ("title", "company", "contact_name"),
    "Client": ("name",),
    "Project": ("name",),
    "Task": ("title",),
}


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
        rows = [{"word": w} for w in ordered[start : start + CHUNK]]
        connection.execute(insert(table).values(rows).on_conflict_do_nothing(index_elements=["word"]))


def add(session: Session, texts: Iterable[str | None]) -> None:
    """Add the words of `texts` to the lexicon, in the session's transaction (a bulk insert). On
    PostgreSQL the tables' triggers have already added them (COPY included): nothing to do."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        _insert(connection, words(texts))


def lead_texts(rows: Iterable[dict]) -> Iterable[str | None]:
    """The texts of new leads given as dicts of fields (a bulk insert), their next-action task's title too."""
    return (row.get(name) for row in rows for name in ("title", "company", "contact_name", "next_action"))


# ---------------------------------------------------------------- backfill (the migration, the bench)

_PG_SOURCES = [
    ("leads", "title || ' ' || company || ' ' || coalesce(contact_name, '')"),
    ("clients", "name"),
    ("projects", "name"),
    ("tasks", "title"),
]


def backfill_sql() -> str:
    """PostgreSQL: one statement filling the lexicon from the rows already there."""
    parts = " UNION ALL ".join(
        f"SELECT regexp_split_to_table(lower({expr}), '[^[:alpha:]]+') AS w FROM {table}"
        for table, expr in _PG_SOURCES
    )
    return (
        f"INSERT INTO search_words (word) SELECT DISTINCT w FROM ({parts}) s "
        f"WHERE length(w) BETWEEN {MIN_LEN} AND {MAX_LEN} ON CONFLICT DO NOTHING"
    )


def backfill(connection) -> None:
    """Fill the lexicon from the rows already there."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text(backfill_sql()))
        return
    columns = {
        "leads": ("title", "company", "contact_name"),
        "clients": ("name",),
        "projects": ("name",),
        "tasks": ("title",),
    }
    found: set[str] = set()
    for table, cols in columns.items():
        for row in connection.execute(sa.text(f"SELECT {', '.join(cols)} FROM {table}")):
            found |= words(row)
            if len(found) >= 50_000:
                _insert(connection, found)
                found = set()
    _insert(connection, found)


# ---------------------------------------------------------------- triggers (PostgreSQL)

# The columns of each table whose words the lexicon holds (SOURCES, as tables).
_TRIGGER_COLUMNS = {
    "leads": ("title", "company", "contact_name"),
    "clients": ("name",),
    "projects": ("name",),
    "tasks": ("title",),
}


def trigger_ddl(table: str) -> list[str]:
    """PostgreSQL: the lexicon learns the words of `table`'s new rows (one statement-level trigger,
    set-wise over the inserted rows: a COPY of thousands costs one INSERT ... SELECT) and of rows
    whose searched text an UPDATE changed (a row trigger on those columns only: a stage move costs
    nothing). No statement from the application: write paths keep their statement counts."""
    columns = _TRIGGER_COLUMNS[table]
    text = " || ' ' || ".join(f"coalesce(r.{c}, '')" for c in columns)
    learn = (
        f"INSERT INTO search_words (word) SELECT DISTINCT w FROM (SELECT regexp_split_to_table(lower({text}), "
        f"'[^[:alpha:]]+') AS w FROM {{rows}}) s WHERE length(w) BETWEEN {MIN_LEN} AND {MAX_LEN} "
        "ORDER BY w ON CONFLICT DO NOTHING"
    )
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
    return [
        f"CREATE OR REPLACE FUNCTION search_words_{table}_inserted() RETURNS trigger AS $$ BEGIN "
        f"{learn.format(rows='new_rows r')}; RETURN NULL; END; $$ LANGUAGE plpgsql",
        f"CREATE TRIGGER search_words_inserted AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION search_words_{table}_inserted()",
        f"CREATE OR REPLACE FUNCTION search_words_{table}_updated() RETURNS trigger AS $$ BEGIN "
        f"{learn.format(rows='(SELECT NEW.*) r')}; RETURN NULL; END; $$ LANGUAGE plpgsql",
        f"CREATE TRIGGER search_words_updated AFTER UPDATE OF {', '.join(columns)} ON {table} "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION search_words_{table}_updated()",
    ]


def _triggers(tables) -> None:
    for table in tables:
        if table.name in _TRIGGER_COLUMNS:
            for statement in trigger_ddl(table.name):
                sa.event.listen(
                    table,
                    "after_create",
                    sa.DDL(statement.replace("%", "%%")).execute_if(dialect="postgresql"),
                )


# ---------------------------------------------------------------- planner statistics (PostgreSQL)

# The searched names, sampled more widely by ANALYZE (as the lead's search document, statistics 250):
# with the default sample a company in 1 % of the messages was estimated at 20 of 250,000 rows, and
# the search read 3,400 rows through the trigram index where walking the newest found 8 in 3 ms.
STATISTICS = 500
SEARCHED_COLUMNS = (("clients", "name"), ("projects", "name"), ("tasks", "title"), ("messages", "subject"))


def statistics_ddl(table: str, column: str) -> str:
    return f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS {STATISTICS}"


def _statistics(tables) -> None:
    for table in tables:
        for name, column in SEARCHED_COLUMNS:
            if name == table.name:
                sa.event.listen(
                    table,
                    "after_create",
                    sa.DDL(statistics_ddl(name, column)).execute_if(dialect="postgresql"),
                )


# ---------------------------------------------------------------- listeners (every ORM write)


def install(*classes) -> None:
    from .sales import Message

    _statistics([cls.__table__ for cls in (*classes, Message)])
    _triggers([cls.__table__ for cls in classes])

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
            connection = session.connection()
            if connection.dialect.name != "postgresql":  # PostgreSQL: the triggers have added them
                _insert(connection, found)
