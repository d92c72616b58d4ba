"""Prepared reads: a page's query count does not grow with the cards, events or tasks it shows."""

from __future__ import annotations

from datetime import timedelta

from zarts.domain import pipeline, proposals
from zarts.extensions import db
from zarts.models import Lead, Task, User, today

from .conftest import add_events

MEASURED = {}


MOVE_STATEMENTS = 7


def measure(client, fresh, count_queries, path):
    fresh()
    with count_queries() as q:
        resp = client.get(path)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return q.count


def populate_board(make, journey, owner, n):
    """n leads spread over the stages, with the relations cards show (badges, owners)."""
    owners = [owner, make.user("growth_ops"), make.user("admin")]
    for i in range(n):
        lead = make.lead(owner=owners[i % 3], next_action_due=today() + timedelta(days=(i % 5) - 1))
        if i % 7 == 0:
            pipeline.pause(db.session, lead, lead.owner, lead.version, "timing")
        elif i % 11 == 3:
            journey.to(lead, "proposal")
            proposals.request_approvals(db.session, journey.draft(lead), lead.owner)
        elif i % 13 == 5:
            journey.to(lead, "contract")
        elif i % 5 == 1:
            journey.to(lead, "qualified")
    db.session.commit()


def test_board_query_count_is_constant_in_the_number_of_cards(
    app, client, sign_in, fresh, make, journey, owner, count_queries
):
    sign_in(owner)
    populate_board(make, journey, owner, 5)
    small = measure(client, fresh, count_queries, "/workspace/")
    populate_board(make, journey, db.session.get(User, owner.id), 55)
    assert db.session.query(Lead).count() == 60
    large = measure(client, fresh, count_queries, "/workspace/")
    filtered = measure(client, fresh, count_queries, "/workspace/?owner=me&service=seo&source=referral")
    MEASURED["board"] = (small, large)
    assert small == large == filtered, (small, large, filtered)
    assert large <= 8


def test_more_and_move_query_counts_are_constant(
    app, client, sign_in, fresh, make, journey, owner, count_queries, hx_post
):
    app.config["BOARD_COLUMN_LIMIT"] = 5
    sign_in(owner)
    populate_board(make, journey, owner, 60)
    html = client.get("/workspace/").get_data(as_text=True)
    more = html[html.index('href="/workspace/board/new?after=') + 6 :].split('"')[0].replace("&amp;", "&")
    assert measure(client, fresh, count_queries, more) <= 4

    lead = make.lead(owner=owner)
    lead_id, version = lead.id, lead.version
    fresh()
    with count_queries() as q:
        resp = hx_post(f"/workspace/leads/{lead_id}/move", {"stage": "qualified", "version": version})
    assert resp.status_code == 200 and "Moved to" in resp.get_data(as_text=True)
    # user, lead, UPDATE, event, the card, the two columns' counts (and the transaction's own)
    assert q.count <= MOVE_STATEMENTS, q.statements


def lead_with_history(make, journey, owner, events: int):
    lead = journey.to(make.lead(owner=owner), "contract")
    add_events(lead, events)
    for i in range(3):
        db.session.add(
            Task(kind="follow_up", title=f"Task {i}", owner_id=owner.id, due=today(), lead_id=lead.id)
        )
    db.session.commit()
    return lead


def test_lead_page_query_count_is_constant_in_the_number_of_events(
    app, client, sign_in, fresh, make, journey, owner, count_queries
):
    sign_in(owner)
    few = lead_with_history(make, journey, owner, 3)
    many = lead_with_history(make, journey, db.session.get(User, owner.id), 150)
    small = measure(client, fresh, count_queries, f"/workspace/leads/{few.id}")
    large = measure(client, fresh, count_queries, f"/workspace/leads/{many.id}")
    MEASURED["lead"] = (small, large)
    assert small == large, (small, large)
    # The gates read the records the page loaded (17 when they asked again); one statement finds the
    # leads merged into this one (a plain SELECT, so the read-only request keeps its prepared statements).
    assert large <= 14


def test_tasks_and_approvals_query_counts_are_constant(
    app, client, sign_in, fresh, make, journey, owner, approver, count_queries
):
    def add_work(n):
        me = db.session.get(User, owner.id)
        for i in range(n):
            lead = make.lead(owner=me)
            db.session.add(
                Task(
                    kind="follow_up",
                    title=f"T{i}",
                    owner_id=me.id,
                    due=today() + timedelta(days=(i % 3) - 1),
                    lead_id=lead.id,
                )
            )
            journey.to(lead, "proposal")
            proposals.request_approvals(db.session, journey.draft(lead), me)
        db.session.commit()

    add_work(2)
    sign_in(owner)
    tasks_small = measure(client, fresh, count_queries, "/workspace/tasks")
    sign_in(db.session.get(User, approver.id))
    queue_small = measure(client, fresh, count_queries, "/workspace/approvals")
    add_work(12)
    sign_in(db.session.get(User, owner.id))
    tasks_large = measure(client, fresh, count_queries, "/workspace/tasks")
    sign_in(db.session.get(User, approver.id))
    queue_large = measure(client, fresh, count_queries, "/workspace/approvals")
    MEASURED["tasks"] = (tasks_small, tasks_large)
    MEASURED["approvals"] = (queue_small, queue_large)
    assert tasks_small == tasks_large and queue_small == queue_large, MEASURED


def test_report_measured_counts(capsys):
    with capsys.disabled():
        print(f"\n  workspace query counts (small, large): {MEASURED}")
