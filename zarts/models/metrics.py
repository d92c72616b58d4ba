"""Figures computed over whole tables by a periodic job, for pages that must not scan a million rows."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, enum, utcnow

SNAPSHOTS = ("dashboard",)


class MetricSnapshot(Base):
    """The latest figures of one kind (one row per name, replaced on each refresh): the dashboard's
    aggregates at a large volume (zarts.workspace.metrics)."""

    __tablename__ = "metric_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(enum("snapshot_name", SNAPSHOTS), nullable=False, unique=True)
    figures: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    computed_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, default=utcnow)
    seconds: Mapped[float] = mapped_column(sa.Float, nullable=False, default=0.0)  # how long it took
