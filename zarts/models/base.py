"""Declarative base, naming convention and the column helpers every model shares."""

from __future__ import annotations

from datetime import date, datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Naive UTC: the same on SQLite and PostgreSQL, comparable everywhere."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def today() -> date:
    return utcnow().date()


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def enum(name: str, values: tuple[str, ...]) -> sa.Enum:
    """A string enum stored as VARCHAR with a CHECK constraint (portable, migration-friendly)."""
    return sa.Enum(
        *values,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=max(len(v) for v in values),
    )


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, onupdate=utcnow, nullable=False)


class Versioned(Timestamps):
    """Mutable business rows: `version` is bumped on every UPDATE and checked (optimistic locking)."""

    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.version}


def postgresql_only(index: sa.Index) -> sa.Index:
    """An index only PostgreSQL builds (e.g. a GIN trigram index): create_all skips it elsewhere, and
    the migrations and their drift check leave it out on other databases (`in_schema_of`)."""
    return index.ddl_if(dialect="postgresql")


def trigram_index(name: str, expression, *, statistics: int | None = None) -> sa.Index:
    """A GIN trigram index on a labelled text expression: serves ILIKE '%term%' on PostgreSQL.

    `statistics` raises the statistics target of the expression (ANALYZE samples it like a column),
    so the planner knows how common a searched fragment is: a common one is found walking the list's
    own order, a rare one through this index.

    Without GIN's "fast update": a new row version goes into the index at once instead of into a
    pending list that every search reads in full until (auto)vacuum merges it, up to 4 MB of it.
    A row's write costs ~0.4 ms more; a search no longer pays for the writes since the last vacuum
    (168 pending pages after a few hundred stage moves: a quarter of a rare search's index reads).
    """
    index = postgresql_only(
        sa.Index(
            name,
            expression,
            postgresql_using="gin",
            postgresql_ops={expression.key: "gin_trgm_ops"},
            postgresql_with={"fastupdate": "off"},
        )
    )
    index.info["statistics"] = statistics
    return index


def index_statistics_ddl(index: sa.Index) -> list[str]:
    """ALTER INDEX ... SET STATISTICS for an index made by `trigram_index(statistics=...)`."""
    target = index.info.get("statistics")
    return [f"ALTER INDEX {index.name} ALTER COLUMN 1 SET STATISTICS {int(target)}"] if target else []


def in_schema_of(dialect_name: str):
    """Alembic's include_object for a database of `dialect_name`: skips indexes built only elsewhere."""

    def include_object(obj, name, type_, reflected, compare_to):
        if type_ == "index" and not reflected:
            rule = getattr(obj, "_ddl_if", None)
            if rule is not None and rule.dialect is not None:
                dialects = (rule.dialect,) if isinstance(rule.dialect, str) else tuple(rule.dialect)
                return dialect_name in dialects
        return True

    return include_object


# pg_trgm (trusted since PostgreSQL 13) provides the trigram operator classes; created with the tables.
sa.event.listen(
    Base.metadata,
    "before_create",
    sa.DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),
)


def fk(target: str, *, nullable: bool = True, ondelete: str | None = None, index: bool = True):
    return mapped_column(sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index)
