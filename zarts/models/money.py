"""Exchange rates an admin maintains, for totals converted into the base currency (BASE_CURRENCY)."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Versioned, fk


class CurrencyRate(Versioned, Base):
    """1 unit of `currency` is worth `rate` units of the base currency (as of `updated_at`)."""

    __tablename__ = "currency_rates"
    __table_args__ = (
        sa.CheckConstraint("rate > 0", name="rate_positive"),
        sa.CheckConstraint("length(currency) = 3", name="currency_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False, unique=True)
    rate: Mapped[Decimal] = mapped_column(sa.Numeric(18, 8), nullable=False)
    updated_by_id: Mapped[int | None] = fk("users.id", index=False)

    updated_by = relationship("User")

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate}"
