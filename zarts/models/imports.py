"""A spreadsheet import: the uploaded file, its column mapping, and how far the job has got."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Versioned, enum
from .vocab import IMPORT_KINDS, IMPORT_STATUS


class ImportJob(Versioned, Base):
    """One uploaded CSV/XLSX file. The file itself is kept under the instance folder (`stored_name`);
    `mapping` maps the file's column headers to fields; `options` holds what applies to every row
    (source, consent, source context, the default duplicate action) and `decisions` the per-row
    duplicate actions chosen on the preview ({"<row number>": "skip" | "update" | "create"})."""

    __tablename__ = "imports"
    __table_args__ = (sa.Index("ix_imports_owner_created", "owner_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(enum("import_kind", IMPORT_KINDS), nullable=False, default="leads")
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    filename: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    stored_name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    file_sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False, index=True)
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    status: Mapped[str] = mapped_column(
        enum("import_status", IMPORT_STATUS), nullable=False, default="uploaded"
    )
    headers: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    mapping: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    options: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    decisions: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    total_rows: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    processed_rows: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    created_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    updated_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    skipped_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    error_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    message: Mapped[str | None] = mapped_column(sa.Text)  # why it failed, in words
    started_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    owner = relationship("User")

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"
