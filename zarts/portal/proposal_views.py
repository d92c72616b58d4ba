"""Portal proposals: the sent, frozen versions, the live add-on total, accept and decline."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from ..auth.access import client_required
from ..domain import DomainError, unit
from ..domain import proposals as proposal_ops
from ..extensions import db
from ..models import Proposal
from . import bp, queries
from .common import client_id, contact, form_version, found, int_values, is_htmx, run


@bp.get("/proposals")
@client_required
def proposals():
    return render_template("portal/proposals.html", proposals=queries.proposal_lines(db.session, client_id()))


def _row(proposal_id: int) -> Proposal:
    return found(queries.proposal_row(db.session, client_id(), proposal_id))


def _record_view(proposal: Proposal) -> None:
    """The first open records the viewed date (an event for the owner); later opens change nothing."""
    if proposal.viewed_at is not None:
        return
    try:
        with unit(db.session):
            proposal_ops.record_view(db.session, proposal, contact())
    except DomainError:
        pass  # a concurrent first open already recorded it


def _page(proposal: Proposal, chosen=()):
    return queries.proposal_page(proposal, queries.lead_stage(db.session, proposal), chosen)


def _full(proposal_id: int, chosen=(), error: str | None = None, status: int = 200, reason: str = ""):
    proposal = _row(proposal_id)
    if proposal.status == "superseded":
        notice = found(queries.superseded_notice(db.session, proposal))
        return render_template("portal/proposal_superseded.html", notice=notice, error=error), status
    _record_view(proposal)
    return render_template(
        "portal/proposal.html",
        p=_page(proposal, chosen),
        error=error,
        reason=reason,
        audit_summary=queries.audit_summary(db.session, client_id(), proposal.lead_id),
        files=queries.proposal_files(db.session, client_id(), proposal.id),
    ), status


@bp.get("/proposals/<int:proposal_id>")
@client_required
def proposal(proposal_id: int):
    return _full(proposal_id)


@bp.get("/proposals/<int:proposal_id>/total")
@client_required
def proposal_total(proposal_id: int):
    """The total with the ticked add-ons (HTMX partial; a plain load shows the page with them ticked)."""
    chosen = int_values(request.args.getlist("add_on"))
    if not is_htmx():
        return _full(proposal_id, chosen)
    proposal = _row(proposal_id)
    if proposal.status == "superseded":
        abort(404)
    return render_template("portal/partials/proposal_total.html", p=_page(proposal, chosen))


def _decision(
    proposal_id: int,
    *,
    chosen=(),
    error: str | None = None,
    status: int = 200,
    notice: str | None = None,
    reason: str = "",
):
    if not is_htmx():
        return _full(proposal_id, chosen, error, status, reason)
    proposal = _row(proposal_id)
    latest = queries.superseded_notice(db.session, proposal) if proposal.status == "superseded" else None
    # The deadline in the page header may have moved too (staff extend it): refreshed out of band.
    return render_template(
        "portal/partials/proposal_decision.html",
        p=_page(proposal, chosen),
        error=error,
        notice=notice,
        latest=latest,
        reason=reason,
        oob=True,
    ), status


@bp.post("/proposals/<int:proposal_id>/accept")
@client_required
def accept(proposal_id: int):
    """Accept the version the page showed, with the add-ons ticked on it (the domain checks both)."""
    proposal = _row(proposal_id)
    add_ons = request.form.getlist("add_on")
    err = run(
        lambda: proposal_ops.accept_proposal(
            db.session, proposal, contact(), form_version(), add_on_ids=add_ons
        )
    )
    if err:
        return _decision(proposal_id, chosen=int_values(add_ons), error=err.message, status=err.status)
    done = "Thank you — you accepted this proposal. The team will send the contract next."
    if not is_htmx():
        flash(done, "success")
        return redirect(url_for(".proposal", proposal_id=proposal_id), 303)
    return _decision(proposal_id, notice=done)


@bp.post("/proposals/<int:proposal_id>/decline")
@client_required
def decline(proposal_id: int):
    proposal = _row(proposal_id)
    reason = request.form.get("reason", "")
    err = run(lambda: proposal_ops.decline_proposal(db.session, proposal, contact(), form_version(), reason))
    if err:
        return _decision(proposal_id, error=err.message, status=err.status, reason=reason)
    done = "You declined this proposal. Thank you for telling us why — the team will be in touch."
    if not is_htmx():
        flash(done, "success")
        return redirect(url_for(".proposal", proposal_id=proposal_id), 303)
    return _decision(proposal_id, notice=done)
