"""The lead page: the opportunity grouped by the guide's checkpoints, and the lead's own state
(next action, qualification, discovery, stage, pause, loss, win-back, win).

Every form posts one domain action. On success an HTMX request gets the re-rendered page body (so
every form on it carries fresh versions); on refusal the body comes back with the message (and the
gate's gaps) in the section the user was in, with what they typed kept.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for

from ..auth.access import staff_required
from ..domain import Invalid, money, pipeline, proposals
from ..extensions import db
from ..models import Lead
from ..models.vocab import (
    CONSENT,
    LOST_REASONS,
    PAUSE_REASONS,
    SERVICE_FIT,
    SERVICES,
    SOURCES,
    STAGES,
    URGENCY,
)
from . import bp, queries
from .common import actor, attempt, choice, date_field, flag, render, text, version, wants_fragment

QUALIFICATION_TEXT = (
    "title",
    "company",
    "contact_name",
    "contact_email",
    "contact_phone",
    "contact_path",
    "source_context",
    "decision_owner",
    "budget_signal",
)
QUALIFICATION_CHOICES = (
    ("source", SOURCES, "source"),
    ("service", SERVICES, "service"),
    ("service_fit", SERVICE_FIT, "service fit"),
    ("urgency", URGENCY, "urgency"),
    ("consent", CONSENT, "consent state"),
)


class FormState:
    """What the template needs to keep a refused form as the user typed it."""

    def __init__(self, section: str | None, submitted):
        self.section = section
        self.submitted = submitted

    def __call__(self, section: str, name: str, default=None):
        if self.section == section and name in self.submitted:
            return self.submitted.get(name)
        return "" if default is None else default


def render_lead(
    lead_id: int,
    *,
    section: str | None = None,
    error=None,
    done: str | None = None,
    editing: str | None = None,
    status: int = 200,
):
    page = queries.lead_page(db.session, lead_id)
    if page is None:
        abort(404)
    fv = FormState(section if error is not None else None, request.form)
    return render(
        "workspace/partials/lead_body.html",
        "workspace/lead.html",
        status,
        page=page,
        lead=page.lead,
        section=section,
        error=error,
        done=done,
        editing=editing,
        fv=fv,
        objections=proposals.objection_history(db.session, lead_id, page.proposals),
    )


def lead_action(lead_id: int, section: str, action, done: str = "Saved."):
    """Run one lead-page action and answer with the page body (HTMX) or a redirect (plain form)."""
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        abort(404)
    error = attempt(lambda: action(lead))
    if error is None and not wants_fragment():
        flash(done, "success")
        return redirect(url_for(".lead", lead_id=lead_id, _anchor=section), 303)
    return render_lead(
        lead_id,
        section=section,
        error=error,
        done=None if error else done,
        status=error.status if error else 200,
    )


@bp.route("/leads/<int:lead_id>")
@staff_required
def lead(lead_id: int):
    return render_lead(lead_id)


@bp.route("/leads/<int:lead_id>/events")
@staff_required
def lead_events(lead_id: int):
    """Older timeline entries ("older" link); reloaded on its own, a page of the lead's history."""
    if not queries.lead_exists(db.session, lead_id):
        abort(404)
    events, cursor = queries.lead_events(
        db.session, lead_id, request.args.get("before"), queries.TIMELINE_LIMIT
    )
    return render(
        "workspace/partials/timeline_items.html",
        "workspace/events.html",
        lead_id=lead_id,
        events=events,
        cursor=cursor,
    )


@bp.route("/leads/<int:lead_id>/next-action")
@staff_required
def next_action(lead_id: int):
    if wants_fragment():
        lead = db.session.get(Lead, lead_id) or abort(404)
        return render(
            "workspace/partials/next_action.html", "workspace/lead.html", lead=lead, fv=FormState(None, {})
        )
    return render_lead(lead_id)


@bp.route("/leads/<int:lead_id>/next-action/edit")
@staff_required
def next_action_form(lead_id: int):
    if wants_fragment():
        lead = db.session.get(Lead, lead_id) or abort(404)
        return render(
            "workspace/partials/next_action_form.html",
            "workspace/lead.html",
            lead=lead,
            fv=FormState(None, {}),
        )
    return render_lead(lead_id, editing="next_action")


