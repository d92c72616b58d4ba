"""The pipeline board: columns, filters, badges, keyset "more", and card moves through the gates."""

from __future__ import annotations

from datetime import timedelta

from zarts.domain import pipeline
from zarts.extensions import db
from zarts.models import Lead, today


def test_board_shows_a_column_per_stage_and_a_card_per_lead(client, sign_in, make, owner):
    lead = make.lead(owner=owner, title="Rebuild the funnel", company="Acme", probability=10)
    sign_in(owner)
    html = client.get("/workspace/").get_data(as_text=True)
    for stage in ("new", "qualified", "discovery", "audit", "proposal", "contract", "won", "lost"):
        assert f'id="cards-{stage}"' in html
    assert f'id="card-{lead.id}"' in html
    assert "Rebuild the funnel" in html and "Acme" in html and "Olga Owner" in html
    assert "Call to qualify" in html and "10%" in html


def test_cards_carry_overdue_paused_approval_and_not_viewed_badges(
    client, sign_in, make, owner, journey, pending_proposal
):
    overdue = make.lead(owner=owner, next_action_due=today() - timedelta(days=1))
    paused = make.lead(owner=owner)
    pipeline.pause(db.session, paused, owner, paused.version, "timing")
    sent = journey.to(make.lead(owner=owner), "contract")
    awaiting, _, _ = pending_proposal
    sign_in(owner)
    html = client.get("/workspace/").get_data(as_text=True)

    def card(lead_id):
        start = html.index(f'id="card-{lead_id}"')
        return html[start : html.index("</article>", start)]

    assert "Overdue" in card(overdue.id)
    assert "Paused" in card(paused.id)
    assert "Awaiting approval" in card(awaiting.id)
    assert "Proposal not viewed" in card(sent.id)


def test_filters_by_owner_service_and_source(client, sign_in, make, owner):
    other = make.user("growth_ops", name="Otto Other")
    mine = make.lead(owner=owner, service="seo", source="referral", title="Mine")
    theirs = make.lead(owner=other, service="analytics", source="event", title="Theirs")
    sign_in(owner)
    html = client.get("/workspace/?owner=me").get_data(as_text=True)
    assert f'id="card-{mine.id}"' in html and f'id="card-{theirs.id}"' not in html
    html = client.get("/workspace/?service=analytics").get_data(as_text=True)
    assert f'id="card-{theirs.id}"' in html and f'id="card-{mine.id}"' not in html
    html = client.get(f"/workspace/?source=event&owner={other.id}").get_data(as_text=True)
    assert f'id="card-{theirs.id}"' in html and f'id="card-{mine.id}"' not in html


def test_my_leads_is_each_users_own_though_the_boards_statements_are_kept(client, sign_in, make, owner):
    """The board builds its statements once per shape of filters and keeps them (queries._board_statement),
    the values bound when they run: "my leads" is one shape for everyone, yet each user's board is
    their own, asked in either order, and a card moved a moment ago shows in its new column (the
    statement is kept, never its rows)."""
    other = make.user("growth_ops", name="Otto Other")
    mine = make.lead(owner=owner, title="Mine")
    theirs = make.lead(owner=other, title="Theirs")
    for _ in range(2):
        for me, shown, hidden in ((owner, mine, theirs), (other, theirs, mine)):
            sign_in(me)
            html = client.get("/workspace/?owner=me").get_data(as_text=True)
            assert f'id="card-{shown.id}"' in html and f'id="card-{hidden.id}"' not in html
    pipeline.move(
        db.session,
        mine,
        "qualified",
        owner,
        mine.version,
        next_action="Book discovery",
        next_action_due=today() + timedelta(days=2),
    )
    sign_in(owner)
    html = client.get("/workspace/?owner=me").get_data(as_text=True)
    qualified = html[html.index('id="cards-qualified"') : html.index('id="cards-discovery"')]
    assert f'id="card-{mine.id}"' in qualified


def test_filter_change_over_htmx_returns_the_board_fragment(client, sign_in, hx_get, make, owner):
    make.lead(owner=owner)
    sign_in(owner)
    resp = hx_get("/workspace/?owner=me")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and body.lstrip().startswith('<div id="board"')
    assert "<!doctype html>" not in body and "HX-Request" in resp.headers["Vary"]


