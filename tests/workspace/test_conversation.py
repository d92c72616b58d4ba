"""Client conversation in the workspace: the lead page's thread and reply box, and the inbox of client
messages waiting for a reply. Replying closes the reply task; growth ops answer only on their own
(or unowned) leads; the inbox lists what the user may answer, oldest first."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from zarts.domain import messaging
from zarts.extensions import db
from zarts.models import Event, Message, Task, utcnow

from .conftest import HX


@pytest.fixture
def convo(make, owner):
    """A client with a contact, a lead of theirs owned by `owner`, and the client's message on it."""
    client = make.client("Acme Bakery")
    contact = make.user("client", client=client, name="Carla Contact")
    lead = make.lead(owner=owner, client_id=client.id, title="Acme SEO")
    msg = messaging.post_client_message(db.session, contact, "Can we move the kickoff to Monday?", lead=lead)
    db.session.commit()
    return client, contact, lead, msg


def reply_task(msg) -> Task:
    db.session.expire_all()
    return db.session.scalars(sa.select(Task).where(Task.key == f"message:{msg.id}:reply")).one()


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count(model.id)))


def test_the_lead_page_shows_the_thread_oldest_first_with_a_reply_box(client, sign_in, owner, convo):
    _, _, lead, _ = convo
    messaging.log_communication(
        db.session, owner, kind="note", subject="Internal-only", body="Keep it short", lead=lead
    )
    sign_in(owner)
    html = client.get(f"/workspace/leads/{lead.id}").get_data(as_text=True)
    thread = html[html.index('id="thread"') :]
    assert thread.index("Can we move the kickoff") < thread.index("Keep it short")
    assert "From the client" in thread and "Internal note" in thread and "Carla Contact" in thread
    assert f'action="/workspace/leads/{lead.id}/thread"' in thread and "Send reply" in thread


def test_replying_on_the_lead_page_posts_to_the_portal_and_closes_the_reply_task(
    client, sign_in, hx_post, owner, convo
):
    client_row, _, lead, msg = convo
    sign_in(owner)
    resp = hx_post(f"/workspace/leads/{lead.id}/thread", {"body": "Monday works, see you at 10."})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Reply sent" in html and "Monday works, see you at 10." in html
    assert "Client sees this" in html and f"message:{msg.id}" not in html
    reply = db.session.scalars(sa.select(Message).order_by(Message.id.desc()).limit(1)).one()
    assert (
        reply.client_id,
        reply.lead_id,
        reply.author_id,
        reply.client_visible,
        reply.direction,
        reply.channel,
    ) == (client_row.id, lead.id, owner.id, True, "outbound", "portal")
    task = reply_task(msg)
    assert task.done_at is not None and task.done_by_id == owner.id
    kinds = set(db.session.scalars(sa.select(Event.kind).where(Event.lead_id == lead.id)))
    assert {"message_sent", "task_done"} <= kinds
    # The task left the page's open tasks (the body came back whole).
    assert "Reply to Carla Contact" not in html


