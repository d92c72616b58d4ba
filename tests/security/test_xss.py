"""Stored XSS sweep: hostile text in every text column of every table (and in event payloads), then
every admin, workspace, portal and outputs page of the URL map rendered — full page and HTMX
fragment, by staff and by each client contact — and nothing in it may act in a browser: no script
element, handler, htmx attribute or javascript: URL the app did not write, no evaluated template
syntax, no spreadsheet formula in an export."""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.security.conftest import page_forms, post_form
from tests.security.crawl import admin_views, get_pages, interesting_leads
from tests.security.hostile import (
    FORMULA_PAYLOAD,
    UNSHOWN,
    URL_PAYLOAD,
    hostile_events,
    poison,
    problems,
    shows_escaped_payload,
    text_columns,
)
from zarts.extensions import db
from zarts.models import Base

HTMX_AREAS = ("workspace", "portal")


def area(url: str) -> str:
    return url.strip("/").split("/", 1)[0] or "auth"


@pytest.fixture
def poisoned(scenario):
    events = hostile_events(db.session, interesting_leads())
    overwritten = poison(db.session)
    db.session.commit()
    db.session.expire_all()
    assert events and len(overwritten) >= 12
    return scenario


def sweep(scenario):
    """(label, response) of every GET page: staff pages as the admin, portal pages as each contact."""
    admin = scenario.client_as(scenario.admin)
    anonymous = scenario.client_as(None)
    contacts = scenario.contacts
    for i, contact in enumerate(contacts):
        me = scenario.client_as(contact)
        for page in get_pages(scenario.app, client_id=contact.client_id):
            if page.role != "client" and i > 0:
                continue  # staff and public pages once
            who = {"client": me, "admin": admin, "signed-in": admin, "anonymous": anonymous}[page.role]
            for htmx in (False, True) if area(page.url) in HTMX_AREAS else (False,):
                resp = who.get(page.url, headers={"HX-Request": "true"} if htmx else {})
                yield f"GET {page.url}{' (htmx)' if htmx else ''} as {page.role}", page.url, resp


def test_every_text_column_is_poisoned(poisoned):
    """The sweep covers the schema: a new table or text column is poisoned without touching this test."""
    import sqlalchemy as sa

    for table in Base.metadata.tables.values():
        if table.name in UNSHOWN:
            continue
        for column in text_columns(table):
            values = db.session.scalars(sa.select(column).where(column.is_not(None))).all()
            assert values, f"{table.name}.{column.name}: no row holds text (the scenario misses this table)"
            assert all(v.startswith((URL_PAYLOAD, FORMULA_PAYLOAD)) for v in values), (
                f"{table.name}.{column.name}"
            )


def test_no_page_lets_stored_hostile_text_act(poisoned):
    bad, shown, statuses = {}, defaultdict(set), defaultdict(set)
    for label, url, resp in sweep(poisoned):
        assert resp.status_code < 500, f"{label}: {resp.status_code}"
        statuses[area(url)].add(resp.status_code)
        if found := problems(resp):
            bad[label] = found
        if shows_escaped_payload(resp):
            shown[area(url)].add(url)
    assert not bad, "\n".join(f"{k}: {v}" for k, v in bad.items())
    # The hostile rows really were on the pages (escaped), in every area.
    for where in ("admin", "workspace", "portal", "outputs", "jobs"):
        assert shown[where], f"no {where} page showed the escaped payload ({statuses[where]})"


def leads_at(*stages) -> list[int]:
    import sqlalchemy as sa

    from zarts.models import Lead

    return [db.session.scalar(sa.select(sa.func.max(Lead.id)).where(Lead.stage == s)) for s in stages]


def test_refused_forms_echo_hostile_input_escaped(poisoned):
    """A refused form comes back with what was typed: every field of every lead-page and portal form,
    posted full of hostile text (with a stale version, so nothing is saved), is echoed inertly."""
    admin = poisoned.client_as(poisoned.admin)
    targets = [
        (admin, f"/workspace/leads/{lead_id}") for lead_id in leads_at("new", "proposal", "contract", "won")
    ]
    contact = poisoned.contacts[-1]
    me = poisoned.client_as(contact)
    targets += [
        (me, url) for url in ("/portal/", "/portal/proposals", "/portal/checklist", "/portal/messages")
    ]
    posted = 0
    for who, page_url in targets:
        for action, fields in page_forms(who.get(page_url).get_data(as_text=True)):
            if not action.startswith(("/workspace/", "/portal/")):
                continue
            data = {
                name: (URL_PAYLOAD if name != "version" else "0") for name in fields if name != "csrf_token"
            }
            for htmx in (False, True):
                resp = post_form(who, action, data, htmx=htmx)
                assert resp.status_code < 500, (action, resp.status_code)
                assert not problems(resp), (action, problems(resp))
                posted += 1
    assert posted > 20


def test_admin_forms_echo_hostile_input_escaped(poisoned):
    """The admin's create forms, refused (a text where a number or relation belongs), echo inertly."""
    admin = poisoned.client_as(poisoned.admin)
    for view in admin_views(poisoned.app):
        url = f"/admin/{view.endpoint}/new/"
        page = admin.get(url)
        if page.status_code != 200:
            continue
        fields = next((f for action, f in page_forms(page.get_data(as_text=True)) if action in ("", url)), {})
        data = {name: URL_PAYLOAD for name in fields if name != "csrf_token"}
        resp = post_form(admin, url, data)
        assert resp.status_code < 500, (url, resp.status_code)
        assert not problems(resp), (url, problems(resp))


@pytest.mark.parametrize(
    "markup, expected",
    [
        ("<p><script>alert(1)</script></p>", "a <script> element the app did not write"),
        ('<input value=""><img src=x onerror=alert(1)>">', "event handler onerror='alert(1)' on <img>"),
        ('<a href="javascript:alert(1)//x">x</a>', "javascript: URL in href on <a>"),
        ('<a href=" JaVa\tScRiPt:alert(1)">x</a>', "javascript: URL in href on <a>"),
        ('<p><a hx-get="/evil" hx-trigger="load"></p>', "htmx attribute hx-get='/evil' on <a>"),
        ("<input value='' onmouseover='x'>", "event handler onmouseover='x' on <input>"),
        ("<p>ZQ49QZ</p>", "template syntax evaluated (ZQ49QZ)"),
    ],
)
def test_the_check_sees_what_would_act(markup, expected):
    from flask import Response

    assert expected in problems(Response(markup, mimetype="text/html"))
    escaped = Response(
        "<p>"
        + markup.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
        .replace("ZQ49QZ", "ZQ{{7*7}}QZ")
        + "</p>",
        mimetype="text/html",
    )
    assert problems(escaped) == []


def test_the_check_sees_formulas_in_exports():
    from flask import Response

    assert problems(Response("id,title\r\n1,\"=cmd|' /C calc'!A0\"\r\n", mimetype="text/csv"))
    assert not problems(Response('id,title\r\n1,"\'=cmd"\r\n', mimetype="text/csv"))
