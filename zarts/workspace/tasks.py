"""My tasks: overdue, today and upcoming; done toggles inline with the task's version."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for

from ..auth.access import is_safe_next, staff_required
from ..domain.tasks import set_task_done
from ..extensions import db
from ..models import Task
from . import bp
from . import queue_queries as queries
from .common import actor, attempt, flag, render, version, wants_fragment


@bp.route("/tasks")
@staff_required
def my_tasks():
    data = queries.my_tasks(db.session, actor().id)
    return render("workspace/partials/tasks.html", "workspace/tasks.html", **data)


@bp.route("/tasks/<int:task_id>")
@staff_required
def task_row(task_id: int):
    task = queries.task(db.session, task_id)
    if task is None:
        abort(404)
    return render("workspace/partials/task_row.html", "workspace/task.html", task=task)


@bp.post("/tasks/<int:task_id>/done")
@staff_required
def toggle_task(task_id: int):
    task = db.session.get(Task, task_id)
    if task is None:
        abort(404)
    done = flag("done")
    error = attempt(lambda: set_task_done(db.session, task, actor(), version(), done))
    if error is None and not wants_fragment():
        flash("Task done." if done else "Task reopened.", "success")
        target = request.form.get("next")
        return redirect(target if is_safe_next(target) else url_for(".my_tasks"), 303)
    task = queries.task(db.session, task_id)
    return render(
        "workspace/partials/task_row.html",
        "workspace/task.html",
        error.status if error else 200,
        task=task,
        error=error,
    )
