"""What every workspace view shares: fragment-or-page rendering, running one domain action as one
transaction, and turning form input into typed values (bad input is an Invalid, never a 500)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from flask import make_response, render_template, request
from flask_login import current_user

from ..domain import DomainError, Invalid, unit
from ..extensions import db


def wants_fragment() -> bool:
    """An HTMX swap wants the fragment; a reload, a plain link or a history restore wants the page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def render(fragment_template: str, page_template: str, status: int = 200, /, **context):
    """The fragment for an HTMX swap, else the full page that includes the very same fragment."""
    template = fragment_template if wants_fragment() else page_template
    response = make_response(render_template(template, **context), status)
    response.headers["Vary"] = "HX-Request"
    return response


def actor():
    return current_user._get_current_object()


def attempt(action) -> DomainError | None:
    """Run `action()` as one transaction: committed whole, or rolled back and returned as the error."""
    try:
        with unit(db.session):
            action()
    except DomainError as exc:
        return exc
    return None


# ---------------------------------------------------------------- form input


def text(name: str) -> str | None:
    """A text field, trimmed, with the browser's CRLF line ends made plain newlines."""
    value = request.form.get(name)
    return value.replace("\r\n", "\n").strip() if value is not None else None


def version(name: str = "version") -> int | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise Invalid("The form carried a broken version: reload the page.", name) from None


def date_field(name: str, label: str) -> date | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{label}: enter a date such as {date.today().isoformat()}.", name) from None


def int_field(name: str, label: str) -> int | None:
    raw = (request.form.get(name) or "").strip().rstrip("%")
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise Invalid(f"{label} must be a whole number.", name) from None


MAX_AMOUNT = Decimal(10) ** 12  # a trillion in currency units: cents still fit a BigInteger


def money_field(raw: str | None, label: str, name: str) -> int | None:
    """“4,500” or “4500.50” in currency units → cents."""
    raw = (raw or "").strip().replace(",", "").replace(" ", "")
    if not raw:
        return None
    try:
        amount = Decimal(raw)
        if not amount.is_finite():  # NaN and Infinity parse, but compare and quantize badly
            raise InvalidOperation
    except InvalidOperation:
        raise Invalid(f"{label} must be an amount such as 4500 or 4500.50.", name) from None
    if amount > MAX_AMOUNT:
        raise Invalid(f"{label} is larger than any amount this app stores.", name)
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise Invalid(f"{label} must be a positive amount with at most two decimals.", name)
    return int(amount * 100)


def choice(name: str, allowed, label: str) -> str | None:
    value = (request.form.get(name) or "").strip()
    if not value:
        return None
    if value not in allowed:
        raise Invalid(f"Choose a {label} from the list.", name)
    return value


def flag(name: str) -> bool:
    return request.form.get(name) in ("1", "on", "true", "yes")
