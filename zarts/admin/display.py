"""The admin in people's words: every code with its label, money with its currency, times to the
minute in the viewer's zone, column names without `_cents` and `_id`, and a link from a row to its
page in the workspace.

`PeoplesWordsMixin` (mixed into `base.SecureModelView`) derives all of it from the model: each enum
column gets the labels of the vocabulary dict (zarts.models.vocab `*_LABELS`) holding exactly its
values, for the list, the details page, the filters and the form; each `*_cents` column is shown
as money and typed in currency units. No view repeats it; a view's own `column_choices`,
`form_choices`, `column_labels` or `column_formatters` still win.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import url_for
from flask_admin.model import typefmt
from flask_admin.model.template import BaseListRowAction
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup, escape
from sqlalchemy.orm import RelationshipProperty
from wtforms import StringField

from ..domain.account import MINUTE, local_time
from ..domain.money import format_amount
from ..domain.money import format_money as _format_money
from ..models import vocab
from .permissions import EDIT, VIEW, rights_for

DAY = "%d %b %Y"


# -- labels --------------------------------------------------------------------------------------


def _label_dicts() -> dict[frozenset, dict[str, str]]:
    found = {}
    for name, value in vars(vocab).items():
        if name.endswith("_LABELS") and isinstance(value, dict) and value:
            found.setdefault(frozenset(value), value)
    return found


_LABELS = _label_dicts()


def labels_for(values) -> dict[str, str] | None:
    """The vocabulary's labels for an enum of exactly these values (None: the vocabulary has none)."""
    return _LABELS.get(frozenset(values))


