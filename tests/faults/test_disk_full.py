"""A full disk: the SQLite database may not grow (`PRAGMA max_page_count` at its current size, which
makes SQLite answer exactly as on a full disk: "database or disk is full"). A write that needs room
gets a clear page saying storage is full and leaves no partial change; reads keep working; once
there is room again the same write succeeds."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_token
from tests.security.conftest import Scenario, scenario_app
from zarts.extensions import db
from zarts.models import Base, Lead

FULL = "Storage on the server is full, so nothing was changed."
BIG = "Long notes from a very long call. " * 6000  # ~200 KB: needs new pages
MESSAGE = BIG[:9900]  # a portal message stays under 10,000 characters


class Disk:
    """Caps the database at its current size on every new connection (or lifts the cap)."""

    def __init__(self, engine):
        self.engine, self.cap = engine, None
        sa.event.listen(engine, "connect", self._on_connect)

    def _on_connect(self, dbapi_conn, _record):
        if self.cap is not None:
            dbapi_conn.execute(f"PRAGMA max_page_count = {self.cap}")

    def fill(self):
        with self.engine.connect() as conn:
            self.cap = conn.exec_driver_sql("PRAGMA page_count").scalar()
        self.engine.dispose()

    def free(self):
        self.cap = None
        self.engine.dispose()


def counts() -> dict[str, int]:
    return {
        t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t))
        for t in Base.metadata.tables.values()
    }


@pytest.fixture
def full_disk(seeded_db, tmp_path):
    app = scenario_app(seeded_db, tmp_path)
    with app.app_context():
        disk = Disk(db.engine)
        yield Scenario(app), disk
        db.session.remove()
        disk.free()


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_a_staff_write_on_a_full_disk_says_so_and_changes_nothing(full_disk, htmx):
    scenario, disk = full_disk
    lead = db.session.scalar(sa.select(Lead).where(Lead.stage == "qualified").order_by(Lead.id))
    browser = scenario.client_as(scenario.admin)
    url = f"/workspace/leads/{lead.id}/qualification"
    data = {"source_context": BIG, "title": "Renamed while the disk is full", "version": lead.version}
    before, version = counts(), lead.version
    db.session.close()

    disk.fill()
    token = csrf_token(browser)
    resp = browser.post(
        url, data={**data, "csrf_token": token}, headers={"HX-Request": "true"} if htmx else {}
    )
    assert resp.status_code == 503
    assert FULL in resp.get_data(as_text=True)
    assert browser.get(f"/workspace/leads/{lead.id}").status_code == 200  # reading still works

    db.session.expire_all()
    lead = db.session.get(Lead, lead.id)
    assert counts() == before and lead.version == version and lead.title != data["title"]
    db.session.close()

    disk.free()
    resp = browser.post(url, data={**data, "csrf_token": token})
    assert resp.status_code == 303
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).title == data["title"]


def test_a_client_message_on_a_full_disk_says_so_and_nothing_is_half_sent(full_disk):
    scenario, disk = full_disk
    contact = scenario.contacts[-1]
    portal = scenario.client_as(contact)
    token = csrf_token(portal)
    before = counts()
    db.session.close()

    disk.fill()
    resp = portal.post(
        "/portal/messages", data={"body": MESSAGE, "csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert resp.status_code == 503 and FULL in resp.get_data(as_text=True)
    assert counts() == before  # no message without its reply task, no task without its message
    db.session.close()

    disk.free()
    assert (
        portal.post(
            "/portal/messages", data={"body": MESSAGE, "csrf_token": token}, headers={"HX-Request": "true"}
        ).status_code
        == 200
    )
    assert counts()["messages"] == before["messages"] + 1


def test_an_admin_save_on_a_full_disk_says_so(full_disk):
    from tests.security.conftest import form_fields

    scenario, disk = full_disk
    lead = db.session.scalar(sa.select(Lead).where(Lead.stage == "new").order_by(Lead.id))
    browser = scenario.client_as(scenario.admin)
    url = f"/admin/leads/edit/?id={lead.id}"
    fields = form_fields(browser.get(url).get_data(as_text=True), url)
    assert "source_context" in fields and "version" in fields
    before, version = counts(), lead.version
    db.session.close()
    disk.fill()
    resp = browser.post(url, data={**fields, "source_context": BIG, "csrf_token": csrf_token(browser)})
    assert resp.status_code == 503 and FULL in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).version == version and counts() == before
