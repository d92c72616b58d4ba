"""Strict templates (zarts.templating): a variable nobody passed fails in our templates, and only there.

Flask-Admin's packaged templates test optional attributes by reading them; they keep Jinja's lenient
Undefined while ours fail loudly.
"""

from __future__ import annotations

import os

import flask_admin
import pytest
from flask import render_template, render_template_string
from jinja2 import UndefinedError

from zarts import create_app
from zarts.templating import OURS, OursStrict

FLASK_ADMIN_TEMPLATES = os.path.join(os.path.dirname(flask_admin.__file__), "templates", "bootstrap4")

# Each way a template can use a value without calling it or reading its attributes.
USES = [
    "{{ missing }}",
    "{% if missing %}yes{% endif %}",
    "{% for x in missing %}{{ x }}{% endfor %}",
    "{{ missing|length }}",
    "{{ missing == 1 }}",
    "{{ missing != 1 }}",
    "{{ 1 in missing }}",
    "{{ missing|join(',') }}",
]


def _template_at(app, source: str, filename: str):
    """A template compiled as if it were read from `filename`, as the loaders do."""
    env = app.jinja_env
    code = env.compile(source, name=os.path.basename(filename), filename=filename)
    return env.template_class.from_code(env, code, env.make_globals(None))


@pytest.mark.parametrize("source", USES)
def test_undefined_fails_in_our_template(app, source):
    template = _template_at(app, source, os.path.join(OURS, "templates", "workspace", "page.html"))
    with pytest.raises(UndefinedError, match="'missing' is undefined"):
        template.render()


@pytest.mark.parametrize("source", USES)
def test_undefined_is_lenient_in_flask_admin_template(app, source):
    template = _template_at(app, source, os.path.join(FLASK_ADMIN_TEMPLATES, "admin", "page.html"))
    template.render()  # no error: the default Undefined's blank, False, empty


def test_a_real_page_of_ours_missing_a_variable_fails(app):
    with app.test_request_context():
        with pytest.raises(UndefinedError, match="'message' is undefined"):
            render_template("partials/error.html", title="Not saved")
        assert "Not saved" in render_template("partials/error.html", title="Not saved", message="Try again")


def test_flask_admin_macro_reading_a_missing_value_stays_lenient(app):
    """Our template calls a Flask-Admin macro with an undefined argument: the macro's own test of it
    (`{% if actions %}` in admin/actions.html) runs in Flask-Admin's template and is lenient."""
    with app.test_request_context():
        html = render_template_string("{% import 'admin/actions.html' as a %}[{{ a.form(missing, '/x') }}]")
    assert "".join(html.split()) == "[]"


def test_strict_by_default_in_tests_and_debug_not_in_production(tmp_path):
    db = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"}
    assert create_app({**db, "TESTING": True}).jinja_env.undefined is OursStrict
    assert create_app({**db, "DEBUG": True}).jinja_env.undefined is OursStrict
    lenient = create_app({**db, "TESTING": False, "DEBUG": False})
    assert lenient.jinja_env.undefined is not OursStrict
    assert (
        create_app({**db, "TESTING": True, "TEMPLATES_STRICT": False}).jinja_env.undefined is not OursStrict
    )
    with lenient.test_request_context():
        assert "<strong>Oops.</strong> </div>" in render_template("partials/error.html", title="Oops")


def test_a_key_a_dict_lacks_is_blank_but_an_attribute_an_object_lacks_fails(app):
    """An event's payload from before a key existed reads blank; a typo on an object is a mistake."""
    template = _template_at(
        app, "[{{ d.later_key }}]{% if d.later_key %}x{% endif %}", os.path.join(OURS, "templates", "t.html")
    )
    assert template.render(d={"from_stage": "new"}) == "[]"
    typo = _template_at(app, "{{ user.nmae }}", os.path.join(OURS, "templates", "t.html"))
    with pytest.raises(UndefinedError, match="nmae"):
        typo.render(user=object())
