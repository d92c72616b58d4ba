"""The board's cards written in Python (zarts/workspace/cards.py) are the cards the `card` macro
renders, character for character: every stage, every badge, missing values, markup in the text,
with and without the viewer's right to move the card, with and without a value."""

from __future__ import annotations

import itertools
from datetime import date, datetime

import pytest
from flask import render_template_string
from markupsafe import Markup

from zarts.models.vocab import SERVICE_LABELS, STAGES
from zarts.workspace import BADGES
from zarts.workspace.cards import board_card
from zarts.workspace.queries import BoardFilters, Card, CardLead

MACRO = '{% import "workspace/partials/card_macro.html" as c with context %}{{ c.card(card, csrf, hidden) }}'
HIDDEN = '{% import "workspace/partials/card_macro.html" as c with context %}{{ c.hidden_filters(filters) }}'


def _cards():
    services = itertools.cycle(SERVICE_LABELS)
    n = itertools.count(1)
    texts = [
        ("Plain title", "Acme", "Call back", "Ann"),
        ('<script>alert("x")</script> & co', "O'Brien & Sons <b>", 'Send <i>deck</i> & "terms"', "Zoë <x>"),
        ("Nothing set", "Blank Ltd", None, None),
    ]
    for stage, (title, company, action, owner) in itertools.product(STAGES, texts):
        for badges, can_move, value in (
            ((), True, None),
            (("overdue",), False, (1200000, "EUR")),
            (tuple(BADGES), True, (5050, "U<S")),
        ):
            i = next(n)
            yield Card(
                CardLead(
                    id=i,
                    title=title,
                    company=company,
                    stage=stage,
                    service=next(services),
                    owner_id=i if owner else None,
                    owner_name=owner,
                    next_action=action,
                    next_action_due=date(2026, 11, i % 28 + 1) if action else None,
                    probability=(i * 7) % 101 if action else None,
                    paused_at=None,
                    updated_at=datetime(2026, 11, 27, 9, 0),
                    version=i,
                    value_cents=value[0] if value else None,
                    currency=value[1] if value else None,
                ),
                badges,
                can_move,
            )


@pytest.mark.parametrize("filters", [BoardFilters(), BoardFilters(owner="me", service="seo", source='x"<y>')])
def test_each_board_card_is_the_markup_the_card_macro_renders(app, filters):
    with app.test_request_context("/workspace/"):
        hidden = Markup(render_template_string(HIDDEN, filters=filters))
        csrf = 'token-with-"quotes"&amp'
        checked = 0
        for card in _cards():
            expected = render_template_string(MACRO, card=card, csrf=csrf, hidden=hidden)
            assert str(board_card(card, csrf, hidden)) == expected, card
            checked += 1
    assert checked == len(STAGES) * 9
