"""What changed between two proposal versions: scope items, price, timeline, claim and contract language.

`diff_proposals(old, new)` compares client-facing content only (the fields a sent snapshot holds), so
its result is safe to show on the approvals queue, in the handoff packet and on the client's copy.
Internal fields (pricing assumptions, internal notes) are never part of a diff.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from typing import Any

from ..models import Proposal

# The proposal fields a diff compares, in the order a reader expects them.
FIELDS = (
    "title",
    "summary",
    "price_cents",
    "currency",
    "timeline",
    "expected_improvement",
    "contract_language",
    "decision_deadline",
)
FIELD_LABELS = {
    "title": "Title",
    "summary": "Summary",
    "price_cents": "Price",
    "currency": "Currency",
    "timeline": "Timeline",
    "expected_improvement": "Expected improvement (claim)",
    "contract_language": "Contract language",
    "decision_deadline": "Decision deadline",
}
ITEM_FIELDS = ("description", "price_cents")


def content(proposal: Proposal | dict) -> dict:
    """The client-facing content of a version: its frozen snapshot when sent, its fields when a draft."""
    if isinstance(proposal, dict):
        snap = proposal
    elif proposal.snapshot is not None:
        snap = proposal.snapshot
    else:
        snap = {
            "number": proposal.number,
            "title": proposal.title,
            "summary": proposal.summary,
            "price_cents": proposal.price_cents,
            "currency": proposal.currency,
            "timeline": proposal.timeline,
            "expected_improvement": proposal.expected_improvement,
            "contract_language": proposal.contract_language,
            "decision_deadline": proposal.decision_deadline.isoformat()
            if proposal.decision_deadline
            else None,
            "items": [
                {"kind": i.kind, "title": i.title, "description": i.description, "price_cents": i.price_cents}
                for i in proposal.items
            ],
        }
    out = {name: snap.get(name) for name in FIELDS}
    out["number"] = snap.get("number")
    out["items"] = [
        {
            "kind": i.get("kind"),
            "title": i.get("title"),
            "description": i.get("description"),
            "price_cents": i.get("price_cents"),
        }
        for i in snap.get("items") or []
    ]
    return out


def _blank(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _by_key(items: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """Items grouped by (kind, title); a repeated title pairs up in order of appearance."""
    out: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for item in items:
        out[(item["kind"], item["title"])].append(item)
    return out


def _item_diff(old_items: list[dict], new_items: list[dict]) -> dict[str, list[dict]]:
    before, after = _by_key(old_items), _by_key(new_items)
    added, removed, changed = [], [], []
    for key in sorted(before.keys() | after.keys()):
        olds, news = before.get(key, []), after.get(key, [])
        for old, new in zip(olds, news):
            fields = {
                f: {"old": _blank(old.get(f)), "new": _blank(new.get(f))}
                for f in ITEM_FIELDS
                if _blank(old.get(f)) != _blank(new.get(f))
            }
            if fields:
                changed.append({"kind": key[0], "title": key[1], "fields": fields})
        added += [dict(i) for i in news[len(olds) :]]
        removed += [dict(i) for i in olds[len(news) :]]
    return {"added": added, "removed": removed, "changed": changed}


def diff_proposals(old: Proposal | dict, new: Proposal | dict) -> dict:
    """The structured difference between two versions (Proposal rows or snapshot dicts).

    Returns {"from_version", "to_version", "fields": {name: {"old", "new", "label"}} (changed fields
    only), "items": {"added": [item], "removed": [item], "changed": [{"kind", "title", "fields"}]},
    "changed": bool}. Items are matched by kind and title: a retitled item is one removal and one
    addition. Values are JSON-friendly (prices in cents, dates as ISO strings).
    """
    a, b = content(old), content(new)
    fields = {
        name: {"old": _blank(a[name]), "new": _blank(b[name]), "label": FIELD_LABELS[name]}
        for name in FIELDS
        if _blank(a[name]) != _blank(b[name])
    }
    items = _item_diff(a["items"], b["items"])
    return {
        "from_version": a["number"],
        "to_version": b["number"],
        "fields": fields,
        "items": items,
        "changed": bool(fields or items["added"] or items["removed"] or items["changed"]),
    }


def diff_chain(versions: list[Proposal | dict]) -> list[dict]:
    """The diff of each consecutive pair, oldest first (v1→v2, v2→v3, …)."""
    return [diff_proposals(a, b) for a, b in pairwise(versions)]
