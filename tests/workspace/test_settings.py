"""A staff member chooses the time zone the workspace and the admin show times in: their own only."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.admin.conftest import settle
from zarts.domain import Forbidden, Invalid, unit
from zarts.domain.account import set_time_zone
from zarts.extensions import db
from zarts.models import User
from zarts.workspace import when_tag


def test_a_user_sets_their_time_zone_and_times_follow_it(client, auth, make, app):
    me = make.user("growth_ops")
    me_id = me.id
    auth.login_as(me)
    settle()
    assert "The team's default (UTC)" in client.get("/workspace/settings").get_data(as_text=True)

    resp = auth.post("/workspace/settings", {"time_zone": "America/New_York"})

    assert resp.status_code == 302
    settle()
    assert db.session.get(User, me_id).time_zone == "America/New_York"
    page = client.get("/workspace/settings").get_data(as_text=True)
    assert "Times are now shown in America/New_York" in page
    with app.test_request_context():
        from flask_login import login_user

        login_user(db.session.get(User, me_id))
        shown = str(when_tag(datetime(2026, 12, 4, 18, 5, 59, 999)))
    assert shown == '<time datetime="2026-12-04T18:05:59.000999Z">04 Dec 2026 13:05</time>'


def test_an_unknown_zone_is_a_message_and_changes_nothing(client, auth, make):
    me = make.user("approver")
    me.time_zone = "Europe/Berlin"
    me_id = me.id
    auth.login_as(me)
    settle()

    resp = auth.post("/workspace/settings", {"time_zone": "Mars/Olympus_Mons"})

    assert resp.status_code == 400
    assert "is not a time zone we know" in resp.get_data(as_text=True)
    settle()
    assert db.session.get(User, me_id).time_zone == "Europe/Berlin"


def test_an_empty_choice_goes_back_to_the_default(client, auth, make):
    me = make.user("delivery")
    me.time_zone = "Asia/Tokyo"
    me_id = me.id
    auth.login_as(me)
    settle()
    auth.post("/workspace/settings", {"time_zone": ""})
    settle()
    assert db.session.get(User, me_id).time_zone is None


def test_nobody_sets_another_users_zone(make):
    admin, other = make.user("admin"), make.user("growth_ops")
    with pytest.raises(Forbidden):
        with unit(db.session):
            set_time_zone(db.session, admin, other, "Asia/Tokyo")
    assert other.time_zone is None
    contact = make.user("client")
    with pytest.raises(Forbidden):  # client contacts have no staff settings
        set_time_zone(db.session, contact, contact, "Asia/Tokyo")
    with pytest.raises(Invalid):
        set_time_zone(db.session, admin, admin, "Nowhere/Else")


def test_the_settings_page_is_for_signed_in_staff(client):
    assert client.get("/workspace/settings").status_code == 302
