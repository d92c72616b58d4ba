"""The message thread: the client's visible messages oldest first; sending one tasks the owner."""

from __future__ import annotations

import sqlalchemy as sa

from zarts.extensions import db
from zarts.models import Event, Message, Task


def test_the_thread_runs_oldest_to_newest_and_labels_who_wrote(world, portal_as):
    a, _ = world
    html = portal_as(a.contact).get("/portal/messages").get_data(as_text=True)
    assert (
        html.index("SAFE-A-proposal-title")
        < html.index("SAFE-A-staff-message")
        < html.index("SAFE-A-client-message")
    )
    assert "ZartsAlgo team" in html and "<strong>You</strong>" in html


def test_sending_a_message_links_the_latest_lead_and_creates_a_reply_task(world, portal_as):
    a, _ = world
    me = portal_as(a.contact)
    resp = me.post("/portal/messages", {"body": "Can we move the kickoff to Monday?"}, htmx=True)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and html.lstrip().startswith('<section id="conversation"')
    assert html.rindex("Can we move the kickoff") > html.index("SAFE-A-client-message")
    assert '<textarea name="body" maxlength="10000" required></textarea>' in html  # the composer is cleared
    db.session.expire_all()
    msg = db.session.scalars(sa.select(Message).order_by(Message.id.desc()).limit(1)).one()
    latest_lead = max((a.open_lead, a.won_lead), key=lambda lead: (lead.created_at, lead.id))
    assert (msg.client_id, msg.client_visible, msg.direction, msg.author_id) == (
        a.client.id,
        True,
        "inbound",
        a.contact.id,
    )
    assert msg.lead_id is not None and msg.lead_id >= latest_lead.id
    task = db.session.scalars(sa.select(Task).where(Task.key == f"message:{msg.id}:reply")).one()
    assert task.kind == "reply" and task.done_at is None
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Event.id)).where(
                Event.kind == "message_received", Event.payload["message_id"].as_integer() == msg.id
            )
        )
        == 1
    )


def test_an_empty_message_is_refused_in_place(world, portal_as):
    a, _ = world
    me = portal_as(a.contact)
    count = db.session.scalar(sa.select(sa.func.count(Message.id)))
    resp = me.post("/portal/messages", {"body": "   "}, htmx=True)
    assert resp.status_code == 400 and "Write a message before sending" in resp.get_data(as_text=True)
    resp = me.post("/portal/messages", {"body": "x" * 10001})
    assert resp.status_code == 400 and "<html" in resp.get_data(as_text=True)
    assert "x" * 10001 in resp.get_data(as_text=True)  # what they wrote is kept
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == count


def test_without_htmx_sending_redirects_to_the_thread(world, portal_as):
    a, _ = world
    me = portal_as(a.contact)
    resp = me.post("/portal/messages", {"body": "Hello team"})
    assert resp.status_code == 303 and "/portal/messages" in resp.headers["Location"]
    assert "Hello team" in me.get("/portal/messages").get_data(as_text=True)


def test_links_into_the_portal_are_clickable_and_nothing_else_is_markup(app, world, portal_as):
    a, _ = world
    me = portal_as(a.contact)
    base = app.config["BASE_URL"].rstrip("/")
    text = (
        f"See {base}/portal/proposals/{a.open_proposal.id} or https://evil.test/x <script>alert(1)</script>"
    )
    me.post("/portal/messages", {"body": text}, htmx=True)
    html = me.get("/portal/messages").get_data(as_text=True)
    path = f"/portal/proposals/{a.open_proposal.id}"
    assert f'<a href="{path}">{path}</a>' in html
    assert 'href="https://evil.test' not in html and "https://evil.test/x" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
