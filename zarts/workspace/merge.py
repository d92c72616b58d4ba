"""Duplicates and merge: the lead page's "Possible duplicates" box, and the merge screens of two leads
and of two clients (pick the two, compare them field by field, choose what survives, confirm).

The box is loaded by its own request (hx-get on load), so the lead page's statement count stays as
it was. The merge itself is zarts.domain.merge (who may, what moves, what is refused).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for

from ..auth.access import staff_required
from ..domain import merge
from ..domain.duplicates import client_duplicates, lead_duplicates
from ..extensions import db
from ..models import Client, Lead, Proposal
from ..models.vocab import CLIENT_STATUS_LABELS, SERVICE_LABELS, SOURCE_LABELS
from . import bp
from .common import actor, attempt, render, version

MERGERS = ("admin", "growth_ops")  # who may merge: the domain checks each record; others see why not
SEARCH_LIMIT = 10


def _id(name: str, source=None) -> int | None:
    raw = ((source if source is not None else request.values).get(name) or "").strip().lstrip("#")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


def _display(name: str, value) -> str:
    """A compared value in words."""
    if value is None or value == "":
        return "—"
    if name == "value":
        cents, currency = value
        return f"{currency} {cents / 100:,.2f}"
    labels = {"source": SOURCE_LABELS, "service": SERVICE_LABELS, "status": CLIENT_STATUS_LABELS}.get(name)
    if labels:
        return labels.get(value, value)
    if name in ("service_fit", "urgency", "report_cadence"):
        return str(value).replace("_", " ").capitalize()
    return str(value)


# ---------------------------------------------------------------- the lead page's box


@bp.route("/leads/<int:lead_id>/duplicates")
@staff_required
def lead_duplicates_box(lead_id: int):
    """Possible duplicates of this lead (each with "Merge…"), and the leads already merged into it
    with their proposals (proposals stay with the lead they were written for: zarts.domain.merge)."""
    lead = db.session.get(Lead, lead_id) or abort(404)
    matches = (
        []
        if lead.merged_into_id
        else lead_duplicates(
            db.session, company=lead.company, contact_email=lead.contact_email, exclude_id=lead.id
        )
    )
    absorbed = merge.absorbed_leads(db.session, lead.id)
    proposals = {}
    if absorbed:
        for p in db.session.scalars(
            sa.select(Proposal)
            .where(Proposal.lead_id.in_([a.id for a in absorbed]))
            .order_by(Proposal.lead_id, Proposal.number)
        ):
            proposals.setdefault(p.lead_id, []).append(p)
    return render(
        "workspace/partials/duplicates.html",
        "workspace/duplicates.html",
        lead=lead,
        matches=matches,
        absorbed=absorbed,
        absorbed_proposals=proposals,
        box=True,
        may_merge=actor().role in MERGERS,
    )


# ---------------------------------------------------------------- leads


def _search_leads(term: str, exclude: int | None) -> list[Lead]:
    term = term.strip()
    if not term:
        return []
    query = sa.select(Lead).where(Lead.merged_into_id.is_(None))
    if term.lstrip("#").isdigit() and len(term) <= 18:
        query = query.where(Lead.id == int(term.lstrip("#")))
    else:
        for word in term.split()[:5]:
            query = query.where(Lead.search_document().ilike(f"%{word.replace('%', '').replace('_', '')}%"))
    if exclude is not None:
        query = query.where(Lead.id != exclude)
    return list(db.session.scalars(query.order_by(Lead.id.desc()).limit(SEARCH_LIMIT)))


def _lead_screen(survivor_id, duplicate_id, *, error=None, status: int = 200, chosen=None):
    survivor = db.session.get(Lead, survivor_id) if survivor_id else None
    duplicate = db.session.get(Lead, duplicate_id) if duplicate_id else None
    if (survivor_id and survivor is None) or (duplicate_id and duplicate is None):
        abort(404)
    context = dict(
        kind="lead",
        survivor=survivor,
        duplicate=duplicate,
        error=error,
        chosen=chosen or {},
        display=_display,
        q=request.args.get("q", ""),
        results=[],
        suggestions=[],
        diffs=[],
    )
    if survivor is not None and duplicate is None:
        context["suggestions"] = lead_duplicates(
            db.session, company=survivor.company, contact_email=survivor.contact_email, exclude_id=survivor.id
        )
        context["results"] = _search_leads(context["q"], survivor.id)
    elif survivor is not None and duplicate is not None:
        context["diffs"] = merge.lead_differences(survivor, duplicate)
    return render("workspace/partials/merge_body.html", "workspace/merge.html", status, **context)


@bp.route("/merge/leads")
@staff_required
def merge_leads_screen():
    """Step 1: the lead that stays (`survivor`) and its possible duplicates, an id, or a name search;
    step 2 (`duplicate` given): both side by side, a choice per differing field, and confirm."""
    survivor_id = _id("survivor")
    if survivor_id is None:
        return _start_screen("lead")
    return _lead_screen(survivor_id, _id("duplicate"))


@bp.post("/merge/leads")
@staff_required
def merge_leads_confirm():
    survivor_id, duplicate_id = _id("survivor", request.form), _id("duplicate", request.form)
    survivor = db.session.get(Lead, survivor_id) if survivor_id else None
    duplicate = db.session.get(Lead, duplicate_id) if duplicate_id else None
    if survivor is None or duplicate is None:
        abort(404)
    choices = {
        name: request.form[f"keep_{name}"] for name, _ in merge.LEAD_FIELDS if f"keep_{name}" in request.form
    }
    error = attempt(
        lambda: merge.merge_leads(
            db.session,
            survivor,
            duplicate,
            actor(),
            version("survivor_version"),
            version("duplicate_version"),
            choices,
        )
    )
    if error is None:
        flash(f"Merged lead #{duplicate_id} into this one: both histories are on the timeline.", "success")
        target = url_for(".lead", lead_id=survivor_id)
        if request.htmx:
            return "", 200, {"HX-Redirect": target}
        return redirect(target, 303)
    return _lead_screen(survivor_id, duplicate_id, error=error, status=error.status, chosen=choices)


# ---------------------------------------------------------------- clients


def _search_clients(term: str, exclude: int | None) -> list[Client]:
    term = term.strip()
    if not term:
        return []
    query = sa.select(Client).where(Client.merged_into_id.is_(None))
    if term.lstrip("#").isdigit() and len(term) <= 18:
        query = query.where(Client.id == int(term.lstrip("#")))
    else:
        query = query.where(Client.name.ilike(f"%{term.replace('%', '').replace('_', '')[:100]}%"))
    if exclude is not None:
        query = query.where(Client.id != exclude)
    return list(db.session.scalars(query.order_by(Client.id.desc()).limit(SEARCH_LIMIT)))


def _client_screen(survivor_id, duplicate_id, *, error=None, status: int = 200, chosen=None):
    survivor = db.session.get(Client, survivor_id) if survivor_id else None
    duplicate = db.session.get(Client, duplicate_id) if duplicate_id else None
    if (survivor_id and survivor is None) or (duplicate_id and duplicate is None):
        abort(404)
    context = dict(
        kind="client",
        survivor=survivor,
        duplicate=duplicate,
        error=error,
        chosen=chosen or {},
        display=_display,
        q=request.args.get("q", ""),
        results=[],
        suggestions=[],
        diffs=[],
    )
    if survivor is not None and duplicate is None:
        context["suggestions"] = client_duplicates(
            db.session, name=survivor.name, domain=survivor.domain, exclude_id=survivor.id
        )
        context["results"] = _search_clients(context["q"], survivor.id)
    elif survivor is not None and duplicate is not None:
        context["diffs"] = merge.client_differences(survivor, duplicate)
    return render("workspace/partials/merge_body.html", "workspace/merge.html", status, **context)


@bp.route("/merge/clients")
@staff_required
def merge_clients_screen():
    survivor_id = _id("survivor")
    if survivor_id is None:
        return _start_screen("client")
    return _client_screen(survivor_id, _id("duplicate"))


@bp.post("/merge/clients")
@staff_required
def merge_clients_confirm():
    survivor_id, duplicate_id = _id("survivor", request.form), _id("duplicate", request.form)
    survivor = db.session.get(Client, survivor_id) if survivor_id else None
    duplicate = db.session.get(Client, duplicate_id) if duplicate_id else None
    if survivor is None or duplicate is None:
        abort(404)
    choices = {
        name: request.form[f"keep_{name}"]
        for name, _ in merge.CLIENT_FIELDS
        if f"keep_{name}" in request.form
    }
    error = attempt(
        lambda: merge.merge_clients(
            db.session,
            survivor,
            duplicate,
            actor(),
            version("survivor_version"),
            version("duplicate_version"),
            choices,
        )
    )
    if error is None:
        flash(
            f"Merged client #{duplicate_id} into {survivor.name}: its leads, projects and contacts "
            "now belong here.",
            "success",
        )
        target = url_for(".merge_clients_screen", survivor=survivor_id)
        if request.htmx:
            return "", 200, {"HX-Redirect": target}
        return redirect(target, 303)
    return _client_screen(survivor_id, duplicate_id, error=error, status=error.status, chosen=choices)


def _start_screen(kind: str):
    """No record chosen yet: search for the one that stays."""
    q = request.args.get("q", "")
    results = _search_leads(q, None) if kind == "lead" else _search_clients(q, None)
    return render(
        "workspace/partials/merge_body.html",
        "workspace/merge.html",
        kind=kind,
        survivor=None,
        duplicate=None,
        error=None,
        chosen={},
        display=_display,
        q=q,
        results=results,
        suggestions=[],
        diffs=[],
    )
