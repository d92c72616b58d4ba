"""The approvals queue: what exactly is approved, beside the audit evidence behind it; decided inline."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from ..auth.access import roles_required
from ..domain import Invalid
from ..domain import approvals as domain_approvals
from ..extensions import db
from ..models import Approval
from . import bp
from . import queue_queries as queries
from .common import actor, attempt, render, text, version, wants_fragment


@bp.route("/approvals")
@roles_required("approver")
def approvals():
    data = queries.approvals_queue(db.session)
    return render("workspace/partials/approvals.html", "workspace/approvals.html", **data)


@bp.route("/approvals/<int:approval_id>")
@roles_required("approver")
def approval_item(approval_id: int):
    item = queries.queue_item(db.session, approval_id)
    if item is None:
        abort(404)
    return render("workspace/partials/approval_item.html", "workspace/approval.html", item=item)


@bp.post("/approvals/<int:approval_id>/decide")
@roles_required("approver")
def decide(approval_id: int):
    """Approve or reject (a rejection needs a comment): the item drops out into the decided list."""
    approval = db.session.get(Approval, approval_id)
    if approval is None:
        abort(404)
    decision = request.form.get("decision")

    def act():
        if decision not in ("approve", "reject"):
            raise Invalid("Choose approve or reject.", "decision")
        domain_approvals.decide(
            db.session, approval, actor(), version(), approve=decision == "approve", comment=text("comment")
        )

    error = attempt(act)
    if error is None:
        if not wants_fragment():
            flash(f"{'Approved' if decision == 'approve' else 'Rejected'}.", "success")
            return redirect(url_for(".approvals"), 303)
        return render_template(
            "workspace/partials/approval_decided.html", approval=queries.decided_row(db.session, approval_id)
        )
    item = queries.queue_item(db.session, approval_id)
    return render(
        "workspace/partials/approval_item.html",
        "workspace/approval.html",
        error.status,
        item=item,
        error=error,
    )
