"""Admin → Messages: records of what was said, written through zarts.domain.messaging as the signed-in
staff member, never edited or deleted (issue 16: forged inbound messages, rewritten history)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.admin.conftest import flashes, form_fields, settle
from tests.conftest import AuthActions
from zarts.domain import messaging
from zarts.extensions import db
from zarts.models import Client, Event, Message, User


@pytest.fixture
def world(make):
    """A client with a portal contact and an opportunity owned by a growth ops user (ids only)."""
    client = make.client()
    contact = make.user("client", client=client)
    lead = make.lead(client_id=client.id)
    return {"client": client.id, "contact": contact.id, "lead": lead.id, "owner": lead.owner_id}


def portal_messages(app, contact_id: int) -> str:
    """The client contact's portal thread, in a session of their own."""
    settle()
    portal = app.test_client()
    AuthActions(portal).login_as(db.session.get(User, contact_id))
    page = portal.get("/portal/messages").get_data(as_text=True)
    settle()
    return page


def new_form(client) -> dict:
    return form_fields(client.get("/admin/messages/new/").get_data(as_text=True))


def messages() -> list[Message]:
    return list(db.session.scalars(sa.select(Message).order_by(Message.id)))


def test_a_forged_inbound_message_from_a_client_contact_is_refused(app, client, auth, world):
    auth.login_as(db.session.get(User, world["owner"]))
    settle()
    form = new_form(client)
    assert not {"author", "direction", "channel", "client_visible", "to_email"} & set(form)

    # What the old form took: a client contact as the author of an inbound portal message.
    resp = auth.post(
        "/admin/messages/new/",
        {
            **form,
            "lead": world["lead"],
            "client": world["client"],
            "author": world["contact"],
            "direction": "inbound",
            "channel": "portal",
            "client_visible": "y",
            "subject": "Re: prices",
            "body": "We accept the 50% increase.",
        },
    )

    assert resp.status_code == 200 and "Choose what you are writing." in resp.get_data(as_text=True)
    assert messages() == []
    assert "50% increase" not in portal_messages(app, world["contact"])


def test_a_portal_message_is_always_the_signed_in_staff_members(app, client, auth, world):
    auth.login_as(db.session.get(User, world["owner"]))
    settle()

    resp = auth.post(
        "/admin/messages/new/",
        {
            **new_form(client),
            "kind": "portal",
            "lead": world["lead"],
            "client": world["client"],
            "author": world["contact"],
            "direction": "inbound",
            "subject": "Your audit",
            "body": "The audit is ready.",
        },
    )

    assert resp.status_code == 302
    (msg,) = messages()
    assert (msg.author_id, msg.direction, msg.channel, msg.client_visible) == (
        world["owner"],
        "outbound",
        "portal",
        True,
    )
    event = db.session.scalars(sa.select(Event).where(Event.kind == "message_sent")).one()
    assert (event.lead_id, event.actor_id, event.payload["message_id"]) == (
        world["lead"],
        world["owner"],
        msg.id,
    )
    thread = portal_messages(app, world["contact"])
    said = thread[thread.index("The audit is ready.") - 600 : thread.index("The audit is ready.")]
    assert "ZartsAlgo team" in said and ">You<" not in said


def test_a_sent_message_is_never_edited_or_deleted(client, auth, make, world):
    owner = db.session.get(User, world["owner"])
    msg = messaging.post_staff_message(
        db.session,
        owner,
        client=db.session.get(Client, world["client"]),
        subject="Hello",
        body="Kickoff is on Monday.",
    )
    msg_id = msg.id
    for role in ("admin", "growth_ops"):
        auth.login_as(make.user(role))
        settle()
        assert client.get(f"/admin/messages/edit/?id={msg_id}").status_code == 403
        assert (
            auth.post(
                f"/admin/messages/edit/?id={msg_id}", {"body": "Kickoff was never planned."}
            ).status_code
            == 403
        )
        assert auth.post("/admin/messages/delete/", {"id": str(msg_id)}).status_code == 403
        page = client.get("/admin/messages/").get_data(as_text=True)
        assert f"/admin/messages/edit/?id={msg_id}" not in page
        details = client.get(f"/admin/messages/details/?id={msg_id}").get_data(as_text=True)
        assert "Kickoff is on Monday." in details
    settle()
    assert db.session.get(Message, msg_id).body == "Kickoff is on Monday."


def test_growth_ops_write_about_their_own_leads_only(client, auth, make, world):
    auth.login_as(make.user("growth_ops"))
    settle()

    resp = auth.post(
        "/admin/messages/new/",
        {
            **new_form(client),
            "kind": "portal",
            "lead": world["lead"],
            "client": world["client"],
            "subject": "Hi",
            "body": "Hello!",
        },
    )

    assert resp.status_code == 200
    assert (
        "Not saved: Only the owner of this opportunity (or an admin) can write to the client about this "
        "opportunity."
    ) in flashes(resp.get_data(as_text=True))
    assert messages() == []


def test_a_lead_of_another_client_brings_the_form_back_with_the_reason(client, auth, make, world):
    other = make.client().id
    auth.login_as(db.session.get(User, world["owner"]))
    settle()

    resp = auth.post(
        "/admin/messages/new/",
        {
            **new_form(client),
            "kind": "portal",
            "lead": world["lead"],
            "client": other,
            "subject": "Hi",
            "body": "Hello!",
        },
    )

    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "This opportunity is not this client&#39;s" in page
    assert messages() == []


def test_a_logged_call_is_an_internal_record_and_an_event(app, client, auth, world):
    auth.login_as(db.session.get(User, world["owner"]))
    settle()

    resp = auth.post(
        "/admin/messages/new/",
        {
            **new_form(client),
            "kind": "phone",
            "lead": world["lead"],
            "subject": "Call about the audit",
            "body": "They want it Friday.",
        },
    )
    auth.post(
        "/admin/messages/new/",
        {
            **new_form(client),
            "kind": "note",
            "lead": world["lead"],
            "subject": "Budget",
            "body": "Budget is tight.",
        },
    )

    assert resp.status_code == 302
    call, note = messages()
    assert (call.direction, call.channel, call.client_visible, call.author_id, call.client_id) == (
        "outbound",
        "phone",
        False,
        world["owner"],
        world["client"],
    )
    assert (note.direction, note.client_visible) == ("internal", False)
    sent = db.session.scalars(sa.select(Event).where(Event.kind == "message_sent")).all()
    assert [e.payload["message_id"] for e in sent] == [call.id]  # a note is not said to the client
    thread = portal_messages(app, world["contact"])
    assert "They want it Friday." not in thread and "Budget is tight." not in thread
