"""My tasks: overdue, today, upcoming; done toggles inline with the task's version."""

from __future__ import annotations

from datetime import timedelta

from zarts.extensions import db
from zarts.models import Task, today


def task(owner, due_in: int, title: str, lead=None, **kw) -> Task:
    t = Task(
        kind="follow_up",
        title=title,
        owner_id=owner.id,
        due=today() + timedelta(days=due_in),
        lead_id=lead.id if lead else None,
        **kw,
    )
    db.session.add(t)
    db.session.flush()
    return t


def test_tasks_are_grouped_overdue_today_upcoming_and_link_to_their_lead(client, sign_in, make, owner):
    lead = make.lead(owner=owner, company="Acme")
    task(owner, -2, "Chase the signature", lead)
    task(owner, 0, "Send the recap")
    task(owner, 3, "Prepare the audit")
    task(make.user("growth_ops"), 0, "Someone else's task")
    sign_in(owner)
    html = client.get("/workspace/tasks").get_data(as_text=True)
    overdue = html[html.index('id="tasks-overdue"') : html.index('id="tasks-today"')]
    today_ = html[html.index('id="tasks-today"') : html.index('id="tasks-upcoming"')]
    upcoming = html[html.index('id="tasks-upcoming"') :]
    assert "Chase the signature" in overdue and f'href="/workspace/leads/{lead.id}"' in overdue
    assert "Send the recap" in today_ and "Prepare the audit" in upcoming
    assert "Someone else" not in html


def test_today_s_tasks_show_however_many_are_overdue(client, sign_in, make, owner):
    from zarts.workspace.queue_queries import TASKS_PER_SECTION

    for i in range(TASKS_PER_SECTION + 5):
        task(owner, -30 + i % 20, f"Old promise {i}")
    task(owner, 0, "Send the recap today")
    sign_in(owner)
    html = client.get("/workspace/tasks").get_data(as_text=True)
    overdue = html[html.index('id="tasks-overdue"') : html.index('id="tasks-today"')]
    today_ = html[html.index('id="tasks-today"') : html.index('id="tasks-upcoming"')]
    assert "Send the recap today" in today_
    assert overdue.count('<li class="task') == TASKS_PER_SECTION
    assert f'<span class="count">{TASKS_PER_SECTION}+</span>' in overdue and "Showing the first" in overdue
    assert "Showing the first" not in today_


def test_done_toggles_inline_and_back(client, sign_in, hx_post, make, owner):
    lead = make.lead(owner=owner)
    t = task(owner, 0, "Send the recap", lead)
    sign_in(owner)
    resp = hx_post(f"/workspace/tasks/{t.id}/done", {"version": t.version, "done": "1"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and body.lstrip().startswith(f'<li class="task done" id="task-{t.id}"')
    assert ">Undo</button>" in body
    t = db.session.get(Task, t.id)
    assert t.is_done and t.done_by_id == owner.id
    resp = hx_post(f"/workspace/tasks/{t.id}/done", {"version": t.version, "done": "0"})
    assert resp.status_code == 200 and not db.session.get(Task, t.id).is_done


def test_stale_toggle_is_a_conflict_with_the_current_state(client, sign_in, hx_post, owner):
    t = task(owner, 0, "Send the recap")
    sign_in(owner)
    resp = hx_post(f"/workspace/tasks/{t.id}/done", {"version": t.version + 1, "done": "1"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "changed by someone else" in body
    assert f'name="version" value="{t.version}"' in body


def test_client_checklist_items_are_not_ticked_by_staff(client, sign_in, hx_post, make, owner):
    t = task(owner, 0, "Give GA4 access", client_visible=True, client_id=make.client().id)
    sign_in(owner)
    html = client.get("/workspace/tasks").get_data(as_text=True)
    row = html[html.index(f'id="task-{t.id}"') :]
    assert "The client ticks this in the portal" in row[:400]
    resp = hx_post(f"/workspace/tasks/{t.id}/done", {"version": t.version, "done": "1"})
    assert resp.status_code == 403 and "they tick it in the portal" in resp.get_data(as_text=True)


def test_task_row_url_reloaded_is_a_page_and_plain_post_redirects(client, auth, sign_in, owner):
    t = task(owner, 1, "Prepare the audit")
    sign_in(owner)
    assert "<!doctype html>" in client.get(f"/workspace/tasks/{t.id}").get_data(as_text=True)
    resp = auth.post(
        f"/workspace/tasks/{t.id}/done", {"version": t.version, "done": "1", "next": "//evil.example/"}
    )
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/workspace/tasks")


def test_only_the_assignee_the_lead_owner_or_an_admin_ticks_a_task_and_the_refusal_says_so(
    client, sign_in, hx_post, make, owner
):
    lead = make.lead(owner=owner)
    t = task(owner, 0, "Send the recap", lead)
    sign_in(make.user("growth_ops"))
    resp = hx_post(f"/workspace/tasks/{t.id}/done", {"version": t.version, "done": "1"})
    assert resp.status_code == 403
    assert (
        "Only the person this task is assigned to, the owner of its opportunity or an admin can mark it done."
    ) in resp.get_data(as_text=True)
    assert not db.session.get(Task, t.id).is_done


def test_an_approvers_review_task_closes_with_the_decision_not_the_tick(
    client, sign_in, hx_post, make, approver
):
    from zarts.domain import approvals, tasks

    lead = make.lead()
    item = tasks.create_task(
        db.session,
        lead.owner,
        title="Logo",
        owner_id=lead.owner_id,
        due=today() + timedelta(days=1),
        lead_id=lead.id,
    )
    approval = approvals.request_approval(
        db.session, lead.owner, kind="client_text", content="Logo", lead=lead, task=item
    )
    review = db.session.scalars(db.select(Task).filter_by(key=f"approval:{approval.id}:review")).one()
    sign_in(approver)
    resp = hx_post(f"/workspace/tasks/{review.id}/done", {"version": review.version, "done": "1"})
    assert resp.status_code == 400
    assert "This review closes when the approval is decided" in resp.get_data(as_text=True)
    assert not db.session.get(Task, review.id).is_done


def test_a_review_task_offers_the_approvals_queue_not_a_done_button(client, sign_in, make):
    """A review closes when its approval is decided: the approver's row leads to the queue."""
    approver = make.user("approver")
    review = task(approver, 0, "Review pricing for Acme", key="approval:1:review")
    review.kind = "proposal_review"
    sign_in(approver)
    html = client.get("/workspace/tasks").get_data(as_text=True)
    row = html[html.index(f'id="task-{review.id}"') :]
    row = row[: row.index("</li>")]
    assert 'href="/workspace/approvals"' in row and ">Decide</a>" in row
    assert "toggle" not in row and ">Done<" not in row
