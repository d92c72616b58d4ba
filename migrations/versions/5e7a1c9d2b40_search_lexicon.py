"""search lexicon: the distinct words of what people search for, to correct typos against

search_words (word primary key) with a GIN trigram index on PostgreSQL (pg_trgm similarity of a
typed word, without GIN's fast update like the other search indexes), filled from the rows already
there: lead titles, companies and contact names, client and project names, task titles
(zarts.models.search_words keeps it on every write). On PostgreSQL the searched names of clients,
projects, tasks and messages get a statistics target of 500, and the tables triggers that add the
words of new rows and changed text to the lexicon, as the models declare.

Revision ID: 5e7a1c9d2b40
Revises: c21f5b8e0d05
Create Date: 2026-12-04 20:40:00

"""

import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "5e7a1c9d2b40"
down_revision = "c21f5b8e0d05"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "search_words",
        sa.Column("word", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_search_words")),
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_search_words_word_trgm",
            "search_words",
            ["word"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"word": "gin_trgm_ops"},
            postgresql_with={"fastupdate": "off"},
        )
        for table, column in _SEARCHED:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS 500")
        for table, _, columns in _SOURCES:
            for statement in _trigger_ddl(table, columns):
                op.execute(statement)
    _backfill(op.get_bind())


# The searched names, sampled more widely by ANALYZE (a common company was estimated rare in them).
_SEARCHED = (("clients", "name"), ("projects", "name"), ("tasks", "title"), ("messages", "subject"))

# (table, its text as SQL, its text columns): the words kept, as zarts.models.search_words.SOURCES
_SOURCES = [
    (
        "leads",
        "title || ' ' || company || ' ' || coalesce(contact_name, '')",
        ("title", "company", "contact_name"),
    ),
    ("clients", "name", ("name",)),
    ("projects", "name", ("name",)),
    ("tasks", "title", ("title",)),
]
_WORD = re.compile(r"[^\W\d_]+")


def _trigger_ddl(table, columns):
    """As zarts.models.search_words.trigger_ddl: new rows set-wise per statement, changed text per row."""
    text = " || ' ' || ".join(f"coalesce(r.{c}, '')" for c in columns)
    learn = (
        f"INSERT INTO search_words (word) SELECT DISTINCT w FROM (SELECT regexp_split_to_table(lower({text}), "
        "'[^[:alpha:]]+') AS w FROM {rows}) s WHERE length(w) BETWEEN 3 AND 60 ORDER BY w ON CONFLICT DO NOTHING"
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


def _backfill(bind):
    if bind.dialect.name == "postgresql":
        parts = " UNION ALL ".join(
            f"SELECT regexp_split_to_table(lower({expr}), '[^[:alpha:]]+') AS w FROM {table}"
            for table, expr, _ in _SOURCES
        )
        op.execute(
            f"INSERT INTO search_words (word) SELECT DISTINCT w FROM ({parts}) s "
            "WHERE length(w) BETWEEN 3 AND 60 ON CONFLICT DO NOTHING"
        )
        return
    found = set()
    for table, _, columns in _SOURCES:
        for row in bind.execute(sa.text(f"SELECT {', '.join(columns)} FROM {table}")):
            for text in row:
                found.update(w for w in _WORD.findall((text or "").lower()) if 3 <= len(w) <= 60)
    words = sorted(found)
    for start in range(0, len(words), 1000):
        bind.execute(
            sa.text("INSERT OR IGNORE INTO search_words (word) VALUES (:word)"),
            [{"word": w} for w in words[start : start + 1000]],
        )


def downgrade():
    if op.get_context().dialect.name == "postgresql":
        for table, _, _ in _SOURCES:
            op.execute(f"DROP TRIGGER IF EXISTS search_words_inserted ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS search_words_updated ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS search_words_{table}_inserted()")
            op.execute(f"DROP FUNCTION IF EXISTS search_words_{table}_updated()")
        for table, column in _SEARCHED:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS -1")
        op.drop_index("ix_search_words_word_trgm", table_name="search_words")
    op.drop_table("search_words")
