"""The board in Chromium: drag a card, a drag refused by a gate, the keyboard path, Lost from a drop,
Back after a move, and a page that never scrolls sideways (1366 px and an iPhone 13)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.builders import PASSWORD, Journey, Make
from zarts.domain import pipeline
from zarts.extensions import db
from zarts.models import today

from .test_browser import user_dict

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1366, "height": 800}}


@pytest.fixture
def seed(live_server):
    """Run a set-up function against the live database; returns what it returns (plain values)."""

    def _seed(fn):
        with live_server.app_context():
            result = fn(Make(), Journey(Make()))
            db.session.commit()
            db.session.remove()
            return result

    return _seed


@pytest.fixture
def open_board(browser, live_server, playwright):
    contexts, problems = [], []

    def _open(user, device=None):
        options = DESKTOP
        if device:
            options = {k: v for k, v in playwright.devices[device].items() if k != "default_browser_type"}
        context = browser.new_context(base_url=live_server.config["BASE_URL"], **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.goto("/login")
        page.get_by_label("Email").fill(user["email"])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Pipeline")).to_be_visible()
        # The heading shows before the deferred scripts (htmx, board.js, search.js) have run; "load"
        # fires after them, so a key pressed next is the page's, not a plain form's.
        page.wait_for_load_state("load")
        return page

    yield _open
    for context in contexts:
        context.close()
    bad = [p for p in problems if "Content Security Policy" in p or "Refused to" in p or "Error" in p]
    assert not bad, bad


def drag(page, card, column):
    """Press on the card's body, move over the column in steps, release (SortableJS pointer fallback)."""
    handle = card.locator(".meta").first
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    page.mouse.move(box["x"] + 10, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 30, box["y"] + 20, steps=5)
    column.scroll_into_view_if_needed()
    target = column.bounding_box()
    page.mouse.move(target["x"] + target["width"] / 2, target["y"] + 20, steps=12)
    page.mouse.move(target["x"] + target["width"] / 2, target["y"] + 30, steps=3)
    page.mouse.up()


def no_sideways_scroll(page):
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


def board_data(make, journey):
    owner = make.user("growth_ops", name="Olga Owner")
    other = make.user("growth_ops", name="Otto Other")
    ready = make.lead(
        owner=owner, title="Ready to qualify", company="Northwind", value_cents=1_200_000, currency="EUR"
    )
    blocked = make.lead(owner=owner, title="No decision owner", company="Contoso", decision_owner=None)
    theirs = make.lead(owner=other, title="Someone else's", company="Fabrikam")
    return user_dict(owner), ready.id, blocked.id, theirs.id


def test_drag_a_card_to_the_next_column_and_a_refused_drag_returns_with_the_reason(open_board, seed):
    owner, ready, blocked, theirs = seed(board_data)
    page = open_board(owner)
    expect(page.locator("#count-new")).to_contain_text("EUR 12,000")
    expect(page.locator(f"#card-{theirs}")).not_to_have_class("movable")
    expect(page.locator(f"#card-{theirs} form.move")).to_have_count(0)

    with page.expect_response(lambda r: r.url.endswith(f"/leads/{ready}/move")) as answer:
        drag(page, page.locator(f"#card-{ready}"), page.locator("#cards-qualified"))
    moved = page.locator(f"#cards-qualified #card-{ready}")
    expect(moved).to_contain_text("Moved to Qualified")
    timing = answer.value.request.timing
    print(f"\n  drag: move POST answered in {timing['responseEnd'] - timing['requestStart']:.1f} ms")
    expect(page.locator(f"#cards-new #card-{ready}")).to_have_count(0)
    expect(page.locator("#count-qualified")).to_have_text("1 · EUR 12,000")
    expect(page.locator("#count-new")).not_to_contain_text("EUR")

    drag(page, page.locator(f"#card-{blocked}"), page.locator("#cards-qualified"))
    card = page.locator(f"#cards-new #card-{blocked}")  # back in its own column
    expect(card).to_contain_text("Decision owner is missing")
    expect(page.locator(f"#cards-qualified #card-{blocked}")).to_have_count(0)


def test_drop_on_lost_asks_for_the_reason_on_the_card(open_board, seed):
    owner, ready, _, _ = seed(board_data)
    page = open_board(owner)
    drag(page, page.locator(f"#card-{ready}"), page.locator("#cards-lost"))
    card = page.locator(f"#cards-new #card-{ready}")
    expect(card.get_by_label("Lost reason")).to_be_visible()
    card.get_by_label("Lost reason").select_option("timing")
    card.get_by_label("Reactivate on").fill((today() + timedelta(days=60)).isoformat())
    card.get_by_role("button", name="Mark lost").click()
    expect(page.locator(f"#cards-lost #card-{ready}")).to_contain_text("Moved to Lost")


