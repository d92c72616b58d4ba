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
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class Versioned(Timestamps):
    """Mutable business rows: `version` is bumped on every UPDATE and checked (optimistic locking)."""

    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.version}


def fk(target: str, *, nullable: bool = True, ondelete: str | None = None, index: bool = True):
    return mapped_column(sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index)
