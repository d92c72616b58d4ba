"""zarts.domain.views: saved views are per user and page, named once, shared on request, changed
only by their owner or an admin, and keep only the parameters their page knows."""

from __future__ import annotations

import pytest

from zarts.domain import Forbidden, Invalid
from zarts.domain.views import delete_view, sanitise_query, save_view, update_view, views_for
from zarts.extensions import db
from zarts.models import SavedView


def test_a_view_keeps_only_the_page_s_known_filters(make):
    ops = make.user("growth_ops")

    view = save_view(
        db.session, ops, "board", "  My SEO  deals ", "?owner=me&service=seo&stage=won&x=<script>&source=nope"
    )

    assert (view.name, view.query, view.shared) == ("My SEO deals", "owner=me&service=seo", False)
    assert (
        sanitise_query("admin:leads", "search=acme&flt0_0=proposal&page=3&evil=1&sort=2&desc=1")
        == "search=acme&flt0_0=proposal&sort=2&desc=1"
    )
    assert sanitise_query("tasks", "owner=me") == ""


@pytest.mark.parametrize(
    "name, message", [("", "Give the view a name."), ("x" * 81, "at most 80 characters")]
)
def test_a_name_is_1_to_80_characters(make, name, message):
    with pytest.raises(Invalid, match=message):
        save_view(db.session, make.user("growth_ops"), "board", name, "")


def test_a_name_is_unique_per_user_and_page(make):
    ops, other = make.user("growth_ops"), make.user("growth_ops")
    save_view(db.session, ops, "board", "Hot", "owner=me")

    with pytest.raises(Invalid, match="already have a view called “hot”"):
        save_view(db.session, ops, "board", "hot", "")
    save_view(db.session, ops, "tasks", "Hot", "")  # another page
    save_view(db.session, other, "board", "Hot", "")  # another user
    assert db.session.query(SavedView).count() == 3


def test_unknown_pages_and_client_contacts_are_refused(make):
    with pytest.raises(Invalid, match="board, My tasks and the admin lists"):
        save_view(db.session, make.user("admin"), "portal", "X", "")
    with pytest.raises(Invalid):
        save_view(db.session, make.user("admin"), "admin:no_such_table", "X", "")
    with pytest.raises(Forbidden):
        save_view(db.session, make.user("client"), "board", "X", "")


def test_shared_views_are_seen_by_all_staff_and_changed_only_by_owner_or_admin(make):
    ops, colleague, admin = make.user("growth_ops"), make.user("delivery"), make.user("admin")
    shared = save_view(db.session, ops, "board", "Team pipeline", "service=seo", shared=True)
    private = save_view(db.session, ops, "board", "Just mine", "owner=me")

    assert [v.name for v in views_for(db.session, colleague, "board")] == ["Team pipeline"]
    assert [v.name for v in views_for(db.session, ops, "board")] == ["Just mine", "Team pipeline"]
    with pytest.raises(Forbidden, match="Only the owner of this view"):
        update_view(db.session, colleague, shared, name="Hijacked")
    with pytest.raises(Forbidden):
        delete_view(db.session, colleague, shared)

    update_view(db.session, admin, shared, name="Team SEO", query="service=seo&owner=none", shared=False)
    assert (shared.name, shared.query, shared.shared) == ("Team SEO", "service=seo&owner=none", False)
    delete_view(db.session, ops, private)
    assert db.session.get(SavedView, private.id) is None
