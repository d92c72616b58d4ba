"""A board card's markup, written in Python.

The board shows up to 25 cards in each of 8 columns; through the `card` macro
(templates/workspace/partials/card_macro.html) each card costs a few hundred Jinja calls and most of
the page's time. `board_card` writes the same markup as the macro for a card as the board lists it
(no refusal or "moved" notice: those single cards, swapped in after a move, still come from the
macro), with the values escaped as Jinja's autoescape does; a test compares the two for every kind
of card. What is the same for every card of a page (the two link URLs around the lead id, the CSRF
token, labels and badges) is escaped once.
"""

from __future__ import annotations

from flask import g
from markupsafe import Markup, escape

from ..models.vocab import SERVICE_LABELS
from . import BADGES, day_tag, id_url_parts, move_options

_SERVICE = {key: str(escape(label)) for key, label in SERVICE_LABELS.items()}
_BADGE = {
    key: f'<span class="badge {escape(css)}">{escape(text)}</span>' for key, (text, css) in BADGES.items()
}


def _page(csrf: str) -> tuple:
    """The escaped parts every card of this request shares (kept on `g` for the CSRF token given)."""
    cached = g.get("_board_card_page")
    if cached is None or cached[0] != csrf:
        lead = tuple(str(escape(part)) for part in id_url_parts("workspace.lead", "lead_id"))
        move = tuple(str(escape(part)) for part in id_url_parts("workspace.move_card", "lead_id"))
        cached = g._board_card_page = (csrf, lead, move, str(escape(csrf)))
    return cached


def board_card(card, csrf: str, hidden: str) -> Markup:
    _, (lead_head, lead_tail), (move_head, move_tail), token = _page(csrf)
    lead = card.lead
    lid = int(lead.id)
    url = f"{lead_head}{lid}{lead_tail}"
    title = escape(lead.title)
    due = f" · due {day_tag(lead.next_action_due)}" if lead.next_action_due else ""
    probability = f"{lead.probability}%" if lead.probability is not None else "—"
    stage = lead.stage
    movable = card.can_move and stage not in ("won", "lost")
    value = (
        f' · <strong class="value">{escape(lead.value_label)}</strong>'
        if lead.value_cents is not None
        else ""
    )
    out = [
        f'\n<article class="lead-card{" movable" if movable else ""}" id="card-{lid}" data-stage="{escape(stage)}">\n',
        f'  <h3><a href="{url}">{title}</a></h3>\n',
        f'  <div class="meta">{escape(lead.company)} · {escape(lead.owner_name or "Unowned")}</div>\n',
        f'  <div class="meta">Next: {escape(lead.next_action or "—")}{due}</div>\n',
        f'  <div class="meta">{_SERVICE[lead.service]} · {probability}{value}</div>\n',
    ]
    if card.badges:
        spans = "".join(_BADGE[b] for b in card.badges)
        out.append(f'  <div class="badges">\n{spans}\n</div>\n')
    else:
        out.append("  \n")
    out.append("  \n  \n  ")  # the macro's lines for a "moved" notice and a refusal, empty here
    if stage == "lost":
        out.append(f'\n  <p class="meta"><a href="{url}#outcome">Reactivate on the lead page</a></p>\n  ')
    elif movable:
        move = f"{move_head}{lid}{move_tail}"
        out.append(
            f'\n  \n  \n  <form method="post" action="{move}" class="move"\n'
            f'        hx-post="{move}" hx-target="closest .lead-card" hx-swap="outerHTML">\n'
            f'    <input type="hidden" name="csrf_token" value="{token}">\n'
            f'    <input type="hidden" name="version" value="{lead.version}">\n'
            f"    {hidden}\n"
            f'    <label class="sr-only" for="stage-{lid}">Move {title} to</label>\n'
            f'    <select name="stage" id="stage-{lid}">{move_options(stage)}</select>\n'
            f'    <button type="submit" class="small">Move</button>\n'
            f"  </form>\n  "
        )
    out.append("\n</article>")
    return Markup("".join(out))
