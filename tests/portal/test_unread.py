"""The unread count on the portal navigation: the team's posts the client has not opened yet, counted
for the signed-in contact's client only, and gone once the messages page is opened."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from zarts.domain import Forbidden, messaging
from zarts.extensions import db
from zarts.models import Message

BADGE = re.compile(r'<span class="unread-badge"[^>]*>(\d+)<')


def badge(html: str) -> int:
    found = BADGE.search(html)
    return int(found.group(1)) if found else 0


def unread_in_db(client_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Message.id)).where(
            Message.client_id == client_id,
            Message.client_visible.is_(True),
            Message.direction == "outbound",
            Message.read_at.is_(None),
        )
    )


def test_the_navigation_counts_the_teams_unread_posts(world, portal_as):
    a, _ = world
    expected = unread_in_db(a.client.id)
    assert expected >= 2  # the proposal notice and the team's message
    for page in ("/portal/", "/portal/reports", "/portal/checklist"):
        assert badge(portal_as(a.contact).get(page).get_data(as_text=True)) == expected, page


def test_opening_the_messages_page_reads_them_and_the_count_goes_to_zero(world, portal_as):
    a, b = world
    b_before = unread_in_db(b.client.id)
    me = portal_as(a.contact)
    html = me.get("/portal/messages").get_data(as_text=True)
    assert "SAFE-A-staff-message" in html and badge(html) == 0
    assert badge(me.get("/portal/").get_data(as_text=True)) == 0
    db.session.expire_all()
    assert unread_in_db(a.client.id) == 0
    assert unread_in_db(b.client.id) == b_before  # B's thread is B's to read
    # A new reply from the team counts again.
    messaging.post_staff_message(
        db.session, a.owner, client=a.client, subject="", body="SAFE-A-new-reply", lead=a.won_lead
    )
    db.session.commit()
    assert badge(me.get("/portal/").get_data(as_text=True)) == 1


def test_another_clients_messages_are_never_counted(world, portal_as):
    a, b = world
    mine = badge(portal_as(a.contact).get("/portal/").get_data(as_text=True))
    for n in range(3):
        messaging.post_staff_message(
            db.session, b.owner, client=b.client, subject="", body=f"for B {n}", lead=b.won_lead
        )
    db.session.commit()
    assert badge(portal_as(a.contact).get("/portal/").get_data(as_text=True)) == mine
    assert badge(portal_as(b.contact).get("/portal/").get_data(as_text=True)) == unread_in_db(b.client.id)


def test_the_clients_own_messages_and_internal_records_are_not_unread(world, portal_as):
    a, _ = world
    me = portal_as(a.contact)
    me.get("/portal/messages")
    me.post("/portal/messages", {"body": "A question from me"}, htmx=True)
    messaging.log_communication(
        db.session, a.owner, kind="note", subject="CANARY-note", body="internal", lead=a.won_lead
    )
    db.session.commit()
    assert badge(me.get("/portal/").get_data(as_text=True)) == 0


def test_mark_thread_read_is_for_client_contacts_only(world):
    a, _ = world
    with pytest.raises(Forbidden):
        messaging.mark_thread_read(db.session, a.owner)
