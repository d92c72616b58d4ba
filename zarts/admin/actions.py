"""Domain actions on the admin's lists: every selected row is changed by zarts.domain, in its own unit.

The admin never sets a stage, an approval's state or a proposal's status itself. A bulk action calls
the domain function once per selected row, each in its own transaction (`domain.unit`): a refusal
rolls that row back whole and is flashed in the domain's words ("Lead 12: Cannot move to audit: …")
while the other rows go on. An action that needs input opens a small form page listing the rows with
the version each had when the page was opened, so a row changed meanwhile is refused as a conflict.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
import sqlalchemy.orm
from flask import flash, redirect, request, url_for
from flask_admin.helpers import get_redirect_target
from flask_login import current_user
from sqlalchemy.exc import DataError
from wtforms import Form

from ..domain import DomainError, unit
from ..extensions import db

MAX_ROWS = 100  # the largest list page: an action never runs on more rows than one page shows


def row_ids(values) -> list[int]:
    """The valid, distinct row ids among `values`, in their order (anything else is ignored)."""
    ids: list[int] = []
    for raw in values:
        try:
            pk = int(raw)
        except (TypeError, ValueError):
            continue
        if 0 < pk < 2**63 and pk not in ids:
            ids.append(pk)
    return ids[:MAX_ROWS]


def actor():
    """The signed-in user as the domain's actor (the object, not Flask-Login's proxy)."""
    return current_user._get_current_object()


# What a form action does to one row: (row, version the user saw, validated form) -> what was done.
Apply = Callable[[object, object, Form], str]


class DomainActionsMixin:
    """For a SecureModelView whose list has domain actions (declared with flask_admin's `@action`)."""

    row_noun = "Row"  # flashes read "Lead 12: moved to Audit."

    def describe_row(self, row) -> tuple[str, str]:
        """(what the row is, where it stands now) for the rows table of a form page."""
        return str(row), ""

    def selected_rows(self, ids) -> list:
        ids = row_ids(ids)
        if not ids:
            return []
        related = [sa.orm.joinedload(rel) for rel in (self.column_select_related_list or ())]
        query = sa.select(self.model).where(self.model.id.in_(ids)).options(*related)
        found = {row.id: row for row in db.session.execute(query).scalars()}
        return [found[i] for i in ids if i in found]

    def apply_each(self, rows, change: Callable[[object], str]) -> None:
        """`change(row)` calls the domain and says what it did; one unit per row, one flash per row."""
        for row in rows:
            label = f"{self.row_noun} {row.id}"
            try:
                with unit(db.session):
                    done = change(row)
            except DomainError as exc:
                flash(f"{label}: {exc.message}", "error")
            except DataError:  # PostgreSQL refusing a value the form let through
                flash(f"{label}: not changed: a value is too long or not of the expected kind.", "error")
            else:
                flash(f"{label}: {done}", "success")

    def run_on_selected(self, ids, change: Callable[[object], str]) -> None:
        """A list action without input: `change` runs on each selected row as it is now."""
        rows = self.selected_rows(ids)
        if not rows:
            flash("Select the rows to act on first.", "warning")
        self.apply_each(rows, change)

    def open_form_page(self, endpoint: str, ids):
        """From the list's "With selected" menu to the form page of the action, for those rows."""
        back = get_redirect_target() or self.get_url(".index_view")
        return redirect(self.get_url(endpoint, id=row_ids(ids), url=back))

    def open_merge_screen(self, ids, endpoint: str):
        """From the list to the workspace's merge screen (`endpoint`), which compares the two records
        and merges through zarts.domain.merge. Two rows: both preselected, the older one staying (the
        screen swaps them in one click). One row: it stays, and the screen offers its likely
        duplicates to choose from. Any other number: a message, back to the list."""
        back = get_redirect_target() or self.get_url(".index_view")
        rows = self.selected_rows(ids)
        if len(rows) not in (1, 2):
            flash(
                f"Select two rows to merge one into the other, or one row to choose its duplicate "
                f"on the merge screen ({len(rows)} selected).",
                "warning",
            )
            return redirect(back)
        survivor, *duplicate = sorted(row.id for row in rows)
        args = {"survivor": survivor, **({"duplicate": duplicate[0]} if duplicate else {})}
        return redirect(url_for(endpoint, **args))

    def form_page(
        self, form_class: type[Form], *, title: str, apply: Apply, intro: str = "", submit: str = "Apply"
    ):
        """GET: the form and the selected rows. POST: `apply` on each row, then back to the list."""
        back = get_redirect_target() or self.get_url(".index_view")
        posted = request.method == "POST"
        form = form_class(request.form if posted else None)
        rows = self.selected_rows(request.form.getlist("rowid") if posted else request.args.getlist("id"))
        if not rows:
            flash("Select the rows to act on in the list first.", "warning")
            return redirect(back)
        if posted and form.validate():
            seen = {row.id: request.form.get(f"version-{row.id}") for row in rows}
            self.apply_each(rows, lambda row: apply(row, seen[row.id] or row.version, form))
            return redirect(back)
        return self.render(
            "admin/action_form.html",
            title=title,
            intro=intro,
            submit=submit,
            form=form,
            rows=[(row, *self.describe_row(row)) for row in rows],
            return_url=back,
        )