@bp.post("/leads/<int:lead_id>/next-action")
@staff_required
def set_next_action(lead_id: int):
    return lead_action(
        lead_id,
        "next_action",
        lambda lead: pipeline.set_next_action(
            db.session,
            lead,
            actor(),
            version(),
            text("next_action") or "",
            date_field("next_action_due", "Due date"),
        ),
        "Next action saved.",
    )


@bp.post("/leads/<int:lead_id>/qualification")
@staff_required
def qualification(lead_id: int):
    def save(lead):
        fields = {name: text(name) or "" for name in QUALIFICATION_TEXT if name in request.form}
        for name, allowed, label in QUALIFICATION_CHOICES:
            if name in request.form:
                fields[name] = choice(name, allowed, label) or ""
        if "value" in request.form:  # the deal's value, typed as an amount ("12,000.50")
            fields["value_cents"] = money.parse_amount(request.form["value"], "value")
            fields["currency"] = text("currency") or ""
        pipeline.update_lead(db.session, lead, actor(), version(), via="workspace", **fields)

    return lead_action(lead_id, "qualification", save, "Qualification saved.")


@bp.post("/leads/<int:lead_id>/discovery")
@staff_required
def discovery(lead_id: int):
    return lead_action(
        lead_id,
        "discovery",
        lambda lead: pipeline.log_discovery(
            db.session,
            lead,
            actor(),
            version(),
            pain_points=text("pain_points"),
            current_lead_flow=text("current_lead_flow"),
            provider_stack=text("provider_stack"),
            decision_criteria=text("decision_criteria"),
            discovery_notes=text("discovery_notes"),
        ),
        "Discovery logged.",
    )


@bp.post("/leads/<int:lead_id>/stage")
@staff_required
def move_stage(lead_id: int):
    def move(lead):
        stage = choice("stage", STAGES, "stage")
        if stage is None:
            raise Invalid("Choose the stage to move to.", "stage")
        pipeline.move(
            db.session,
            lead,
            stage,
            actor(),
            version(),
            next_action=text("next_action"),
            next_action_due=date_field("next_action_due", "Next action due date"),
        )

    return lead_action(lead_id, "stage", move, "Moved.")


@bp.post("/leads/<int:lead_id>/pause")
@staff_required
def pause(lead_id: int):
    return lead_action(
        lead_id,
        "pause",
        lambda lead: pipeline.pause(
            db.session,
            lead,
            actor(),
            version(),
            choice("pause_reason", PAUSE_REASONS, "reason") or "",
            text("pause_note"),
        ),
        "Paused.",
    )


@bp.post("/leads/<int:lead_id>/resume")
@staff_required
def resume(lead_id: int):
    return lead_action(
        lead_id,
        "pause",
        lambda lead: pipeline.resume(db.session, lead, actor(), version(), confirmed=flag("confirmed")),
        "Resumed.",
    )


@bp.post("/leads/<int:lead_id>/lose")
@staff_required
def lose(lead_id: int):
    return lead_action(
        lead_id,
        "outcome",
        lambda lead: pipeline.mark_lost(
            db.session,
            lead,
            actor(),
            version(),
            lost_reason=choice("lost_reason", LOST_REASONS, "lost reason"),
            lost_note=text("lost_note"),
            reactivation_date=date_field("reactivation_date", "Reactivation date"),
            reactivation_never=flag("reactivation_never"),
        ),
        "Marked lost.",
    )


@bp.post("/leads/<int:lead_id>/reactivate")
@staff_required
def reactivate(lead_id: int):
    """Reactivate a lost lead: the form confirms it and dates the owner's re-qualification task; a lead
    lost with "never reactivate" only by an admin (the domain says so in words)."""
    return lead_action(
        lead_id,
        "outcome",
        lambda lead: pipeline.reactivate(
            db.session,
            lead,
            actor(),
            version(),
            confirmed=flag("confirmed"),
            next_action=text("next_action"),
            next_action_due=date_field("next_action_due", "Re-qualify by"),
        ),
        "Reactivated.",
    )


@bp.post("/leads/<int:lead_id>/won")
@staff_required
def mark_won(lead_id: int):
    return lead_action(
        lead_id,
        "handoff",
        lambda lead: pipeline.mark_won(db.session, lead, actor(), version()),
        "Won — the handoff is queued.",
    )