def words(code: str | None) -> str:
    """A code with no label dict, as words ("to_connect" -> "To connect"): never shown raw."""
    text = (code or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def enum_labels(column) -> dict[str, str] | None:
    if not isinstance(column.type, sa.Enum):
        return None
    values = list(column.type.enums)
    known = labels_for(values) or {}
    return {v: known.get(v) or words(v) for v in values}


_SUFFIXES = ("_cents", "_id")
_HEADERS = {"id": "#"}


def column_words(name: str) -> str:
    """A column's header: "price_cents" -> "Price", "owner_id" -> "Owner", "next_action_due" ->
    "Next action due"; a dotted path ("owner.email") reads "Owner / Email"."""
    parts = []
    for part in str(name).split("."):
        if part in _HEADERS:
            parts.append(_HEADERS[part])
            continue
        for suffix in _SUFFIXES:
            if part.endswith(suffix) and part != suffix:
                part = part[: -len(suffix)]
        parts.append(words(part))
    return " / ".join(parts)


# -- money ---------------------------------------------------------------------------------------


def format_money(cents: int | None, currency: str | None) -> str:
    """ "EUR 4,500" or "EUR 4,500.50" (zarts.domain.money's format); an empty cell for no amount, and
    the bare amount where the row has no currency to show."""
    if cents is None:
        return ""
    return _format_money(cents, currency) if currency else format_amount(cents)


MAX_UNITS = 10**12  # a trillion: far beyond any price, far below what BIGINT cents hold
_AMOUNT = re.compile(r"^(?:[A-Za-z]{3}\s*)?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d*))?(?:\s*[A-Za-z]{3})?$")


def parse_amount(text: str) -> int:
    """Cents from an amount in units as people type it: "4500", "4,500.00", "EUR 4,500.5"."""
    cleaned = text.strip().replace("\u00a0", " ").replace(" ", "")
    if cleaned.startswith("-"):
        raise ValueError("An amount cannot be negative.")
    match = _AMOUNT.match(cleaned)
    if not match or (match.group(2) is not None and len(match.group(2)) > 2):
        raise ValueError(
            "Enter an amount in units of the currency, like 4,500 or 4,500.50 (at most two decimals)."
        )
    try:
        units = Decimal(match.group(1).replace(",", "") + "." + (match.group(2) or "0"))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise ValueError("Enter an amount in units of the currency, like 4,500.50.") from None
    if units >= MAX_UNITS:
        raise ValueError("That amount is too large.")
    return int(units * 100)


class MoneyField(StringField):
    """An amount typed and shown in currency units ("4,500.00"); its data is cents, as the domain
    takes it (None when left empty)."""

    def process_data(self, value):
        self.data = value

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = (valuelist[0] or "").strip()
        self.data = None
        if text:
            self.data = parse_amount(text)  # a ValueError becomes the field's message

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        whole, rest = divmod(int(self.data), 100)
        return f"{whole:,}.{rest:02d}"


def _currency_path(model) -> tuple[str, ...] | None:
    """Where a row's currency is: its own `currency` column, or that of a many-to-one parent
    (a proposal item's proposal)."""
    mapper = sa.inspect(model)
    if "currency" in mapper.columns:
        return ("currency",)
    for rel in mapper.relationships:
        if (
            isinstance(rel, RelationshipProperty)
            and rel.direction.name == "MANYTOONE"
            and "currency" in rel.mapper.columns
        ):
            return (rel.key, "currency")
    return None


def money_formatter(path: tuple[str, ...] | None):
    def show(view, context, row, name):
        currency = row
        for step in path or ():
            currency = getattr(currency, step, None) if currency is not None else None
        return format_money(getattr(row, name), currency if path else None)

    return show


# -- times ---------------------------------------------------------------------------------------


def minute(dt: datetime | None, user=None) -> str:
    """A stored time as "04 Dec 2026 19:05" in the viewer's zone."""
    if dt is None:
        return ""
    return local_time(dt, user if user is not None else current_user).strftime(MINUTE)


def _time_cell(view, value, name):
    return minute(value)


def _date_cell(view, value, name):
    return value.strftime(DAY)


def _type_formatters(base: dict) -> dict:
    # datetime first: a datetime is also a date, and the first matching type wins.
    return {datetime: _time_cell, date: _date_cell, **base}


LIST_FORMATTERS = _type_formatters(typefmt.BASE_FORMATTERS)
DETAIL_FORMATTERS = _type_formatters(typefmt.DETAIL_FORMATTERS)


# -- links to the workspace ----------------------------------------------------------------------

# table -> (workspace endpoint, its id argument, the row attribute holding that id, link text)
WORKSPACE_PAGES = {
    "leads": ("workspace.lead", "lead_id", "id", "Open in workspace"),
    "tasks": ("workspace.task_row", "task_id", "id", "Open in workspace"),
    "reports": ("workspace.report", "report_id", "id", "Open in workspace"),
    "proposals": ("workspace.lead", "lead_id", "lead_id", "Open the lead in workspace"),
    "contracts": ("workspace.lead", "lead_id", "lead_id", "Open the lead in workspace"),
    "audits": ("workspace.lead", "lead_id", "lead_id", "Open the lead in workspace"),
    "approvals": ("workspace.lead", "lead_id", "lead_id", "Open the lead in workspace"),
    "projects": ("workspace.lead", "lead_id", "lead_id", "Open its lead in workspace"),
    "messages": ("workspace.lead", "lead_id", "lead_id", "Open the lead in workspace"),
    "events": ("workspace.lead", "lead_id", "lead_id", "Open the lead in workspace"),
}


class WorkspaceRowAction(BaseListRowAction):
    """A list row's link to its page in the workspace (zarts.admin.rows writes it without Jinja)."""

    icon = "fa fa-external-link glyphicon glyphicon-new-window"

    def __init__(self, endpoint: str, arg: str, attr: str, title: str):
        super().__init__(title=title)
        self.endpoint, self.arg, self.attr = endpoint, arg, attr

    def url(self, row) -> str | None:
        ident = getattr(row, self.attr, None)
        return url_for(self.endpoint, **{self.arg: ident}) if ident is not None else None

    @pass_context
    def render_ctx(self, context, row_id, row):
        url = self.url(row)
        if url is None:
            return Markup("")
        return Markup(
            f'<a class="icon" href="{escape(url)}" title="{escape(self.title)}">'
            f'<span class="{self.icon}"></span></a>\n'
        )


def admin_row_url(table: str, row_id: int) -> str | None:
    """The signed-in user's way into a row of the admin: its edit page if they may edit the table,
    its details page if they may only read it, else None (the workspace's "Open in admin")."""
    rights = rights_for(current_user, table)
    if EDIT in rights:
        return url_for(f"{table}.edit_view", id=row_id)
    if VIEW in rights:
        return url_for(f"{table}.details_view", id=row_id)
    return None


# -- the mixin -----------------------------------------------------------------------------------


class PeoplesWordsMixin:
    """For SecureModelView (listed before Flask-Admin's ModelView)."""

    column_type_formatters = LIST_FORMATTERS
    column_type_formatters_detail = DETAIL_FORMATTERS
    can_view_details = True
    details_template = "admin/details.html"
    edit_template = "admin/edit.html"

    def __init__(self, model, *args, **kwargs):
        columns = sa.inspect(model).columns
        choices, form_choices, formatters, overrides, form_args = {}, {}, {}, {}, {}
        money = _currency_path(model)
        for column in columns:
            labels = enum_labels(column)
            if labels:
                choices[column.key] = list(labels.items())
                form_choices[column.key] = list(labels.items())
            if column.key.endswith("_cents"):
                formatters[column.key] = money_formatter(money)
                overrides[column.key] = MoneyField
                form_args[column.key] = {"description": "In units of the currency, e.g. 4,500.00."}
        self.column_choices = {**choices, **(self.column_choices or {})}
        self.form_choices = {**form_choices, **(self.form_choices or {})}
        self.column_formatters = {**formatters, **(self.column_formatters or {})}
        self.form_overrides = {**overrides, **(self.form_overrides or {})}
        self.form_args = {**form_args, **(self.form_args or {})}
        if self.column_details_list is None and self.column_list is not None:
            # Details show what the list shows (never every column: secrets stay out of sight).
            self.column_details_list = self.column_list
        super().__init__(model, *args, **kwargs)

    def _prettify_name(self, name: str) -> str:
        return column_words(name)

    def prettify_name(self, name: str) -> str:  # the form's field labels
        return column_words(name)

    def get_list_row_actions(self):
        actions = super().get_list_row_actions()
        page = WORKSPACE_PAGES.get(self.model.__tablename__)
        if page is not None:
            actions = [*actions, WorkspaceRowAction(*page)]
        return actions

    def workspace_link(self, row) -> tuple[str, str] | None:
        """(url, text) of the row's page in the workspace, for its details and edit pages."""
        page = WORKSPACE_PAGES.get(self.model.__tablename__)
        if page is None or row is None:
            return None
        url = WorkspaceRowAction(*page).url(row)
        return (url, page[3]) if url else None
