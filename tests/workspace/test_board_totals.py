"""The board at volume: count and value per column and currency, controls only for who may move a card,
and the quick "New lead" form with its duplicate warning."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from zarts.domain import Forbidden, pipeline, trail
from zarts.extensions import db
from zarts.models import Event, Lead, today
from zarts.domain.money import format_money as money
from zarts.workspace.board import may_move

from .test_queries import measure, populate_board


def column_header(html: str, stage: str) -> str:
    start = html.index(f'id="count-{stage}">') + len(f'id="count-{stage}">')
    return html[start : html.index("<", start)]


def test_money_reads_as_people_write_it():
    assert money(1_200_000, "EUR") == "EUR 12,000"
    assert money(505, "USD") == "USD 5.05"
    assert money(None, "EUR") == "—"


def test_each_column_totals_its_value_per_currency_never_summed_across(client, sign_in, make, owner):
    make.lead(owner=owner, value_cents=1_000_000, currency="EUR")
    make.lead(owner=owner, value_cents=200_000, currency="EUR")
    make.lead(owner=owner, value_cents=500_000, currency="USD")
    make.lead(owner=owner)  # no value: counted, adds nothing
    merged_into = make.lead(owner=owner)
    make.lead(owner=owner, value_cents=9_900_000, currency="GBP", merged_into_id=merged_into.id)
    sign_in(owner)
    html = client.get("/workspace/").get_data(as_text=True)
    assert column_header(html, "new") == "5 · EUR 12,000 · USD 5,000"  # the merged lead is not counted
    assert column_header(html, "qualified") == "0"
    assert 'class="value">EUR 10,000<' in html  # the card shows its value


def test_a_move_updates_both_columns_counts_and_values(client, sign_in, hx_post, make, owner):
    lead = make.lead(owner=owner, value_cents=300_000, currency="EUR")
    make.lead(owner=owner, value_cents=100_000, currency="EUR")
    sign_in(owner)
    body = hx_post(
        f"/workspace/leads/{lead.id}/move", {"stage": "qualified", "version": lead.version}
    ).get_data(as_text=True)
    assert 'id="count-new" hx-swap-oob="true">1 · EUR 1,000<' in body
    assert 'id="count-qualified" hx-swap-oob="true">1 · EUR 3,000<' in body


def test_column_more_pages_keep_the_totals(app, client, sign_in, make, owner):
    app.config["BOARD_COLUMN_LIMIT"] = 2
    for _ in range(5):
        make.lead(owner=owner, value_cents=100_000, currency="EUR")
    sign_in(owner)
    html = client.get("/workspace/").get_data(as_text=True)
    assert column_header(html, "new") == "5 · EUR 5,000" and "/workspace/board/new?after=" in html


def test_board_query_count_stays_at_four(app, client, sign_in, fresh, make, journey, owner, count_queries):
    sign_in(owner)
    populate_board(make, journey, owner, 20)
    assert measure(client, fresh, count_queries, "/workspace/") <= 4


# ---------------------------------------------------------------- who sees controls


@pytest.mark.parametrize("role", ["admin", "growth_ops", "approver", "delivery"])
def test_may_move_is_the_domain_rule(make, owner, role):
    user = make.user(role)
    for lead_owner in (user, owner, None):
        lead = make.lead(owner=owner)
        lead.owner_id = lead_owner.id if lead_owner else None
        try:
            trail.require_lead_actor(user, lead, action="move it")
            allowed = True
        except Forbidden:
            allowed = False
        assert may_move(user, lead.owner_id) is allowed, (role, lead_owner)


def test_cards_show_move_controls_only_to_who_may_move_them(client, sign_in, make, owner):
    mine = make.lead(owner=owner, title="Mine")
    theirs = make.lead(owner=make.user("growth_ops"), title="Theirs")

    def card(html, lead):
        start = html.index(f'id="card-{lead.id}"')
        return html[html.rindex("<article", 0, start) : html.index("</article>", start)]

    sign_in(owner)
    html = client.get("/workspace/").get_data(as_text=True)
    assert 'class="move"' in card(html, mine) and "lead-card movable" in card(html, mine)
    assert 'class="move"' not in card(html, theirs) and "movable" not in card(html, theirs)
    assert "New lead" in html
    for role in ("approver", "delivery"):
        sign_in(make.user(role))
        html = client.get("/workspace/").get_data(as_text=True)
        assert 'class="move"' not in html and "movable" not in html and 'id="new-lead"' not in html
    sign_in(make.user("admin"))
    html = client.get("/workspace/").get_data(as_text=True)
    assert 'class="move"' in card(html, theirs)


# ---------------------------------------------------------------- new lead


def new_lead_form(**kw):
    return {
        "title": "Website rebuild",
        "company": "Globex",
        "contact_name": "Hank",
        "contact_email": "hank@globex.test",
        "source": "referral",
        "service": "seo",
        "next_action": "Call Hank",
        "next_action_due": (today() + timedelta(days=2)).isoformat(),
        **kw,
    }


def test_new_lead_from_the_board_lands_at_the_top_of_new(client, sign_in, hx_post, owner):
    sign_in(owner)
    resp = hx_post("/workspace/leads/new", new_lead_form())
    body = resp.get_data(as_text=True)
    lead = db.session.execute(sa.select(Lead).where(Lead.company == "Globex")).scalar_one()
    assert resp.status_code == 200 and "Created “Website rebuild”" in body
    assert 'hx-swap-oob="afterbegin:#cards-new"' in body and f'id="card-{lead.id}"' in body
    assert 'id="count-new" hx-swap-oob="true">1<' in body
    assert (lead.stage, lead.owner_id, lead.next_action) == ("new", owner.id, "Call Hank")
    kinds = db.session.scalars(sa.select(Event.kind).where(Event.lead_id == lead.id)).all()
    assert kinds == ["created"]


def test_new_lead_warns_of_duplicates_and_creates_only_when_confirmed(client, sign_in, hx_post, make, owner):
    existing = make.lead(owner=owner, company="Globex Corporation", contact_email="hank@globex.test")
    sign_in(owner)
    resp = hx_post("/workspace/leads/new", new_lead_form())
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "may already be in the pipeline" in body
    assert f'href="/workspace/leads/{existing.id}"' in body and "Create anyway" in body
    assert 'name="confirm" value="1"' in body and 'value="Globex"' in body  # the input is kept
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == 1

    resp = hx_post("/workspace/leads/new", new_lead_form(confirm="1"))
    assert resp.status_code == 200 and "Created" in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == 2


def test_new_lead_errors_show_in_the_form_and_plain_post_redirects(client, auth, sign_in, hx_post, owner):
    sign_in(owner)
    resp = hx_post("/workspace/leads/new", new_lead_form(title=""))
    assert resp.status_code == 400 and "Title is required" in resp.get_data(as_text=True)
    resp = hx_post("/workspace/leads/new", new_lead_form(source="carrier pigeon"))
    assert resp.status_code == 400 and "Choose a source" in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == 0
    resp = auth.post("/workspace/leads/new", new_lead_form())
    assert resp.status_code == 303 and "/workspace/#card-" in resp.headers["Location"]
    assert client.get("/workspace/leads/new").status_code == 200  # the form is a page too


def test_new_lead_takes_a_value_when_leads_have_one(client, sign_in, hx_post, owner):
    if not {"value_cents", "currency"} <= pipeline.NEW_LEAD_FIELDS:
        pytest.skip("create_lead does not take a value yet")
    sign_in(owner)
    resp = hx_post("/workspace/leads/new", new_lead_form(value="12,000", currency="usd"))
    assert resp.status_code == 200 and 'class="value">USD 12,000<' in resp.get_data(as_text=True)
    resp = hx_post("/workspace/leads/new", new_lead_form(company="Initech", value="500", currency="E"))
    assert resp.status_code == 400 and "three letters" in resp.get_data(as_text=True)


def test_approver_and_delivery_cannot_create_leads(client, sign_in, hx_post, make):
    for role in ("approver", "delivery"):
        sign_in(make.user(role))
        assert hx_post("/workspace/leads/new", new_lead_form()).status_code == 403


def test_a_drag_moves_quickly_back_and_forth(client, sign_in, hx_post, make, owner):
    """What a drop costs the server (the move POST and its response), measured here on SQLite."""
    import time

    lead = make.lead(owner=owner, value_cents=100_000, currency="EUR")
    for _ in range(30):
        make.lead(owner=owner, value_cents=100_000, currency="USD")
    sign_in(owner)
    times, version, stage = [], lead.version, "new"
    for _ in range(40):
        to = "qualified" if stage == "new" else "new"
        started = time.perf_counter()
        resp = hx_post(f"/workspace/leads/{lead.id}/move", {"stage": to, "version": version})
        times.append((time.perf_counter() - started) * 1000)
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        version, stage = db.session.get(Lead, lead.id).version, to
    times.sort()
    print(f"\n  board move POST (SQLite, test client): p50 {times[20]:.1f} ms, p95 {times[37]:.1f} ms")
