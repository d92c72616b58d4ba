"""Form fuzzing: Hypothesis-made input (Unicode, NUL bytes, huge strings, bad dates, negative and
huge numbers, hostile markup) posted to every POST route of the URL map, as a role that may use it,
with a valid CSRF token and with fields the form does not have (client_id, role, version, owner_id,
stage, id, created_at, password_hash, …).

For every example: never a 5xx; a refusal is a page with a message; nothing in the answer acts in a
browser; and the database (every row of every table, before and after) shows no change a form does
not own: no decoy client or user referenced, no role, stage, version, id, creation time, password
or session token taken from an unknown field, no event edited, no lead deleted.

List pages get unknown sort, filter and paging parameters the same way: they never reach SQL.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException

from tests.conftest import csrf_token
from tests.security.conftest import page_forms
from tests.security.crawl import admin_views, fill, role_for, scenario_ids
from tests.security.hostile import CORPUS, problems
from zarts.extensions import db
from zarts.models import Base, Client, Lead, Proposal, User

# Per endpoint: enough to meet every kind of bad value, cheap enough for CI. For a deeper local run:
# ZARTS_FUZZ_EXAMPLES=200 ZARTS_FUZZ_RANDOM=1 pytest tests/security/test_fuzz.py
EXAMPLES = int(os.environ.get("ZARTS_FUZZ_EXAMPLES", "10"))
PG_EXAMPLES = max(3, EXAMPLES // 3)
FEW = max(
    4, EXAMPLES // 3
)  # admin endpoints that take no fields of their own (delete, action, inline update)

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202e\u0000evil",
    "9" * 40,
    "-1",
    "-99999999999999999999",
    "1e309",
    "NaN",
    "inf",
    "0",
    "²",
    "٣",
    "½",
    "2024-13-45",
    "0000-00-00",
    "9999-12-31",
    "10000-01-01",
    "2024-02-30",
    "1970-01-01T00:00:00",
    "null",
    "None",
    "[]",
    "{}",
    "true",
    "on",
    "../../etc/passwd",
    "%00",
    "%s%s%n",
    "' OR 1=1 --",
    "\r\n\r\n",
    "🦄" * 50,
    "x" * 70_000,
    *CORPUS,
]
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
# Long text, built cheaply (drawing thousands of characters one by one makes Hypothesis slow).
LONG = st.builds(
    lambda chunk, n: chunk * n,
    st.sampled_from(["x", "é", "🦄", "<b>", "\x00", "\n", "9"]),
    st.integers(300, 20_000),
)
VALUE = st.one_of(st.sampled_from(NASTY), TEXT, st.integers().map(str), st.dates().map(str), LONG)
# Derandomized: CI runs the same examples every time. No shrinking: a failing example is reported
# as found (shrinking re-runs requests for minutes).
SETTINGS = {
    "deadline": None,
    "database": None,
    "derandomize": not os.environ.get("ZARTS_FUZZ_RANDOM"),
    "print_blob": True,
    "suppress_health_check": list(HealthCheck),
    "phases": [Phase.explicit, Phase.generate],
}


@dataclass
class Decoys:
    client: int
    user: int

    def injected(self) -> dict[str, str]:
        """Fields no form should take from a request, with values that give them away."""
        return {
            "client_id": str(self.client),
            "owner_id": str(self.user),
            "role": "admin",
            "version": "999999",
            "stage": "won",
            "id": "999999",
            "created_at": "2000-01-01T00:00:00",
            "password_hash": "x",
            "session_token": "x",
            "active": "0",
            "author_id": str(self.user),
            "requested_by_id": str(self.user),
            "decided_by_id": str(self.user),
            "done_by_id": str(self.user),
        }


def make_decoys() -> Decoys:
    client = Client(name="Decoy client")
    db.session.add(client)
    db.session.flush()
    user = User(email="decoy@zarts.test", name="Decoy", role="growth_ops", password_hash="!")
    db.session.add(user)
    db.session.commit()
    return Decoys(client.id, user.id)


# --- what may change ------------------------------------------------------------------------------


def snapshot() -> dict[str, dict[int, tuple]]:
    """Every row of every table (JSON columns aside: no decoy can hide there)."""
    out = {}
    for table in Base.metadata.tables.values():
        columns = [c for c in table.columns if not isinstance(c.type, sa.JSON)]
        out[table.name] = {
            row[0]: dict(zip((c.name for c in columns), row))
            for row in db.session.execute(sa.select(*columns)).all()
        }
    return out


def user_columns(table) -> list[str]:
    return [c.name for c in table.columns if any(fk.column.table.name == "users" for fk in c.foreign_keys)]


def forbidden_changes(before, after, owned: set[str], endpoint: str, decoys: Decoys) -> list[str]:
    found = []
    for table in Base.metadata.tables.values():
        old, new = before[table.name], after[table.name]
        if table.name in ("leads", "events"):
            found += [f"{table.name} #{i} deleted" for i in old.keys() - new.keys()]
        if 999999 in new:
            found.append(f"{table.name}: a row took the id 999999")
        users = user_columns(table)
        for row_id, row in new.items():
            was = old.get(row_id)
            changed = {k for k in row if was is None or row[k] != was[k]}
            if table.name == "events" and was is not None and changed:
                found.append(f"event #{row_id} edited: {changed}")
            for col in changed:
                value = row[col]
                if col == "client_id" and value == decoys.client:
                    found.append(f"{table.name} #{row_id}.client_id = the decoy client")
                if col in users and value == decoys.user:
                    found.append(f"{table.name} #{row_id}.{col} = the decoy user")
                if col == "version" and value is not None and value >= 999999:
                    found.append(f"{table.name} #{row_id}.version = {value}")
                if col == "created_at" and (was is not None or value.year == 2000):
                    found.append(f"{table.name} #{row_id}.created_at changed")
                if col in ("password_hash", "session_token") and value == "x":
                    found.append(f"users #{row_id}.{col} taken from the request")
                if (
                    table.name == "users"
                    and col in ("role", "active")
                    and was is not None
                    and col not in owned
                ):
                    found.append(f"users #{row_id}.{col} changed by {endpoint}")
                if (
                    table.name == "leads"
                    and col == "stage"
                    and value == "won"
                    and "stage" not in owned
                    and endpoint not in ("workspace.mark_won", "workspace.move_card")
                ):
                    found.append(f"lead #{row_id} won through {endpoint}")
    return found


def clear_message(resp) -> bool:
    """A refusal says something a person can read (our error page, a form message, a flash)."""
    if resp.status_code < 400:
        return True
    if resp.status_code == 401 and resp.headers.get("HX-Redirect"):
        return True
    if resp.mimetype == "application/problem+json":  # the REST API: problem details (RFC 9457)
        return bool((resp.get_json(silent=True) or {}).get("detail"))
    body = resp.get_data(as_text=True)
    return any(m in body for m in ('role="alert"', "notice", "flash", "invalid-feedback", "<h1>"))


# --- what to post, as whom --------------------------------------------------------------------------


@dataclass
class Target:
    endpoint: str
    url: str
    role: str
    fields: dict[str, str]
    examples: int


def pick_ids() -> dict:
    """Rows where the actions have something to act on: a lead with a draft proposal and pending
    approvals, its proposal, audit and tasks; the portal's open (sent) proposal."""
    ids = scenario_ids()
    draft = db.session.scalar(
        sa.select(Proposal).where(Proposal.status == "draft").order_by(Proposal.id.desc())
    )
    lead = db.session.get(Lead, draft.lead_id)
    ids["lead_id"] = [lead.id]
    ids["proposal_id"] = [draft.id]
    return ids