def test_keyboard_move_keeps_focus_on_the_moved_card(open_board, seed):
    owner, ready, _, _ = seed(board_data)
    page = open_board(owner)
    select = page.locator(f"#card-{ready} select[name=stage]")
    select.focus()
    select.select_option("qualified")
    page.keyboard.press("Tab")
    expect(page.locator(f"#card-{ready}").get_by_role("button", name="Move")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(f"#cards-qualified #card-{ready}")).to_contain_text("Moved to Qualified")
    expect(page.locator(f"#card-{ready} h3 a")).to_be_focused()


def test_focus_follows_the_moved_card_when_the_bell_answers_first(open_board, seed):
    """The bell polls while a move is on its way: its answer settles first and must not take the
    focus to the card still in its old column (which the move then swaps away)."""
    owner, ready, _, _ = seed(board_data)
    page = open_board(owner)
    held = []
    page.route(re.compile(r".*/leads/\d+/move$"), lambda route: held.append(route))
    select = page.locator(f"#card-{ready} select[name=stage]")
    select.focus()
    select.select_option("qualified")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('.lead-card.pending, .htmx-request') !== null")
    with page.expect_response(re.compile(r".*/notifications/bell$")):
        page.evaluate(
            "() => { const slot = document.querySelector('.bell .bell-slot');"
            " htmx.ajax('GET', slot.getAttribute('hx-get'), {source: slot, target: slot}); }"
        )
    page.wait_for_timeout(100)  # the bell's swap settles (htmx settles 20 ms after a swap)
    assert len(held) == 1
    held[0].continue_()
    expect(page.locator(f"#cards-qualified #card-{ready}")).to_contain_text("Moved to Qualified")
    expect(page.locator(f"#card-{ready} h3 a")).to_be_focused()


def test_back_after_a_move_shows_the_board_as_it_is_now(open_board, seed):
    owner, ready, _, _ = seed(board_data)
    page = open_board(owner)
    page.locator(".filters select[name=owner]").select_option("me")  # htmx pushes ?owner=me
    expect(page).to_have_url(re.compile(r"owner=me"))
    expect(page.locator(f"#cards-new #card-{ready}")).to_be_visible()
    drag(page, page.locator(f"#card-{ready}"), page.locator("#cards-qualified"))
    expect(page.locator(f"#cards-qualified #card-{ready}")).to_contain_text("Moved to Qualified")

    page.locator(f"#card-{ready} h3 a").click()
    expect(page.locator("#stage")).to_contain_text("Qualified")
    page.go_back()
    expect(page.locator(f"#cards-qualified #card-{ready}")).to_be_visible()
    expect(page.locator(f"#cards-new #card-{ready}")).to_have_count(0)
    page.go_back()  # the unfiltered board, from before the filter and the move: fetched, not a snapshot
    expect(page.locator(f"#cards-qualified #card-{ready}")).to_be_visible()
    expect(page.locator(f"#cards-new #card-{ready}")).to_have_count(0)


@pytest.mark.parametrize("device", [None, "iPhone 13"])
def test_the_page_never_scrolls_sideways(open_board, seed, device):
    def data(make, journey):
        owner = make.user("growth_ops", name="Olga Owner")
        for stage in ("new", "qualified", "discovery", "audit", "proposal", "contract", "won", "lost"):
            for i in range(2):
                lead = make.lead(
                    owner=owner,
                    title=f"A rather long opportunity title {stage} {i}",
                    value_cents=250_000 * (i + 1),
                    currency=("EUR", "USD")[i],
                )
                if stage == "lost":
                    pipeline.mark_lost(
                        db.session, lead, owner, None, lost_reason="timing", reactivation_never=True
                    )
                elif stage == "won":  # shown like a won card: the column's width is what matters here
                    journey.to(lead, "contract")
                elif stage != "new":
                    journey.to(lead, stage)
        return user_dict(owner)

    page = open_board(seed(data), device)
    page.goto("/workspace/?owner=me")
    expect(page.locator("#cards-lost .lead-card")).to_have_count(2)
    expect(page.locator("#cards-contract .lead-card")).to_have_count(4)
    assert no_sideways_scroll(page) <= 0
    page.locator("#board").evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    assert no_sideways_scroll(page) <= 0
    topbar = page.locator(".topbar").bounding_box()
    assert topbar["width"] >= page.evaluate("() => window.innerWidth") - 1
