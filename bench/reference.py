"""Stock Flask-Admin over the same database: the baseline issue 8 compares the admin with.

    gunicorn -w 2 --chdir bench reference:app      (DATABASE_URL as for the app)

A bare Flask app with Flask-Admin's ModelView on zarts' Lead model and its defaults (a count(*) per
page, OFFSET paging, its search: an OR of ILIKE over the searchable columns, its list template),
configured with the admin's own column list, searchable columns and stage filter, so that the same
URLs ask for the same rows. No sign-in, no app code in the request: what the issue calls "a plain
Flask-Admin". `bench/run.py --reference` times it beside the app, on the same machine and data.
"""

from __future__ import annotations

import os
import sys

from flask import Flask
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView
from flask_admin.theme import Bootstrap4Theme

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zarts.admin.leads import LeadView  # only its column configuration
from zarts.extensions import db
from zarts.models import Lead


class PlainLeadView(ModelView):
    column_list = LeadView.column_list
    column_searchable_list = LeadView.column_searchable_list
    column_filters = ("stage",)  # flt0_0 is "stage equals", as in the app's admin
    column_display_pk = True
    column_default_sort = ("id", True)


app = Flask(__name__)
app.config.update(
    SQLALCHEMY_DATABASE_URI=os.environ["DATABASE_URL"],
    SECRET_KEY="reference",
    SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": False},
)
db.init_app(app)
Admin(app, name="plain", theme=Bootstrap4Theme()).add_view(
    PlainLeadView(Lead, db.session, name="Leads", endpoint="leads", url="leads")
)


@app.get("/login")
def ready():  # bench/run.py waits for this before timing
    return "ok"
