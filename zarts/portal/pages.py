"""Portal pages: home, projects and the onboarding checklist, reports and the message thread."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.access import client_required
from ..domain import messaging, tasks
from ..extensions import db
from . import bp, queries
from .common import client_id, contact, form_version, found, is_htmx, run


@bp.get("/")
@client_required
def home():
    page = queries.home(db.session, client_id(), contact().name)
    return render_template("portal/home.html", page=page)


# --- projects and checklist -----------------------------------------------------------------------


@bp.get("/projects/<int:project_id>")
@client_required
def project(project_id: int):
    return _project_page(project_id)


def _project_page(project_id: int, error: str | None = None, status: int = 200):
    cards = queries.project_cards(db.session, client_id(), project_id)
    card = found(cards[0] if cards else None)
    groups = queries.checklist_groups(db.session, client_id(), project_id)
    return render_template("portal/project.html", project=card, groups=groups, error=error), status


@bp.get("/checklist")
@client_required
def checklist():
    return _checklist_page()


def _checklist_page(error: str | None = None, status: int = 200):
    groups = queries.checklist_groups(db.session, client_id())
    return render_template("portal/checklist.html", groups=groups, error=error), status


@bp.post("/checklist/<int:task_id>")
@client_required
def tick(task_id: int):
    """Tick (done=1) or untick (done=0) one of the client's own checklist items."""
    task = found(queries.checklist_task_row(db.session, client_id(), task_id))
    done = request.form.get("done", "1") != "0"
    err = run(lambda: tasks.tick_checklist_item(db.session, task, contact(), form_version(), done=done))
    item = queries.checklist_item(db.session, client_id(), task_id)
    status = err.status if err else 200
    if not is_htmx():
        back_to_project = item.project_id is not None and request.form.get("from") == "project"
        if err:
            return (
                _project_page(item.project_id, err.message, status)
                if back_to_project
                else _checklist_page(err.message, status)
            )
        flash("Done — the team can see it." if done else "Marked as not done.", "success")
        return redirect(
            url_for(".project", project_id=item.project_id) if back_to_project else url_for(".checklist"), 303
        )
    progress = queries.group_progress(db.session, client_id(), item.project_id)
    return render_template(
        "portal/partials/tick_response.html",
        item=item,
        progress=progress,
        error=err.message if err else None,
        origin=request.form.get("from", "checklist"),
    ), status


# --- reports --------------------------------------------------------------------------------------


@bp.get("/reports")
@client_required
def reports():
    return render_template("portal/reports.html", reports=queries.report_lines(db.session, client_id()))


@bp.get("/reports/<int:report_id>")
@client_required
def report(report_id: int):
    page = found(queries.report_page(db.session, client_id(), report_id))
    return render_template("portal/report.html", report=page)


# --- messages -------------------------------------------------------------------------------------


@bp.get("/messages")
@client_required
def messages():
    """The thread; opening it reads the team's posts (the unread count on the navigation goes to 0)."""
    run(lambda: messaging.mark_thread_read(db.session, contact()))
    return _messages_page()


@bp.context_processor
def _unread_messages():
    """`unread_messages()` for the portal navigation: one count, read only when a page shows it."""

    def unread_messages() -> int:
        if not getattr(current_user, "is_client", False) or current_user.client_id is None:
            return 0
        if "portal_unread" not in g:
            g.portal_unread = queries.unread_count(db.session, client_id())
        return g.portal_unread

    return {"unread_messages": unread_messages}


def _messages_page(body: str = "", error: str | None = None, status: int = 200, partial: bool = False):
    thread = queries.thread(db.session, client_id(), contact().id)
    template = "portal/partials/message_panel.html" if partial else "portal/messages.html"
    return render_template(template, thread=thread, body=body, error=error), status


@bp.post("/messages", endpoint="send_message")
@client_required
def send_message():
    """Write to the team: linked to the client's most recent opportunity, a reply task for the owner."""
    body = request.form.get("body", "")
    lead = queries.latest_lead_row(db.session, client_id())
    err = run(lambda: messaging.post_client_message(db.session, contact(), body, lead=lead))
    if err:
        return _messages_page(body, err.message, err.status, partial=is_htmx())
    if not is_htmx():
        flash("Message sent. The team will reply here.", "success")
        return redirect(url_for(".messages", _anchor="composer"), 303)
    return _messages_page(partial=True)
