"""Money that adds up: amounts are integer cents with a three-letter currency, and amounts of
different currencies are never added. A total is a dict currency -> cents; one figure across
currencies exists only as a *converted* total, through the rates an admin keeps (CurrencyRate: 1 unit
of a currency is worth `rate` units of BASE_CURRENCY), labelled with the rates' date, with every
currency that has no rate listed apart (never dropped, never added as if it were the base currency).

The rates are admin data written here (`set_rate`, `delete_rate`): admin only, checked, each write
stamped with who and when (`updated_by`, `updated_at`) and versioned against lost updates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import CurrencyRate, User
from .errors import Conflict, Forbidden, Invalid
from .trail import check_version

DEFAULT_BASE = "EUR"
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
MAX_CENTS = 10**15  # far beyond any deal; keeps a typo from overflowing a BIGINT sum
MAX_RATE = Decimal("1000000000")  # Numeric(18, 8): 10 integer digits


def base_currency() -> str:
    """BASE_CURRENCY of the running app (EUR outside one)."""
    from flask import current_app, has_app_context

    if has_app_context():
        return str(current_app.config.get("BASE_CURRENCY") or DEFAULT_BASE).upper()
    return DEFAULT_BASE


def format_amount(cents: int | float | Decimal) -> str:
    """Cents as units with thousands separators: "12,000", "1,234.50", "-3.05" (no currency)."""
    amount = (Decimal(str(cents)) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"


def format_money(cents: int | float | Decimal | None, currency: str | None) -> str:
    """ "EUR 12,000", "USD 1,234.50": cents shown only when there are some; "—" for no amount. The
    one money formatter of every screen (board, dashboard, admin)."""
    if cents is None:
        return "—"
    return f"{(currency or '').upper() or '???'} {format_amount(cents)}"


def format_totals(totals: dict[str, int], empty: str = "—") -> str:
    """A per-currency total in words: "GBP 10,000 · USD 10,000" (never one figure across currencies)."""
    return " · ".join(format_money(cents, cur) for cur, cents in sorted(totals.items())) or empty


def amount_text(cents: int | None) -> str:
    """Cents as a person types them back into a form: "12000", "1234.50"; "" for none."""
    if cents is None:
        return ""
    whole, rest = divmod(int(cents), 100)
    return f"{whole}" if not rest else f"{whole}.{rest:02d}"


def check_currency(code, field: str = "currency") -> str:
    """An ISO 4217-shaped code (three letters, upper-cased), else Invalid on `field`."""
    value = (code or "").strip().upper() if isinstance(code, str) else code
    if not isinstance(value, str) or not CURRENCY_RE.match(value):
        raise Invalid("Currency is a three-letter code such as EUR.", field)
    return value


def parse_amount(text, field: str = "value_cents") -> int | None:
    """What a person types ("12000", "12,000.50", "1 234,5" is refused) as cents; blank is None."""
    if text is None:
        return None
    if isinstance(text, int) and not isinstance(text, bool):
        return text * 100
    raw = str(text).strip().replace(",", "").replace(" ", "")
    if not raw:
        return None
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise Invalid("Write the amount as a number, e.g. 12,000 or 1234.50.", field) from None
    if not amount.is_finite() or amount < 0:
        raise Invalid("The amount cannot be negative.", field)
    if amount != amount.quantize(Decimal("0.01")):
        raise Invalid("The amount has at most two decimals.", field)
    cents = int(amount * 100)
    if cents > MAX_CENTS:
        raise Invalid("The amount is too large.", field)
    return cents


def check_cents(value, field: str = "value_cents") -> int | None:
    """A stored amount: None, or whole cents between 0 and MAX_CENTS."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise Invalid("The value must be an amount.", field)
    try:
        cents = int(value)
    except (TypeError, ValueError):
        raise Invalid("The value must be an amount.", field) from None
    if cents != value and not (isinstance(value, str) and value.strip().isdigit()):
        raise Invalid("The value must be whole cents.", field)
    if not 0 <= cents <= MAX_CENTS:
        raise Invalid("The value cannot be negative." if cents < 0 else "The value is too large.", field)
    return cents


def totals(pairs: Iterable[tuple[str | None, int | float | None]]) -> dict[str, int]:
    """(currency, cents) pairs added up per currency, in currency order. An amount without a
    currency is kept under "???" rather than counted as some currency it may not be."""
    out: dict[str, int] = {}
    for currency, cents in pairs:
        if cents is None:
            continue
        key = (currency or "???").upper()
        out[key] = out.get(key, 0) + int(round(cents))
    return dict(sorted(out.items()))


def merge_totals(*many: dict[str, int]) -> dict[str, int]:
    return totals((cur, cents) for one in many for cur, cents in one.items())


@dataclass(frozen=True)
class Rates:
    """The rates of one read: currency -> Decimal, and when they were last set (oldest, newest)."""

    base: str
    rate: dict[str, Decimal] = field(default_factory=dict)
    set_at: dict[str, datetime] = field(default_factory=dict)


