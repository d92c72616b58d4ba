"""The bell: an unread count on every staff page (loaded by polling), one's own list, opening one
marks it read and goes to its record, "Mark all read"; another user's notification does not exist."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import sqlalchemy as sa

from zarts.extensions import db
from zarts.models import Notification, utcnow

from .conftest import HX

_n = itertools.count(1)


def note(user, title="Ada asks you to review the pricing", url="/workspace/tasks", *, read=False, ago=0):
    n = Notification(
        user_id=user.id,
        kind="approval_requested",
        title=title,
        url=url,
        key=f"test:{next(_n)}",
        created_at=utcnow() - timedelta(minutes=ago),
        read_at=utcnow() if read else None,
    )
    db.session.add(n)
    db.session.commit()
    return n


def bell(client, htmx=True) -> str:
    resp = client.get("/workspace/notifications/bell", headers=HX if htmx else {})
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_every_staff_page_has_the_bell_placeholder_that_polls(client, sign_in, owner, approver):
    sign_in(owner)
    for path in ("/workspace/", "/workspace/tasks", "/workspace/dashboard", "/workspace/notifications"):
        html = client.get(path).get_data(as_text=True)
        assert 'hx-get="/workspace/notifications/bell" hx-trigger="load, every 30s"' in html, path
        assert 'href="/workspace/notifications"' in html
        assert "pending-approvals" not in html  # no Approvals link for growth ops
    sign_in(approver)
    html = client.get("/workspace/tasks").get_data(as_text=True)
    assert 'hx-get="/workspace/notifications/pending-approvals" hx-trigger="load, every 30s"' in html


def test_the_bell_counts_only_my_unread_notifications_with_one_count(
    client, sign_in, owner, approver, make, count_queries, fresh
):
    sign_in(owner)
    assert bell(client).strip() == ""  # nothing unread: no badge
    note(owner), note(owner), note(owner, read=True), note(approver)
    fresh()
    with count_queries() as q:
        html = bell(client)
    assert '<span class="nav-count" id="bell-count">2<span class="sr-only"> unread</span></span>' in html
    on_notifications = [s for s in q.statements if "notifications" in s]
    assert len(on_notifications) == 1 and "count(" in on_notifications[0].lower()
    assert q.count <= 2, q.statements  # the signed-in user, the count
    page = bell(client, htmx=False)  # reloaded, the fragment URL is a page that says it in words
    assert "<!doctype html>" in page and "2 unread notifications." in page


def test_the_list_is_newest_first_with_unread_marked(client, sign_in, owner, approver):
    note(owner, "Old news", read=True, ago=60)
    note(owner, "Fresh news", ago=1)
    note(approver, "Not yours")
    sign_in(owner)
    html = client.get("/workspace/notifications").get_data(as_text=True)
    assert html.index("Fresh news") < html.index("Old news") and "Not yours" not in html
    fresh_item = html[html.rindex("<li", 0, html.index("Fresh news")) : html.index("Fresh news")]
    old_item = html[html.rindex("<li", 0, html.index("Old news")) : html.index("Old news")]
    assert 'class="notification unread"' in fresh_item and "New" in fresh_item
    assert 'class="notification"' in old_item and "New" not in old_item
    assert "1 unread" in html and "Mark all read" in html


def test_opening_one_marks_it_read_and_goes_to_its_record(client, auth, sign_in, owner):
    n = note(owner, url="/workspace/tasks/7")
    other = note(owner)
    sign_in(owner)
    resp = auth.post("/workspace/notifications/open", {"notification_id": n.id})
    assert resp.status_code == 303 and resp.headers["Location"] == "/workspace/tasks/7"
    db.session.expire_all()
    assert n.read_at is not None and other.read_at is None
    first = n.read_at
    auth.post("/workspace/notifications/open", {"notification_id": n.id})  # again: stays as it was
    db.session.expire_all()
    assert n.read_at == first
    assert '>1<span class="sr-only"> unread' in bell(client)


def test_mark_all_read_clears_the_bell(client, auth, sign_in, owner, approver):
    note(owner), note(owner)
    theirs = note(approver)
    sign_in(owner)
    resp = auth.post("/workspace/notifications/read-all")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/workspace/notifications")
    html = client.get("/workspace/notifications").get_data(as_text=True)
    assert "All notifications marked read." in html and "No unread" in html and "Mark all read" not in html
    assert bell(client).strip() == ""
    db.session.expire_all()
    assert theirs.read_at is None  # someone else's stay unread


def test_another_users_notification_is_a_404_and_stays_unread(client, auth, sign_in, owner, approver):
    theirs = note(approver, url="/workspace/approvals")
    sign_in(owner)
    for raw in (theirs.id, theirs.id + 1000, "x", ""):
        assert auth.post("/workspace/notifications/open", {"notification_id": raw}).status_code == 404
    db.session.expire_all()
    assert theirs.read_at is None


def test_an_unsafe_url_is_never_followed(client, auth, sign_in, owner):
    n = note(owner, url="//evil.example/phish")
    sign_in(owner)
    resp = auth.post("/workspace/notifications/open", {"notification_id": n.id})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/workspace/notifications")


def test_titles_are_escaped(client, sign_in, owner):
    note(owner, "<img src=x onerror=alert(1)> wrote to the team")
    sign_in(owner)
    html = client.get("/workspace/notifications").get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_the_approvals_link_shows_the_pending_count_to_approvers_only(
    client, sign_in, owner, approver, pending_proposal
):
    _, _, requested = pending_proposal
    sign_in(approver)
    html = client.get("/workspace/notifications/pending-approvals", headers=HX).get_data(as_text=True)
    assert f'id="approvals-count">{len(requested)}<span class="sr-only"> pending' in html
    sign_in(owner)
    resp = client.get("/workspace/notifications/pending-approvals", headers=HX)
    assert resp.status_code == 200 and resp.get_data(as_text=True).strip() == ""


@pytest.mark.parametrize(
    "path",
    [
        "/workspace/notifications",
        "/workspace/notifications/bell",
        "/workspace/notifications/pending-approvals",
    ],
)
def test_client_contacts_get_403(client, auth, sign_in, make, path):
    sign_in(make.user("client"))
    assert client.get(path).status_code == 403
    assert client.get(path, headers=HX).status_code == 403


def test_client_contacts_cannot_post_either(client, auth, sign_in, make, owner):
    n = note(owner)
    sign_in(make.user("client"))
    for path in ("/workspace/notifications/open", "/workspace/notifications/read-all"):
        assert auth.post(path, {"notification_id": n.id}).status_code == 403
    db.session.expire_all()
    assert n.read_at is None


def test_posts_without_a_csrf_token_are_refused(client, sign_in, owner):
    n = note(owner)
    sign_in(owner)
    for path in ("/workspace/notifications/open", "/workspace/notifications/read-all"):
        resp = client.post(path, data={"notification_id": n.id})
        assert resp.status_code == 400 and "Form expired" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert n.read_at is None
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Notification).where(Notification.read_at.is_(None))
        )
        == 1
    )