def test_columns_show_the_first_n_and_more_loads_the_next_n_by_keyset(
    app, client, sign_in, hx_get, make, owner
):
    app.config["BOARD_COLUMN_LIMIT"] = 3
    leads = [make.lead(owner=owner, title=f"Lead {i:02d}") for i in range(7)]
    sign_in(owner)
    html = client.get("/workspace/").get_data(as_text=True)
    shown = [lead for lead in leads if f'id="card-{lead.id}"' in html]
    assert len(shown) == 3
    assert 'id="count-new">7<' in html
    more = html[html.index('class="button secondary small more" href="') + 42 :]
    url = more[: more.index('"')].replace("&amp;", "&")
    assert url.startswith("/workspace/board/new?after=")

    page2 = hx_get(url).get_data(as_text=True)
    second = [lead for lead in leads if f'id="card-{lead.id}"' in page2]
    assert len(second) == 3 and not set(second) & set(shown)
    more = page2[page2.index('href="') + 6 :]
    url3 = page2[page2.rindex('href="/workspace/board/new') + 6 :].split('"')[0].replace("&amp;", "&")
    page3 = hx_get(url3).get_data(as_text=True)
    third = [lead for lead in leads if f'id="card-{lead.id}"' in page3]
    assert len(third) == 1 and "/workspace/board/new?after" not in page3
    assert {lead.id for lead in shown + second + third} == {lead.id for lead in leads}


def test_more_url_reloaded_without_htmx_is_a_full_page(app, client, sign_in, make, owner):
    app.config["BOARD_COLUMN_LIMIT"] = 1
    make.lead(owner=owner)
    make.lead(owner=owner)
    sign_in(owner)
    resp = client.get("/workspace/board/new")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<!doctype html>" in body and "Back to the board" in body


def test_unknown_column_is_404(client, sign_in, owner):
    sign_in(owner)
    assert client.get("/workspace/board/nowhere").status_code == 404


# ---------------------------------------------------------------- moves


def test_successful_move_rerenders_the_card_in_its_new_column(client, sign_in, hx_post, make, owner):
    lead = make.lead(owner=owner)
    sign_in(owner)
    resp = hx_post(f"/workspace/leads/{lead.id}/move", {"stage": "qualified", "version": lead.version})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'hx-swap-oob="afterbegin:#cards-qualified"' in body
    assert f'id="card-{lead.id}" data-stage="qualified"' in body and "Moved to Qualified" in body
    assert 'id="count-qualified" hx-swap-oob="true">1<' in body
    assert db.session.get(Lead, lead.id).stage == "qualified"


def test_gate_refusal_shows_what_is_missing_inline_with_links(client, sign_in, hx_post, make, owner):
    lead = make.lead(owner=owner, decision_owner=None, budget_signal="")
    sign_in(owner)
    resp = hx_post(f"/workspace/leads/{lead.id}/move", {"stage": "qualified", "version": lead.version})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Decision owner is missing" in body and "Budget signal is missing" in body
    assert f'href="/workspace/leads/{lead.id}#qualification">Decision owner is missing' in body
    assert f'id="card-{lead.id}"' in body and "hx-swap-oob" not in body
    assert db.session.get(Lead, lead.id).stage == "new"


def test_stale_version_shows_the_conflict_and_the_current_state(client, sign_in, hx_post, make, owner):
    lead = make.lead(owner=owner)
    seen = lead.version
    pipeline.move(db.session, lead, "qualified", owner, lead.version)  # someone else moved it meanwhile
    sign_in(owner)
    resp = hx_post(f"/workspace/leads/{lead.id}/move", {"stage": "discovery", "version": seen})
    body = resp.get_data(as_text=True)
    current = db.session.get(Lead, lead.id)
    assert resp.status_code == 409
    assert "changed by someone else" in body
    assert f"Now in Qualified (version {current.version})" in body
    assert f'name="version" value="{current.version}"' in body
    assert current.stage == "qualified"


def test_only_the_owner_moves_a_lead_and_the_refusal_is_inline(client, sign_in, hx_post, make, owner):
    lead = make.lead(owner=owner)
    sign_in(make.user("growth_ops"))
    resp = hx_post(f"/workspace/leads/{lead.id}/move", {"stage": "qualified", "version": lead.version})
    assert resp.status_code == 403
    assert "Only the owner of this opportunity" in resp.get_data(as_text=True)