def load_rates(session: Session) -> Rates:
    rows = session.execute(sa.select(CurrencyRate.currency, CurrencyRate.rate, CurrencyRate.updated_at)).all()
    return Rates(base_currency(), {c: Decimal(r) for c, r, _ in rows}, {c: at for c, _, at in rows})


@dataclass(frozen=True)
class Converted:
    """A total across currencies, in the base currency: a label says it is converted and when the
    rates were set; `unconverted` holds the currencies without a rate, shown apart."""

    base: str
    cents: int
    converted: tuple[str, ...]  # the currencies that went through a rate
    unconverted: dict[str, int]  # currency -> cents, never added into `cents`
    rates_from: datetime | None
    rates_to: datetime | None

    @property
    def text(self) -> str:
        return f"≈ {format_money(self.cents, self.base)}"

    @property
    def label(self) -> str:
        return f"{self.text} converted at rates of {self.rates_date}"

    @property
    def rates_date(self) -> str:
        if self.rates_from is None:
            return "—"
        first, last = _day(self.rates_from), _day(self.rates_to or self.rates_from)
        return first if first == last else f"{first} – {last}"

    @property
    def unconverted_text(self) -> str:
        return format_totals(self.unconverted, "")


def _day(at: datetime) -> str:
    return f"{at.day} {at:%b %Y}"


def convert(per_currency: dict[str, int], rates: Rates) -> Converted | None:
    """The per-currency total as one base-currency figure, or None when there is nothing to convert
    (a single currency is already one figure; no foreign currency with a rate: no converted figure)."""
    foreign = [cur for cur in per_currency if cur != rates.base]
    with_rate = [cur for cur in foreign if cur in rates.rate]
    if not with_rate:
        return None
    base_cents = Decimal(per_currency.get(rates.base, 0))
    for cur in with_rate:
        base_cents += Decimal(per_currency[cur]) * rates.rate[cur]
    stamps = [rates.set_at[cur] for cur in with_rate if cur in rates.set_at]
    return Converted(
        base=rates.base,
        cents=int(base_cents.quantize(Decimal(1), ROUND_HALF_UP)),
        converted=tuple(sorted(with_rate)),
        unconverted={cur: c for cur, c in per_currency.items() if cur not in with_rate and cur != rates.base},
        rates_from=min(stamps) if stamps else None,
        rates_to=max(stamps) if stamps else None,
    )


@dataclass(frozen=True)
class Summary:
    """What a page shows for a money total: per currency always, a labelled converted figure when
    rates allow one."""

    per_currency: dict[str, int]
    converted: Converted | None

    @property
    def text(self) -> str:
        return format_totals(self.per_currency)

    @property
    def lines(self) -> list[str]:
        return [format_money(cents, cur) for cur, cents in self.per_currency.items()]


def summarise(per_currency: dict[str, int], rates: Rates | None) -> Summary:
    return Summary(dict(per_currency), convert(per_currency, rates) if rates is not None else None)


# --- The rates table (admin) -------------------------------------------------------------------


def _require_admin(actor: User | None) -> None:
    if actor is None or not actor.is_staff or not actor.is_active or actor.role != "admin":
        raise Forbidden("Only an admin can change exchange rates.")


def check_rate(rate) -> Decimal:
    try:
        value = Decimal(str(rate).strip().replace(",", "")) if rate is not None else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise Invalid("Write the rate as a number, e.g. 0.92.", "rate")
    if value <= 0:
        raise Invalid("The rate must be greater than zero.", "rate")
    if value >= MAX_RATE:
        raise Invalid("The rate is too large.", "rate")
    if value != value.quantize(Decimal("0.00000001")):
        raise Invalid("The rate has at most 8 decimals.", "rate")
    return value


def set_rate(
    session: Session, actor: User, currency, rate, expected_version: int | None = None
) -> CurrencyRate:
    """Set what 1 unit of `currency` is worth in the base currency (creating its row if needed).

    Refuses non-admins, a code that is not three letters, the base currency itself (its rate is 1 by
    definition), a rate that is not a positive number, and a row changed since `expected_version`.
    Stamps who set it; flushes, never commits.
    """
    _require_admin(actor)
    code = check_currency(currency)
    base = base_currency()
    if code == base:
        raise Invalid(f"{base} is the base currency: every rate is expressed in it.", "currency")
    value = check_rate(rate)
    row = session.execute(sa.select(CurrencyRate).where(CurrencyRate.currency == code)).scalar_one_or_none()
    if row is None:
        if expected_version not in (None, "", 0, "0"):
            raise Conflict("This rate", None, message="This rate was deleted since you opened it.")
        row = CurrencyRate(currency=code, rate=value, updated_by_id=actor.id)
        session.add(row)
    else:
        check_version(row, expected_version, "This rate")
        if Decimal(row.rate) == value:
            return row
        row.rate, row.updated_by_id = value, actor.id
    session.flush()
    return row


def delete_rate(
    session: Session, actor: User, row: CurrencyRate, expected_version: int | None = None
) -> None:
    """Remove a rate: totals in its currency are shown apart again. Admin only, version-checked."""
    _require_admin(actor)
    check_version(row, expected_version, "This rate")
    session.delete(row)
    session.flush()
