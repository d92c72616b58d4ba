"""Task rows written in Python (zarts/workspace/task_rows.py) are the rows the task_row template
renders, character for character: open, done, overdue, client-owned, with and without a lead."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from flask import render_template_string

from zarts.models import Lead, Task, today
from zarts.models.vocab import TASK_KINDS
from zarts.workspace.queue_queries import LeadRef, TaskLine
from zarts.workspace.task_rows import task_row

TEMPLATE = '{% include "workspace/partials/task_row.html" %}'


def _tasks():
    n = itertools.count(1)
    kinds = itertools.cycle(TASK_KINDS)
    leads = [None, Lead(id=7, company="Acme"), Lead(id=8, company='O\'Brien & <b>"Sons"</b>')]
    titles = ["Call back", '<script>alert("x")</script> & more']
    days = [-3, 0, 5]
    for lead, title, offset, done, client_visible in itertools.product(
        leads, titles, days, (False, True), (False, True)
    ):
        i = next(n)
        yield Task(
            id=i,
            kind=next(kinds),
            title=title,
            due=today() + timedelta(days=offset),
            version=i,
            done_at=datetime(2026, 11, 20, 9, 30, 5) if done else None,
            client_visible=client_visible,
            lead=lead,
            lead_id=lead.id if lead else None,
            owner_id=1,
        )


def test_each_task_row_is_the_markup_the_template_renders(app):
    with app.test_request_context("/workspace/tasks"):
        csrf = 'token-"quoted"&amp'
        checked = 0
        for task in _tasks():
            expected = render_template_string(TEMPLATE, task=task, csrf_token=lambda: csrf)
            assert str(task_row(task, csrf, today())) == expected, (task.title, task.lead, task.done_at)
            # My tasks reads its rows as tuples (queue_queries.TaskLine): the same markup again.
            lead = LeadRef(task.lead.id, task.lead.company) if task.lead else None
            line = TaskLine(
                task.id,
                task.kind,
                task.title,
                task.due,
                task.done_at,
                task.version,
                task.client_visible,
                lead,
            )
            assert str(task_row(line, csrf, today())) == expected, (task.title, task.lead, task.done_at)
            checked += 1
    assert checked == 72
