"""Create and edit forms of tables the domain owns: what the form holds goes to a zarts.domain function
(with its checks, optimistic lock and change record), never onto the row by Flask-Admin."""

from __future__ import annotations

from typing import ClassVar

from .locking import seen_version


def row_id(row) -> int | None:
    """The id of the row a relationship field chose (None: none chosen)."""
    return row.id if row is not None else None


def approval_said(approval, what: str) -> str:
    """What a list action asking for an approval did (a text already approved as it stands is not asked
    for again)."""
    if approval.state == "approved":
        return f"the {what} is already approved as it stands."
    return f"approval of the {what} requested."


class DomainFormsMixin:
    """For a SecureModelView (listed before it): `create(form)` and `save(row, version, form)` call the
    domain and return the row; each runs as one unit through `domain_write`, so a refusal comes back
    on the form, as typed, with nothing saved."""

    # Fields of the create form the edit form leaves out: what a row belongs to is set once.
    create_only: ClassVar[tuple[str, ...]] = ()

    def get_edit_form(self):
        form_class = super().get_edit_form()
        dropped = dict.fromkeys(self.create_only)  # None in place of a field removes it
        return type(f"{form_class.__name__}Edit", (form_class,), dropped)

    def create_model(self, form):
        return self.domain_write(form, lambda: self.create(form), is_created=True)

    def update_model(self, form, model):
        version = seen_version(form)  # the domain compares it with the row's: without it nothing is saved
        if version is None:
            return False
        return self.domain_write(form, lambda: self.save(model, version, form), model=model)