def test_a_plain_form_reply_redirects_to_the_thread(client, auth, sign_in, owner, convo):
    _, _, lead, msg = convo
    sign_in(owner)
    resp = auth.post(f"/workspace/leads/{lead.id}/thread", {"body": "Noted, thanks!"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/workspace/leads/{lead.id}#thread")
    assert "Noted, thanks!" in client.get(f"/workspace/leads/{lead.id}").get_data(as_text=True)
    assert reply_task(msg).done_at is not None


def test_an_empty_reply_is_refused_in_place(sign_in, hx_post, owner, convo):
    _, _, lead, msg = convo
    sign_in(owner)
    before = count(Message)
    resp = hx_post(f"/workspace/leads/{lead.id}/thread", {"body": "  "})
    assert resp.status_code == 400 and "Write a message." in resp.get_data(as_text=True)
    assert count(Message) == before and reply_task(msg).done_at is None


def test_growth_ops_are_refused_on_another_owners_lead_and_nothing_is_written(
    client, sign_in, hx_post, make, convo
):
    _, _, lead, msg = convo
    other = sign_in(make.user("growth_ops"))
    page = client.get(f"/workspace/leads/{lead.id}").get_data(as_text=True)
    assert "Send reply" not in page and "Only the owner of this opportunity" in page
    before = (count(Message), count(Event))
    resp = hx_post(f"/workspace/leads/{lead.id}/thread", {"body": "Sneaky reply"})
    assert resp.status_code == 403
    assert "Only the owner of this opportunity (or an admin) can write to the client" in resp.get_data(
        as_text=True
    )
    resp = hx_post("/workspace/inbox/reply", {"message_id": msg.id, "body": "Sneaky reply"})
    assert resp.status_code == 403 and "Only the owner of this opportunity" in resp.get_data(as_text=True)
    assert (count(Message), count(Event)) == before and reply_task(msg).done_at is None
    assert other.role == "growth_ops"


def test_replying_from_the_inbox_closes_the_task_and_empties_the_inbox(
    client, sign_in, hx_get, hx_post, owner, convo
):
    client_row, _, lead, msg = convo
    sign_in(owner)
    html = hx_get("/workspace/inbox").get_data(as_text=True)
    assert "Can we move the kickoff" in html and "Acme Bakery" in html and "Acme SEO" in html
    assert '<span class="count">1</span>' in html
    resp = hx_post("/workspace/inbox/reply", {"message_id": msg.id, "body": "Monday it is."})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Reply sent to Acme Bakery" in html
    assert "Can we move the kickoff" not in html and '<span class="count">0</span>' in html
    task = reply_task(msg)
    assert task.done_at is not None and task.done_by_id == owner.id
    reply = db.session.scalars(sa.select(Message).order_by(Message.id.desc()).limit(1)).one()
    assert (reply.body, reply.lead_id, reply.client_id, reply.client_visible) == (
        "Monday it is.",
        lead.id,
        client_row.id,
        True,
    )
    # A plain form answers with a redirect back to the inbox.
    resp = client.get("/workspace/inbox")
    assert resp.status_code == 200 and "Nothing waiting" in resp.get_data(as_text=True)


def test_the_inbox_is_oldest_first_and_lists_only_what_the_user_may_answer(
    client, sign_in, make, owner, convo
):
    _, contact, lead, first = convo
    someone = make.user("growth_ops")
    other_client = make.client("Other Co")
    other_contact = make.user("client", client=other_client, name="Otto")
    theirs = make.lead(owner=someone, client_id=other_client.id)
    unowned = make.lead(owner=someone, client_id=other_client.id)
    unowned.owner_id = None
    make.user("admin")  # a client message nobody owns is an admin's to answer (its reply task)
    messaging.post_client_message(db.session, contact, "Second question", lead=lead)
    messaging.post_client_message(db.session, other_contact, "For someone else", lead=theirs)
    messaging.post_client_message(db.session, other_contact, "Nobody owns this", lead=unowned)
    # Created in this order; make the first one clearly the oldest.
    first.created_at = utcnow() - timedelta(hours=2)
    db.session.commit()

    sign_in(owner)
    html = client.get("/workspace/inbox").get_data(as_text=True)
    assert (
        html.index("Can we move the kickoff") < html.index("Second question") < html.index("Nobody owns this")
    )
    assert "For someone else" not in html

    for role in ("delivery", "admin"):
        sign_in(make.user(role))
        html = client.get("/workspace/inbox").get_data(as_text=True)
        assert all(
            t in html for t in ("Can we move", "Second question", "For someone else", "Nobody owns this")
        )
        assert '<span class="count">4</span>' in html

    sign_in(make.user("approver"))
    html = client.get("/workspace/inbox").get_data(as_text=True)
    assert "Approvers do not write to clients" in html and "Second question" not in html


def test_hostile_text_is_escaped_on_the_lead_page_and_in_the_inbox(client, sign_in, owner, convo):
    _, contact, lead, _ = convo
    messaging.post_client_message(
        db.session, contact, "<script>alert(1)</script><img src=x onerror=alert(2)>", lead=lead
    )
    db.session.commit()
    sign_in(owner)
    for url in ("/workspace/inbox", f"/workspace/leads/{lead.id}"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_the_inbox_is_in_the_nav_and_answers_fragments(client, sign_in, hx_get, owner, convo):
    sign_in(owner)
    page = client.get("/workspace/").get_data(as_text=True)
    assert 'href="/workspace/inbox"' in page
    fragment = hx_get("/workspace/inbox").get_data(as_text=True)
    assert "<!doctype html>" not in fragment and '<div id="inbox"' in fragment


def test_inbox_routes_refuse_anonymous_and_clients(app, client, auth, sign_in, convo):
    _, contact, _, msg = convo
    assert client.get("/workspace/inbox").status_code == 302
    assert client.get("/workspace/inbox", headers=HX).status_code == 401
    sign_in(contact)
    assert client.get("/workspace/inbox").status_code == 403
    assert auth.post("/workspace/inbox/reply", {"message_id": msg.id, "body": "x"}).status_code == 403
    assert auth.post(f"/workspace/leads/{msg.lead_id}/thread", {"body": "x"}).status_code == 403


def test_an_unknown_message_id_is_a_404(sign_in, hx_post, owner, convo):
    sign_in(owner)
    for raw in ("", "abc", "999999", "-1"):
        assert hx_post("/workspace/inbox/reply", {"message_id": raw, "body": "x"}).status_code == 404


def test_with_smtp_each_active_contact_gets_an_email_copy(app, make, owner, convo):
    client_row, contact, lead, _ = convo
    second = make.user("client", client=client_row, name="Second Contact")
    make.user("client", client=client_row, name="Gone", active=False)
    app.config["SMTP_URL"] = "smtp://127.0.0.1:2599"
    try:
        reply = messaging.post_staff_message(
            db.session, owner, client=client_row, subject="", body="Hello!", lead=lead
        )
        copies = db.session.scalars(
            sa.select(Message).where(Message.key.like(f"message:{reply.id}:email:%")).order_by(Message.id)
        ).all()
        assert [c.to_email for c in copies] == [contact.email, second.email]
        assert all(
            c.email_status == "pending"
            and not c.client_visible
            and c.lead_id is None
            and "Hello!" in c.body
            and "/portal/messages" in c.body
            for c in copies
        )
    finally:
        app.config["SMTP_URL"] = None
        db.session.rollback()


def test_without_smtp_no_email_copy_is_made(owner, convo):
    client_row, _, lead, _ = convo
    before = count(Message)
    messaging.post_staff_message(db.session, owner, client=client_row, subject="", body="Hi", lead=lead)
    assert count(Message) == before + 1
    db.session.rollback()