def host_pages(app, ids) -> dict[str, list[str]]:
    """The pages whose forms post to the POST routes, by role."""
    lead = ids["lead_id"][0]
    staff = [f"/workspace/leads/{lead}", "/workspace/", "/workspace/approvals", "/workspace/tasks", "/jobs/"]
    staff += [f"/workspace/approvals/{i}" for i in ids["approval_id"][:2]]
    staff += [f"/workspace/leads/{lid}" for lid in scenario_ids()["lead_id"]]
    for view in admin_views(app):
        staff.append(f"/admin/{view.endpoint}/new/")
        staff += [
            f"/admin/{view.endpoint}/edit/?id={i}"
            for i in db.session.scalars(sa.select(view.model.id).order_by(view.model.id.desc()).limit(1))
        ]
    client = ["/portal/", "/portal/proposals", "/portal/checklist", "/portal/messages"]
    client += [f"/portal/proposals/{i}" for i in ids["client_proposals"]]
    anonymous = [
        "/login",
        "/portal/login",
        "/reset",
        f"/invite/{ids['token:auth.accept_invite']}",
        f"/reset/{ids['token:auth.reset_password']}",
    ]
    return {"admin": staff, "client": client, "anonymous": anonymous, "signed-in": ["/account/password"]}


def targets(scenario, sessions) -> list[Target]:
    app = scenario.app
    ids = pick_ids()
    contact = sessions["client-user"]
    ids["client_proposals"] = list(
        db.session.scalars(
            sa.select(Proposal.id)
            .join(Lead, Lead.id == Proposal.lead_id)
            .where(Lead.client_id == contact.client_id)
        )
    )
    adapter = app.url_map.bind("localhost")
    found: dict[str, Target] = {}
    for role, pages in host_pages(app, ids).items():
        for page in pages:
            resp = sessions[role].get(page)
            if resp.status_code != 200:
                continue
            for action, fields in page_forms(resp.get_data(as_text=True)):
                url = action or page
                try:
                    endpoint, _ = adapter.match(url.split("?")[0], method="POST")
                except HTTPException:  # a form posting elsewhere (off the URL map, or GET only)
                    continue
                if endpoint not in found and role_for(endpoint, app) in (role, "signed-in"):
                    found[endpoint] = Target(
                        endpoint,
                        url,
                        role_for(endpoint, app),
                        {k: v for k, v in fields.items() if k != "csrf_token"},
                        EXAMPLES,
                    )
    # Every POST route gets fuzzed: those without a form on a page are posted to directly.
    ids["proposal_id"] = ids["proposal_id"] + ids["client_proposals"]
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in found:
            continue
        url = fill(rule, app, ids)[0]
        if rule.endpoint.endswith((".delete_view", ".action_view", ".ajax_update")):
            table = rule.endpoint.split(".")[0]
            url += f"?url=/admin/{table}/"
            examples = FEW
        else:
            examples = EXAMPLES
        if rule.endpoint.startswith("portal.proposal") or rule.endpoint in (
            "portal.accept",
            "portal.decline",
        ):
            url = fill(rule, app, {**ids, "proposal_id": ids["client_proposals"]})[0]
        found[rule.endpoint] = Target(
            rule.endpoint, url, role_for(rule.endpoint, app), {"id": "", "version": ""}, examples
        )
    return sorted(found.values(), key=lambda t: t.endpoint)