def test_lost_from_the_card_asks_for_reason_note_and_reactivation_then_moves(
    client, sign_in, hx_post, make, owner
):
    lead = make.lead(owner=owner)
    sign_in(owner)
    url = f"/workspace/leads/{lead.id}/move"
    resp = hx_post(url, {"stage": "lost", "version": lead.version})  # a drop on Lost, or Lost chosen
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'class="outcome outcome-lost"' in body
    assert "Lost reason" in body and "Never reactivate" in body and 'name="reactivation_date"' in body
    assert 'value="price"' in body and 'value="duplicate"' not in body  # merges record duplicates
    assert db.session.get(Lead, lead.id).stage == "new"

    resp = hx_post(url, {"stage": "lost", "outcome": "1", "version": lead.version, "lost_note": "Went quiet"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Lost reason is missing" in body
    assert 'class="outcome outcome-lost"' in body and "Went quiet" in body  # still asked, input kept

    back = (today() + timedelta(days=90)).isoformat()
    resp = hx_post(
        url,
        {
            "stage": "lost",
            "outcome": "1",
            "version": lead.version,
            "lost_reason": "timing",
            "lost_note": "Budget next year",
            "reactivation_date": back,
        },
    )
    body = resp.get_data(as_text=True)
    assert (
        resp.status_code == 200 and 'hx-swap-oob="afterbegin:#cards-lost"' in body and "Moved to Lost" in body
    )
    lost = db.session.get(Lead, lead.id)
    assert (lost.stage, lost.lost_reason, lost.lost_note) == ("lost", "timing", "Budget next year")
    assert lost.reactivation_date.isoformat() == back


def test_lost_with_never_and_duplicate_refused_by_hand(client, sign_in, hx_post, make, owner):
    lead = make.lead(owner=owner)
    sign_in(owner)
    url = f"/workspace/leads/{lead.id}/move"
    resp = hx_post(
        url,
        {
            "stage": "lost",
            "outcome": "1",
            "version": lead.version,
            "lost_reason": "duplicate",
            "reactivation_never": "1",
        },
    )
    assert resp.status_code == 400 and "Choose a lost reason" in resp.get_data(as_text=True)
    resp = hx_post(
        url,
        {
            "stage": "lost",
            "outcome": "1",
            "version": lead.version,
            "lost_reason": "poor_fit",
            "reactivation_never": "1",
        },
    )
    assert resp.status_code == 200
    lead = db.session.get(Lead, lead.id)
    assert lead.stage == "lost" and lead.reactivation_never


def test_won_from_the_card_asks_to_confirm_and_shows_the_gates_gaps(
    client, sign_in, hx_post, make, owner, journey
):
    lead = journey.to(make.lead(owner=owner), "contract")
    sign_in(owner)
    url = f"/workspace/leads/{lead.id}/move"
    resp = hx_post(url, {"stage": "won", "version": lead.version})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'class="outcome outcome-won"' in body and "Mark won" in body
    resp = hx_post(url, {"stage": "won", "outcome": "1", "version": lead.version})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "missing" in body
    assert db.session.get(Lead, lead.id).stage == "contract"


def test_unknown_stage_is_refused_inline(client, sign_in, hx_post, make, owner):
    lead = make.lead(owner=owner)
    sign_in(owner)
    resp = hx_post(f"/workspace/leads/{lead.id}/move", {"stage": "heaven", "version": lead.version})
    assert resp.status_code == 400 and "Choose the stage" in resp.get_data(as_text=True)


def test_plain_form_move_redirects_and_a_refusal_is_a_full_page(client, auth, sign_in, make, owner):
    good = make.lead(owner=owner)
    bad = make.lead(owner=owner, decision_owner=None)
    sign_in(owner)
    resp = auth.post(
        f"/workspace/leads/{good.id}/move", {"stage": "qualified", "version": good.version, "owner": "me"}
    )
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/workspace/?owner=me")
    resp = auth.post(f"/workspace/leads/{bad.id}/move", {"stage": "qualified", "version": bad.version})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "<!doctype html>" in body and "Decision owner is missing" in body


def test_card_url_is_a_fragment_over_htmx_and_a_page_on_reload(client, sign_in, hx_get, make, owner):
    lead = make.lead(owner=owner)
    sign_in(owner)
    assert hx_get(f"/workspace/leads/{lead.id}/card").get_data(as_text=True).lstrip().startswith("<article")
    page = client.get(f"/workspace/leads/{lead.id}/card").get_data(as_text=True)
    assert "<!doctype html>" in page and f'id="card-{lead.id}"' in page
