"""The create forms' duplicate check (leads, clients): the first save of a record that looks like one
already kept (zarts.domain.duplicates) shows the likely duplicates, each a link, and saves nothing;
ticking "Create anyway" and saving again creates it."""

from __future__ import annotations

from flask import flash
from markupsafe import Markup
from wtforms import BooleanField

CONFIRM = "create_anyway"


def with_confirm(form_class):
    """The create form with its "Create anyway" box (unticked: a likely duplicate stops the save)."""
    box = BooleanField(
        "Create anyway", default=False, description="Tick to save even though a likely duplicate exists."
    )
    return type(form_class.__name__, (form_class,), {CONFIRM: box})


def stop_for_duplicates(form, matches, links) -> bool:
    """True (the save stops) when `matches` is not empty and the form does not confirm; the matches
    are flashed, each with `links(record)` -> [(label, url), ...], and the box says what to do."""
    if not matches or (CONFIRM in form and form[CONFIRM].data):
        return False
    items = Markup("").join(
        Markup("<li>{} ({}): {}</li>").format(
            str(match.record),
            match.why,
            Markup(" · ").join(
                Markup('<a href="{}">{}</a>').format(url, label) for label, url in links(match.record)
            ),
        )
        for match in matches
    )
    flash(
        Markup(
            "Not saved yet: this looks like a record already kept.<ul>{}</ul>"
            "Open one of them, or tick “Create anyway” and save again."
        ).format(items),
        "warning",
    )
    if CONFIRM in form:
        form[CONFIRM].errors = [*form[CONFIRM].errors, "A likely duplicate exists: tick to create anyway."]
    return True