def sign_in(client, user_id: int | None):
    """(Re)establish the session before each example: a fuzzed logout or password change ends it.
    The session's CSRF secret stays, so one token serves every example."""
    with client.session_transaction() as s:
        for key in ("_user_id", "_fresh", "_id", "_flashes"):
            s.pop(key, None)
        if user_id is not None:
            user = db.session.get(User, user_id)
            db.session.refresh(user)
            s["_user_id"] = user.get_id()
            s["_fresh"] = True


def fuzz(app, target: Target, user_id: int | None, decoys: Decoys, examples: int) -> None:
    """Post `examples` Hypothesis-made forms to `target`, checking each answer and the database."""
    client = app.test_client()
    owned = set(target.fields)
    unknown = {k: v for k, v in decoys.injected().items() if k not in owned}
    token = csrf_token(client)
    where = f"{target.endpoint} {target.url}"

    @settings(max_examples=examples, **SETTINGS)
    @given(values=st.fixed_dictionaries(dict.fromkeys(target.fields, VALUE)), htmx=st.booleans())
    def post(values, htmx):
        sign_in(client, user_id)
        data = {**unknown, **values, "csrf_token": token}
        before = snapshot()
        resp = client.post(target.url, data=data, headers={"HX-Request": "true"} if htmx else {})
        db.session.rollback()
        assert resp.status_code < 500, f"{where}: {resp.status_code} for {data!r:.300}"
        assert clear_message(resp), f"{where}: {resp.status_code} without a message"
        assert not problems(resp), f"{where}: {problems(resp)}"
        wrong = forbidden_changes(before, snapshot(), owned, target.endpoint, decoys)
        assert not wrong, f"{where}: {wrong}"

    post()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def test_every_post_route_survives_hostile_forms(request, backend):
    """On SQLite (the broad run) and on PostgreSQL (fewer examples: it enforces column lengths, refuses
    NUL bytes and has its own integer bounds)."""
    scenario = request.getfixturevalue("scenario" if backend == "sqlite" else "pg_scenario")
    examples = EXAMPLES if backend == "sqlite" else PG_EXAMPLES
    decoys = make_decoys()
    contact = db.session.scalar(
        sa.select(User)
        .join(Lead, Lead.client_id == User.client_id)
        .where(User.role == "client", Lead.stage == "contract")
        .order_by(User.id)
    )
    users = {
        "admin": scenario.admin.id,
        "client": contact.id,
        "signed-in": scenario.admin.id,
        "anonymous": None,
    }
    sessions = {
        role: scenario.client_as(db.session.get(User, uid) if uid else None) for role, uid in users.items()
    }
    sessions["client-user"] = contact
    plan = targets(scenario, sessions)
    post_rules = {r.endpoint for r in scenario.app.url_map.iter_rules() if "POST" in r.methods}
    assert {t.endpoint for t in plan} == post_rules
    assert sum(1 for t in plan if len(t.fields) > 2) > 25, "forms were not found on their pages"
    failures: dict[str, list] = defaultdict(list)

    for target in plan:
        try:
            fuzz(scenario.app, target, users[target.role], decoys, min(target.examples, examples))
        except Exception as exc:  # noqa: BLE001 - TESTING propagates a view's exception: a 500
            db.session.rollback()
            failures[target.endpoint].append(f"{type(exc).__name__}: {str(exc)[:600]}")
    assert not failures, "\n".join(f"{k}: {v}" for k, v in failures.items())


