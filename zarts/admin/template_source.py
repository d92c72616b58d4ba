"""Flask-Admin's own templates, read with their `href="javascript:void(0)"` links (dropdown toggles,
the active tab, the pager's current page) written as `href="#" role="button"`: a javascript: URL is
refused by our Content-Security-Policy (a console error on every click). Bootstrap's toggles and
Flask-Admin's handlers already cancel the click, so nothing else changes.

Done once, on the template source, for every Flask-Admin template (templates/admin/*.html extend
them), instead of copying each template that carries one.
"""

from __future__ import annotations

import os
import re

import flask_admin
from jinja2 import ChoiceLoader, FileSystemLoader

_SCRIPT_URL = re.compile(r'href="javascript:void\(0\)"( role="button")?')


def without_script_urls(source: str) -> str:
    return _SCRIPT_URL.sub('href="#" role="button"', source)


class FlaskAdminTemplates(FileSystemLoader):
    """Flask-Admin's templates of one theme folder, rewritten by `without_script_urls`."""

    def __init__(self, theme_folder: str):
        super().__init__(os.path.join(os.path.dirname(flask_admin.__file__), "templates", theme_folder))

    def get_source(self, environment, template):
        source, filename, uptodate = super().get_source(environment, template)
        return without_script_urls(source), filename, uptodate


def install(app, theme_folder: str) -> None:
    """Put the rewritten templates after the app's own (which may extend them) and before the admin
    blueprints' copies of the originals."""
    app.jinja_loader = ChoiceLoader([app.jinja_loader, FlaskAdminTemplates(theme_folder)])
