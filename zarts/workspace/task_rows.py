"""A task row's markup, written in Python.

"My tasks" lists up to 170 rows and a lead page its open tasks, each through an include of
templates/workspace/partials/task_row.html (which copies the template context for every row).
`task_row` writes the same markup for a row as a list shows it (no refusal under it: a single row
swapped in after a tick, with or without one, still comes from the template), escaped as Jinja's
autoescape does; a test compares the two for every kind of row.
"""

from __future__ import annotations

from datetime import date

from flask import url_for
from markupsafe import Markup, escape

from ..web import label
from . import day_tag, lead_url, task_url, when_tag


def task_row(task, csrf: str, today: date) -> Markup:
    done = task.done_at is not None
    title = escape(task.title)
    out = [f'\n<li class="task{" done" if done else ""}" id="task-{task.id}">\n  ']
    if task.client_visible:
        out.append(
            '\n    <span class="badge info" title="The client ticks this in the portal">Client</span>\n  '
        )
    elif task.kind == "proposal_review":  # closed by deciding its approval, never by hand
        out.append("\n    ")
        if not done:
            out.append(
                f'<a class="button small" href="{escape(url_for("workspace.approvals"))}" '
                f'aria-label="Decide in the approvals queue: {title}">Decide</a>'
            )
        out.append("\n  ")
    else:
        url = escape(task_url("workspace.toggle_task", task.id))
        out.append(
            f'\n  <form method="post" action="{url}"\n'
            f'        hx-post="{url}" hx-target="closest li" hx-swap="outerHTML">\n'
            f'    <input type="hidden" name="csrf_token" value="{escape(csrf)}">\n'
            f'    <input type="hidden" name="version" value="{task.version}">\n'
            f'    <input type="hidden" name="done" value="{"0" if done else "1"}">\n'
            f'    <button type="submit" class="small{" secondary" if done else ""}" '
            f'aria-label="{"Reopen" if done else "Mark done"}: {title}">{"Undo" if done else "Done"}</button>\n'
            f"  </form>\n  "
        )
    lead = task.lead
    link = f'<a href="{escape(lead_url("workspace.lead", lead.id))}">{title}</a>' if lead else title
    kind = escape(label(task.kind))
    overdue = '<span class="badge overdue">Overdue</span>' if not done and task.due < today else ""
    company = f" · {escape(lead.company)}" if lead else ""
    finished = f" · done {when_tag(task.done_at)}" if done else ""
    out.append(
        f'\n  <div class="task-body">\n'
        f'    <span class="task-title">{link}</span>\n'
        f'    <span class="muted">{kind} · due {day_tag(task.due)}\n'
        f"      {overdue}\n"
        f"      {company}\n"
        f"      {finished}</span>\n"
        f"    \n"
        f"  </div>\n</li>"
    )
    return Markup("".join(out))
