"""Optimistic locking for admin edit forms (Flask-Admin lets the last save win: upstream #2596).

The edit form carries the row's `version` in a hidden field. A save is refused when the submitted
version is not the row's current one, and SQLAlchemy's version check (`version_id_col`) refuses it
when another save lands between our read and our write (StaleDataError, handled in the base view).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash
from wtforms import HiddenField

from .errors import MISSING_VERSION, STALE


class VersionField(HiddenField):
    """The version the form was opened with. It is compared, never written to the row."""

    def populate_obj(self, obj, name):
        pass


def is_versioned(model) -> bool:
    return sa.inspect(model).version_id_col is not None


def seen_version(form) -> str | None:
    """The version an edit form was opened with, for the domain to compare with the row's; None,
    flashed, when the form carried none (nobody could tell what the user saw)."""
    field = getattr(form, "version", None)
    # raw_data, not data: without a submitted value WTForms would fall back to the row's own.
    submitted = (field.raw_data[0] if field is not None and field.raw_data else "").strip()
    if not submitted:
        flash(MISSING_VERSION, "error")
        return None
    return submitted


class OptimisticLockMixin:
    """Mixed into the base model view before Flask-Admin's ModelView."""

    def get_edit_form(self):
        form_class = super().get_edit_form()
        if not is_versioned(self.model):
            return form_class
        return type(f"{form_class.__name__}Versioned", (form_class,), {"version": VersionField()})

    def update_model(self, form, model) -> bool:
        if is_versioned(self.model):
            submitted = seen_version(form)
            if submitted is None:
                return False
            if submitted != str(model.version):
                flash(STALE, "error")
                return False
        return super().update_model(form, model)
