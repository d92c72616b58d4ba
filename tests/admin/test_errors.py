"""Database refusals in words, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from zarts.admin.errors import describe_integrity_error
from zarts.extensions import db
from zarts.models import Connector, Lead, Task, User, today


def refusal(*rows) -> str:
    try:
        with db.session.begin_nested():
            db.session.add_all(rows)
            db.session.flush()
    except IntegrityError as exc:
        return describe_integrity_error(exc)
    pytest.fail("the database accepted the rows")


CASES = [
    (
        "a check rule",
        lambda make: [Lead(title="T", company="C", source="referral", service="seo", probability=140)],
        "The probability must be between 0 and 100.",
    ),
    (
        "a unique column",
        lambda make: [User(email=make.user("admin").email, name="Twin", role="admin")],
        "Another record already has this email.",
    ),
    (
        "a unique pair",
        lambda make: [
            Connector(project_id=_project(make), name="CRM"),
            Connector(project_id=_project(make, again=True), name="CRM"),
        ],
        "Another record already has this project and name.",
    ),
    (
        "a required value",
        lambda make: [Task(kind="other", title="T", due=today(), owner_id=None)],
        "Owner is required.",
    ),
    (
        "a missing row",
        lambda make: [Connector(project_id=987654, name="CRM")],
        "It refers to a record that does not exist, or other records still refer to this one.",
    ),
]

_projects = {}


def _project(make, again=False):
    from tests.admin.rows import add_row

    if not again:
        _projects["id"] = add_row("projects").id
    return _projects["id"]


@pytest.mark.parametrize("name,rows,message", CASES, ids=[c[0] for c in CASES])
def test_sqlite_refusals_read_as_sentences(name, rows, message, app, make):
    assert refusal(*rows(make)) == message


@pytest.mark.pg
@pytest.mark.parametrize("name,rows,message", CASES, ids=[c[0] for c in CASES])
def test_postgresql_refusals_read_as_sentences(name, rows, message, pg_app, make):
    assert refusal(*rows(make)) == message