# --- list parameters -------------------------------------------------------------------------------

LIST_PAGES = [
    "/workspace/",
    "/workspace/board/proposal",
    "/workspace/tasks",
    "/workspace/approvals",
    "/workspace/dashboard",
    "/jobs/",
    "/outputs/weekly",
]
LIST_KEYS = [
    "sort",
    "desc",
    "page",
    "page_size",
    "search",
    "flt0_99",
    "flt1_0",
    "flt0_0",
    "flt2_3",
    "owner",
    "stage",
    "service",
    "date_field",
    "date_from",
    "date_to",
    "cursor",
    "limit",
    "before",
    "status",
    "q",
    "copy",
    "add_on",
    "filter",
    "order",
    "dir",
    "view",
    "_",
    "x",
]
QUERY = st.dictionaries(
    st.sampled_from(LIST_KEYS), VALUE.filter(lambda v: len(v) < 5000), min_size=1, max_size=5
)


def list_pages(app) -> list[str]:
    from zarts.domain.reads.outputs import OUTPUTS

    pages = [f"/admin/{v.endpoint}/" for v in admin_views(app)] + LIST_PAGES
    pages += [f"/outputs/{slug}" for slug in sorted(OUTPUTS)][:3] + [
        "/outputs/qualified-opportunity/export.csv"
    ]
    lead = db.session.scalar(sa.select(Lead.id).order_by(Lead.id.desc()))
    pages.append(f"/workspace/leads/{lead}/events")
    return pages


