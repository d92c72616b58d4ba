"""A search term of several parts on a large table (PostgreSQL): the trigram index looks up the rarest
part only, each row it finds is tested against the whole term, and the list shows exactly the leads
the plain search shows (zarts/admin/search_window.py)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask_admin.contrib.sqla.tools import parse_like_term

from tests.admin.conftest import settle
from zarts.admin import search_window
from zarts.extensions import db
from zarts.models import Lead

pytestmark = pytest.mark.pg

_ROW_ID = re.compile(r'name="rowid" class="action-checkbox" value="(\d+)"')


@pytest.fixture
def large(monkeypatch):
    """The test's table counts as large, and its sample is the whole table (deterministic)."""
    monkeypatch.setattr(search_window, "SMALL_TABLE", 10)
    search_window.forget()
    yield
    search_window.forget()


@pytest.fixture
def people(pg_auth, make):
    pg_auth.login_as(make.user("admin"))
    owner = make.user("growth_ops")
    for n in range(1, 31):
        make.lead(
            owner,
            company=f"Nielsen Bakery {n}",
            contact_name="Quentin Nielsen",
            contact_email=f"quentin.nielsen.{n}@example.com",
        )
    for n in range(1, 11):
        make.lead(
            owner,
            company=f"Anna Co {n}",
            contact_name="Anna Nielsen",
            contact_email=f"anna.nielsen.{n}@example.org",
        )
    make.lead(
        owner,
        title="Willow Wines website",
        company="Willow Wines",
        contact_name="Quentin Nielsen",
        contact_email="quentin.nielsen.500000@willow.test",
    )
    settle()
    db.session.execute(sa.text("ANALYZE leads"))
    db.session.commit()


def _listed(client, term: str) -> list[int]:
    response = client.get("/admin/leads/", query_string={"search": term, "page_size": 100})
    assert response.status_code == 200
    return [int(i) for i in _ROW_ID.findall(response.get_data(as_text=True))]


def _plain(term: str) -> list[int]:
    document = Lead.search_document()
    query = sa.select(Lead.id).where(Lead.merged_into_id.is_(None)).order_by(Lead.id.desc())
    for word in term.split(" "):
        if word:
            query = query.where(document.ilike(parse_like_term(word)))
    return list(db.session.execute(query).scalars())


@pytest.mark.parametrize(
    "term",
    [
        "quentin.nielsen.500000",  # one lead: the rare part is its number
        "quentin.nielsen.5",  # a prefix of a number: 5 and 500000
        "entin.nielsen.1",  # starts inside a word: 1, 10..19
        "nielsen.500000@willow",
        "anna.nielsen",  # every part common: the whole term, as before
        "^Willow",  # Flask-Admin's "starts with"
        "QUENTIN.Nielsen.2 example.com",  # two words, each with its parts; any case
        "quentin.nielsen.99",  # nothing
    ],
)
def test_the_list_shows_exactly_what_the_plain_search_finds(pg_client, people, large, term):
    expected = _plain(term)
    assert _listed(pg_client, term) == expected
    if term == "quentin.nielsen.500000":
        assert len(expected) == 1


def test_the_index_looks_up_the_rarest_part_and_the_whole_term_is_checked(pg_client, people, large):
    statements: list[tuple[str, dict]] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if "ILIKE" in statement:
            statements.append((statement, dict(parameters or {})))

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        ids = _listed(pg_client, "quentin.nielsen.500000")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    assert len(ids) == 1
    statement, parameters = statements[0]
    patterns = sorted(v for v in parameters.values() if isinstance(v, str) and v.startswith("%"))
    assert patterns == ["%500000%", "%quentin.nielsen.500000%"]
    # The whole term is tested on an expression the trigram index does not serve (`... || ''`), the
    # rare part on the indexed one, so PostgreSQL looks up the part alone (its plan at a million
    # leads: docs/performance.md).
    whole = re.search(r"\|\| ''\) ILIKE %\((\w+)\)s", statement)
    assert whole and parameters[whole.group(1)] == "%quentin.nielsen.500000%"
    part = re.search(r"coalesce\(leads\.contact_email, ''\)\) ILIKE %\((\w+)\)s", statement)
    assert part and parameters[part.group(1)] == "%500000%"


def test_a_small_table_keeps_the_plain_search(pg_client, people):
    search_window.forget()
    assert _listed(pg_client, "quentin.nielsen.500000") == _plain("quentin.nielsen.500000")
    assert search_window._samples["leads"].size == 0  # no sample taken under SMALL_TABLE rows
