"""A board card's markup, written in Python.

The board shows up to 25 cards in each of 8 columns; through the `card` macro
(templates/workspace/partials/card_macro.html) each card costs a few hundred Jinja calls and most of
the page's time. `board_card` writes the same markup as the macro for a card as the board lists it
(no refusal or "moved" notice: those single cards, swapped in after a move, still come from the
macro), with the values escaped as Jinja's autoescape does; a test compares the two for every kind
of card.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from ..models.vocab import SERVICE_LABELS
from . import BADGES, day_tag, lead_url, move_options


def board_card(card, csrf: str, hidden: str) -> Markup:
    lead = card.lead
    lid = lead.id
    url = escape(lead_url("workspace.lead", lid))
    title = escape(lead.title)
    due = f" · due {day_tag(lead.next_action_due)}" if lead.next_action_due else ""
    probability = f"{lead.probability}%" if lead.probability is not None else "—"
    out = [
        f'\n<article class="lead-card" id="card-{lid}" data-stage="{escape(lead.stage)}">\n',
        f'  <h3><a href="{url}">{title}</a></h3>\n',
        f'  <div class="meta">{escape(lead.company)} · {escape(lead.owner_name or "Unowned")}</div>\n',
        f'  <div class="meta">Next: {escape(lead.next_action or "—")}{due}</div>\n',
        f'  <div class="meta">{escape(SERVICE_LABELS[lead.service])} · {probability}</div>\n',
    ]
    if card.badges:
        spans = "".join(f'<span class="badge {escape(BADGES[b][1])}">{escape(BADGES[b][0])}</span>'
                        for b in card.badges)
        out.append(f'  <div class="badges">\n{spans}\n</div>\n')
    else:
        out.append("  \n")
    out.append("  \n  \n  ")  # the macro's lines for a "moved" notice and a refusal, empty here
    if lead.stage == "lost":
        out.append(f'\n  <p class="meta"><a href="{url}#outcome">Reactivate on the lead page</a></p>\n  ')
    elif lead.stage != "won":
        move = escape(lead_url("workspace.move_card", lid))
        out.append(
            f'\n  \n  <form method="post" action="{move}"\n'
            f'        hx-post="{move}" hx-target="closest .lead-card" hx-swap="outerHTML">\n'
            f'    <input type="hidden" name="csrf_token" value="{escape(csrf)}">\n'
            f'    <input type="hidden" name="version" value="{lead.version}">\n'
            f'    {hidden}\n'
            f'    <label class="sr-only" for="stage-{lid}">Move {title} to</label>\n'
            f'    <select name="stage" id="stage-{lid}">{move_options(lead.stage)}</select>\n'
            f'    <button type="submit" class="small">Move</button>\n'
            f'  </form>\n  ')
    out.append("\n</article>")
    return Markup("".join(out))