def test_unknown_sort_filter_and_paging_parameters_never_reach_sql(scenario):
    admin = scenario.client_as(scenario.admin)
    contact = scenario.contacts[-1]
    portal = scenario.client_as(contact)
    proposal = db.session.scalar(
        sa.select(Proposal.id)
        .join(Lead, Lead.id == Proposal.lead_id)
        .where(Lead.client_id == contact.client_id)
    )
    pages = [(admin, p) for p in list_pages(scenario.app)]
    pages += [
        (portal, p)
        for p in (
            "/portal/proposals",
            "/portal/reports",
            "/portal/messages",
            f"/portal/proposals/{proposal}/total",
        )
    ]
    fixed = [
        {"sort": "999", "flt0_99": "x", "page": "-5", "page_size": "1e9"},
        {
            "page": "99999999999999999999",
            "before": "99999999999999999999",
            "cursor": "!!!",
            "limit": "²",
            "owner": "²",
            "add_on": "²",
            "against": "²",
        },
        {"search": "%' OR 1=1 --", "flt0_0": "\x00", "flt1_0": " ", "desc": "2", "sort": "-1"},
        {"owner": "99999999999999999999", "add_on": "99999999999999999999", "flt2_1": "not-a-value"},
    ]
    for who, page in pages:
        for query in fixed:
            resp = who.get(page, query_string=query)
            assert resp.status_code < 500, (page, query, resp.status_code)
        visit(who, page)


def visit(who, page: str) -> None:
    """Open `page` with a few Hypothesis-made query strings."""

    @settings(max_examples=4, **SETTINGS)
    @given(query=QUERY, htmx=st.booleans())
    def open_page(query, htmx):
        resp = who.get(page, query_string=query, headers={"HX-Request": "true"} if htmx else {})
        assert resp.status_code < 500, (page, query, resp.status_code)
        assert not problems(resp), (page, query, problems(resp))
        db.session.rollback()

    open_page()


def test_the_snapshot_check_sees_a_forbidden_change(scenario):
    decoys = make_decoys()
    """The invariant itself: a decoy owner, a role change, an edited created_at are all caught."""
    before = snapshot()
    lead = db.session.scalar(sa.select(Lead).order_by(Lead.id))
    lead.owner_id = decoys.user
    user = scenario.owner
    user.role = "admin"
    db.session.flush()
    db.session.execute(
        sa.text("UPDATE tasks SET created_at = :t WHERE id = (SELECT min(id) FROM tasks)"),
        {"t": datetime(2000, 1, 1)},
    )
    wrong = forbidden_changes(before, snapshot(), set(), "test", decoys)
    db.session.rollback()
    assert any("decoy user" in w for w in wrong) and any("role" in w for w in wrong)
    assert any("created_at" in w for w in wrong)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_oversized_forms_and_nul_bytes_are_refused_in_words(scenario, htmx):
    from zarts.web import NUL_REFUSED

    admin = scenario.client_as(scenario.admin)
    lead = db.session.scalar(sa.select(Lead).order_by(Lead.id))
    url, version = f"/workspace/leads/{lead.id}/next-action", lead.version
    headers = {"HX-Request": "true"} if htmx else {}
    token = csrf_token(admin)
    resp = admin.post(
        url,
        data={"next_action": "x" * 1_100_000, "next_action_due": "2099-01-01", "csrf_token": token},
        headers=headers,
    )
    assert resp.status_code == 413 and "That is more than this form accepts." in resp.get_data(as_text=True)
    resp = admin.post(
        url,
        data={"next_action": "call\x00back", "next_action_due": "2099-01-01", "csrf_token": token},
        headers=headers,
    )
    assert resp.status_code == 400 and "(a NUL byte)" in resp.get_data(as_text=True)
    assert NUL_REFUSED.startswith("The form holds a character that cannot be stored")
    assert admin.get("/workspace/?owner=%00", headers=headers).status_code == 400
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).version == version
