"""The global search (/workspace/search): one ranked list over leads, clients, projects, tasks and
messages, typos forgiven (SQLite and PostgreSQL), only for staff, merged records left out, and a
bounded number of statements however much matches."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import g

from tests.conftest import AuthActions
from tests.workspace.conftest import HX
from zarts.extensions import db
from zarts.models import Message, Project, SearchWord, Task, today
from zarts.workspace.search import score, typo_patterns


def results(html: str) -> list[tuple[str, str]]:
    """(kind, title) of each result, in order."""
    return re.findall(
        r'<span class="search-kind kind-\w+">([^<]+)</span>\s*<span class="search-title">([^<]+)</span>', html
    )


def world(make):
    """A small book of business: leads, a client with a project, tasks and messages."""
    ops = make.user("growth_ops", name="Olga Owner")
    acme = make.lead(
        owner=ops,
        title="Website relaunch",
        company="Acme Robotics",
        contact_name="Rita Reyes",
        contact_email="rita@acme-robotics.test",
    )
    make.lead(owner=ops, title="Paid search pilot", company="Bluepeak Dental")
    client = make.client(name="Acme Holdings")
    project = Project(name="Acme Holdings SEO", client_id=client.id, lead_id=acme.id, service="seo")
    db.session.add(project)
    db.session.add(
        Task(
            kind="follow_up", title="Call Acme about the audit", owner_id=ops.id, due=today(), lead_id=acme.id
        )
    )
    db.session.add(
        Message(
            lead_id=acme.id,
            client_id=client.id,
            direction="internal",
            channel="phone",
            subject="Acme pricing worries",
            body="Internal note: they balk at the retainer.",
            client_visible=False,
        )
    )
    db.session.flush()
    return ops, acme, client


def search(client, q, htmx=True):
    resp = client.get("/workspace/search", query_string={"q": q}, headers=HX if htmx else {})
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def test_one_ranked_list_across_every_kind(client, sign_in, make):
    ops, acme, _ = world(make)
    sign_in(make.user("admin"))

    html = search(client, "acme")

    found = results(html)
    kinds = {k for k, _ in found}
    assert kinds == {"Lead", "Client", "Project", "Task", "Message"}
    assert ("Lead", "Website relaunch") in found and ("Client", "Acme Holdings") in found
    assert "Bluepeak" not in html
    # the dropdown is a keyboard-navigable listbox, each option a link to its page
    assert 'role="listbox"' in html and html.count('role="option"') == len(found)
    assert f'href="/workspace/leads/{acme.id}"' in html
    assert f'href="/workspace/leads/{acme.id}#thread"' in html  # the message: its lead's thread


def test_the_closest_match_comes_first(client, sign_in, make):
    ops = make.user("growth_ops")
    make.lead(owner=ops, title="Newsletter setup", company="Other Co", contact_email="someone@acmeco.test")
    make.lead(owner=ops, title="Brand refresh", company="Acme")
    sign_in(ops)

    found = results(search(client, "acme"))

    assert found[0] == ("Lead", "Brand refresh")  # the exact company word beats a part of an email


@pytest.mark.parametrize("typed", ["acmee", "acm robotics", "amce", "Acme Robtics"])
def test_a_typo_still_finds_the_company_on_sqlite(client, sign_in, make, typed):
    ops, acme, _ = world(make)
    sign_in(ops)

    assert ("Lead", "Website relaunch") in results(search(client, typed))


def test_typo_patterns_are_one_edit_away():
    patterns = typo_patterns("acmee")
    assert "%acme%" in patterns  # one letter too many
    assert "%cmee%" in patterns
    assert "%acem%" not in patterns  # two edits away
    assert score(["acmee"], "Acme", "") > 0 and score(["acme"], "Acme", "") > score(["acmee"], "Acme", "")


def test_short_queries_ask_for_more_letters(client, sign_in, make, count_queries):
    world(make)
    sign_in(make.user("growth_ops"))
    search(client, "x")  # warm

    with count_queries() as q:
        html = search(client, "ac")

    assert "Type at least 3 characters" in html and not results(html)
    assert not any("acme" in s.lower() or "LIKE" in s.upper() for s in q.statements)


def test_merged_leads_and_clients_are_left_out(client, sign_in, make):
    ops, acme, acme_client = world(make)
    twin = make.lead(owner=ops, title="Acme twin", company="Acme Robotics")
    twin.merged_into_id = acme.id
    old_client = make.client(name="Acme Holdings (old)")
    old_client.merged_into_id = acme_client.id
    db.session.flush()
    sign_in(make.user("admin"))

    found = results(search(client, "acme", htmx=False))

    assert ("Lead", "Acme twin") not in found and ("Client", "Acme Holdings (old)") not in found
    assert ("Lead", "Website relaunch") in found


def test_a_client_contact_cannot_search(client, sign_in, make):
    ops, acme, acme_client = world(make)
    sign_in(make.user("client", client=acme_client))

    for headers in ({}, HX):
        resp = client.get("/workspace/search?q=pricing", headers=headers)
        assert resp.status_code == 403
        assert "balk at the retainer" not in resp.get_data(as_text=True)


def test_anonymous_visitors_sign_in_first(client, make):
    resp = client.get("/workspace/search?q=acme")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_internal_notes_reach_staff_marked_internal(client, sign_in, make):
    world(make)
    sign_in(make.user("delivery"))

    html = search(client, "pricing")

    assert ("Message", "Acme pricing worries") in results(html)
    assert "internal · Internal note" in html


def test_clients_are_listed_only_to_roles_with_a_client_page(client, sign_in, make):
    world(make)
    sign_in(make.user("approver"))  # their admin has no clients table: no page to open

    found = results(search(client, "acme"))

    assert ("Client", "Acme Holdings") not in found and ("Lead", "Website relaunch") in found


def test_the_full_page_works_without_javascript(client, sign_in, make):
    world(make)
    sign_in(make.user("growth_ops"))

    html = search(client, "acme", htmx=False)

    assert "<h1>Search</h1>" in html and 'value="acme"' in html
    assert ("Lead", "Website relaunch") in results(html)
    assert 'role="listbox"' not in html.split("<main")[1].split('id="global-search-panel"')[-1]


def test_every_staff_page_has_the_search_box(client, sign_in, make):
    sign_in(make.user("growth_ops"))
    for url in ("/workspace/", "/workspace/tasks", "/workspace/inbox"):
        html = client.get(url).get_data(as_text=True)
        assert 'id="global-search-q"' in html and 'hx-trigger="input changed delay:200ms, search"' in html
        assert "/static/search.js" in html


def test_statements_stay_bounded_however_much_matches(client, sign_in, make, count_queries):
    ops = make.user("growth_ops")
    for n in range(3):
        make.lead(owner=ops, company=f"Acme {n}")
    sign_in(ops)
    search(client, "acme")
    with count_queries() as small:
        search(client, "acme")
    for n in range(40):
        lead = make.lead(owner=ops, company=f"Acme {n}")
        db.session.add(
            Task(
                kind="follow_up",
                title=f"Acme call {n}",
                owner_id=ops.id,
                due=today() + timedelta(days=1),
                lead_id=lead.id,
            )
        )
    db.session.commit()
    g.pop("_login_user", None)
    with count_queries() as large:
        html = search(client, "acme")

    # (the user, when not cached) and the matches, however many
    assert small.count <= large.count <= 2, "\n".join(large.statements)
    assert len(results(html)) == 8  # the dropdown's best eight


# ---------------------------------------------------------------- PostgreSQL (pg_trgm)


@pytest.fixture
def pg_client(pg_app):
    return pg_app.test_client()


@pytest.mark.pg
@pytest.mark.parametrize("typed", ["acmee", "Acme Robtics", "robotcs"])
def test_a_typo_still_finds_the_company_on_postgresql(pg_client, make, typed):
    ops, acme, _ = world(make)
    db.session.commit()
    AuthActions(pg_client).login_as(ops)

    resp = pg_client.get("/workspace/search", query_string={"q": typed}, headers=HX)

    assert ("Lead", "Website relaunch") in results(resp.get_data(as_text=True))


@pytest.mark.pg
def test_postgresql_ranks_and_scopes_like_sqlite(pg_client, make, count_queries):
    ops, acme, acme_client = world(make)
    twin = make.lead(owner=ops, title="Acme twin", company="Acme Robotics")
    twin.merged_into_id = acme.id
    db.session.commit()
    AuthActions(pg_client).login_as(make.user("admin"))
    db.session.commit()

    with count_queries() as q:
        html = pg_client.get("/workspace/search?q=acme", headers=HX).get_data(as_text=True)

    found = results(html)
    assert {k for k, _ in found} == {"Lead", "Client", "Project", "Task", "Message"}
    assert ("Lead", "Acme twin") not in found
    # the database snapshot (zarts.page_cache), the user, the planner's operator cost raised, the
    # matches (enough exact ones: no typo search), the cost back
    assert q.count <= 5, "\n".join(q.statements)


# ---------------------------------------------------------------- the lexicon (typos at volume)


def lexicon() -> set[str]:
    return set(db.session.scalars(sa.select(SearchWord.word)))


def learns_the_words_of_every_write(make, count_queries):
    ops = make.user("growth_ops")
    lead = make.lead(
        owner=ops, title="Zephyr relaunch", company="Quillfeather Dental", contact_name="Ödön Ávila"
    )
    client = make.client(name="Marrowstone Holdings")
    db.session.add(Project(name="Marrowstone SEO", client_id=client.id, lead_id=lead.id, service="seo"))
    db.session.add(
        Task(kind="follow_up", title="Call about the sprocket audit", owner_id=ops.id, due=today())
    )
    db.session.commit()

    assert {
        "zephyr",
        "relaunch",
        "quillfeather",
        "dental",
        "ödön",
        "ávila",
        "marrowstone",
        "holdings",
        "seo",
        "call",
        "about",
        "the",
        "sprocket",
        "audit",
    } <= lexicon()
    assert not {w for w in lexicon() if len(w) < 3}

    lead.company = "Quillfeather & Brightwater"
    db.session.commit()
    assert "brightwater" in lexicon() and "quillfeather" in lexicon()

    lead.next_action = "Nothing searchable here"  # no text the search's lexicon holds: no statement
    with count_queries() as q:
        db.session.commit()
    assert not any("search_words" in s for s in q.statements) and "searchable" not in lexicon()


def test_the_lexicon_learns_the_words_of_every_write(make, count_queries):
    learns_the_words_of_every_write(make, count_queries)  # SQLite: the mapper listeners


@pytest.mark.pg
def test_the_lexicon_learns_the_words_of_every_write_on_postgresql(pg_app, make, count_queries):
    assert db.engine.dialect.name == "postgresql"
    learns_the_words_of_every_write(make, count_queries)  # PostgreSQL: the tables' triggers


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def test_an_import_adds_its_words_to_the_lexicon(make, request, tmp_path, database):
    from tests.domain.test_imports import run, upload

    app = request.getfixturevalue("app" if database == "sqlite" else "pg_app")  # PostgreSQL: COPY
    app.config["IMPORT_FOLDER"] = folder = str(tmp_path / "imports")
    assert db.engine.dialect.name == database
    owner = make.user("growth_ops")
    content = (
        "Company,E-mail,Contact,Service,Next action,Due\n"
        "Vortigern Roofing,v@vortigern.test,Ysolde Marchbank,SEO,Ring Ysolde,2999-01-10\n"
    )

    assert run(upload(owner, folder, content), owner).created_count == 1
    assert {"vortigern", "roofing", "ysolde", "marchbank", "ring"} <= lexicon()


def northwind_world(make):
    ops = make.user("growth_ops")
    make.lead(owner=ops, title="SEO retainer", company="Northwind Logistics", contact_name="Ana Berg")
    make.lead(owner=ops, title="Paid media", company="Bluepeak Dental")
    db.session.commit()
    return ops


@pytest.mark.parametrize("typed", ["Nortwind", "nortwind logistcs", "Northwnd Logistics"])
def test_a_misspelt_company_is_corrected_through_the_lexicon_on_sqlite(client, sign_in, make, typed):
    sign_in(northwind_world(make))

    found = results(search(client, typed))

    assert found == [("Lead", "SEO retainer")]


def test_the_typo_search_takes_a_fixed_number_of_statements(client, sign_in, make, count_queries):
    sign_in(northwind_world(make))
    search(client, "nortwind")
    g.pop("_login_user", None)
    with count_queries() as q:
        html = search(client, "nortwind logistcs")
    # the user, the exact matches (none), the lexicon's corrections, the matches of the corrections
    assert q.count == 4, "\n".join(q.statements)
    assert results(html) == [("Lead", "SEO retainer")]


def test_nothing_similar_leaves_nothing_found(client, sign_in, make):
    sign_in(northwind_world(make))

    html = search(client, "zzyzxq")

    assert not results(html) and "Nothing found for “zzyzxq”" in html


@pytest.mark.pg
@pytest.mark.parametrize("typed", ["Nortwind", "nortwind logistcs", "Northwnd Logistics", "bluepek"])
def test_a_misspelt_company_is_corrected_through_the_lexicon_on_postgresql(
    pg_client, make, count_queries, typed
):
    AuthActions(pg_client).login_as(northwind_world(make))
    db.session.commit()
    pg_client.get("/workspace/search?q=warm", headers=HX)

    with count_queries() as q:
        html = pg_client.get("/workspace/search", query_string={"q": typed}, headers=HX).get_data(
            as_text=True
        )

    expected = ("Lead", "Paid media") if typed == "bluepek" else ("Lead", "SEO retainer")
    assert results(html) == [expected]
    # the user, the operator cost raised, the exact matches, timeout and similarity set, the corrections,
    # their matches, timeout and cost back
    assert q.count <= 7, "\n".join(q.statements)


@pytest.mark.pg
def test_a_slow_typo_search_shows_the_exact_matches_instead_of_failing(pg_app, pg_client, make):
    ops = northwind_world(make)
    make.lead(owner=ops, title="Spelt wrong", company="Typo Co", contact_email="sales@nortwind.test")
    db.session.commit()
    AuthActions(pg_client).login_as(ops)
    db.session.commit()
    pg_app.config["SEARCH_TIMEOUT_MS"] = 200
    locker = sa.create_engine(pg_app.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.pool.NullPool)
    try:
        with locker.connect() as conn:  # the lexicon held by another transaction: its lookup waits
            conn.execute(sa.text("LOCK TABLE search_words IN ACCESS EXCLUSIVE MODE"))
            resp = pg_client.get("/workspace/search", query_string={"q": "nortwind"}, headers=HX)
            conn.rollback()
    finally:
        locker.dispose()

    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert results(html) == [("Lead", "Spelt wrong")]
    assert "Showing exact matches only" in html
    # the next search, without the lock, corrects again
    html = pg_client.get("/workspace/search", query_string={"q": "nortwind"}, headers=HX).get_data(
        as_text=True
    )
    assert ("Lead", "SEO retainer") in results(html)
