"""Client reports end to end through the screens: the cadence drafts one, its owner writes the summary and
notes and asks for approval, an approver decides in the queue, the owner publishes, the client reads it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.portal.conftest import Portal
from zarts.domain import cadence
from zarts.extensions import db
from zarts.models import Approval, Report, ReportNote, Task, today


@pytest.fixture
def drafted(make, owner):
    """An active client with a contact and the cadence's draft report for last month (so it is overdue)."""
    client = make.client(name="Harbour Bakery", status="active")
    contact = make.user("client", client=client, name="Cleo Client")
    end = today().replace(day=1) - timedelta(days=1)
    start, end = cadence.period_for("monthly", end)
    report = cadence.ensure_client_report(db.session, client, start, end, owner_id=owner.id)
    db.session.commit()
    return report, contact


def task_of(report):
    return db.session.scalar(sa.select(Task).where(Task.key == cadence.prepare_task_key(report.key)))


def post(auth, url, data):
    return auth.post(url, data)


def page(client, report):
    return client.get(f"/workspace/reports/{report.id}").get_data(as_text=True)


def version_of(report):
    db.session.expire_all()
    return db.session.get(Report, report.id).version


def test_draft_approve_publish_and_the_client_reads_it(app, client, auth, sign_in, owner, approver, drafted):
    report, contact = drafted
    sign_in(owner)
    listing = client.get("/workspace/reports").get_data(as_text=True)
    assert "Harbour Bakery" in listing and "Overdue" in listing and "1 report overdue" in listing

    resp = post(
        auth,
        f"/workspace/reports/{report.id}/summary",
        {
            "version": report.version,
            "client_summary": "Leads up 12% on last month.",
            "internal_body": "Ads account still flaky.",
        },
    )
    assert resp.status_code == 303
    for body, visibility in (
        ("Next month we test the new landing page.", "client_safe"),
        ("Internal: the CMO is unhappy about cost.", "internal"),
        ("A client-safe line nobody approves.", "client_safe"),
    ):
        assert (
            post(
                auth, f"/workspace/reports/{report.id}/notes", {"body": body, "visibility": visibility}
            ).status_code
            == 303
        )

    # Publishing before approval is refused in words.
    resp = auth.post(f"/workspace/reports/{report.id}/publish", {"version": version_of(report)}, htmx=True)
    assert resp.status_code == 400
    assert "published only after its client summary is approved" in resp.get_data(as_text=True)

    # One button asks for the summary and both client-safe notes.
    resp = auth.post(f"/workspace/reports/{report.id}/request-approval", {}, htmx=True)
    assert resp.status_code == 200 and "Approval requested" in resp.get_data(as_text=True)
    pending = db.session.scalars(sa.select(Approval).where(Approval.state == "pending")).all()
    assert {a.content for a in pending} == {
        "Leads up 12% on last month.",
        "Next month we test the new landing page.",
        "A client-safe line nobody approves.",
    }
    html = page(client, report)
    assert "Pending" in html and "Internal: the CMO is unhappy about cost." in html

    # The approver sees each text in the queue, linked to the report, and decides there.
    sign_in(approver)
    queue = client.get("/workspace/approvals").get_data(as_text=True)
    assert "Leads up 12% on last month." in queue and "Next month we test the new landing page." in queue
    assert f'href="/workspace/reports/{report.id}"' in queue
    by_text = {a.content: a for a in pending}
    for text, decision, comment in (
        ("Leads up 12% on last month.", "approve", ""),
        ("Next month we test the new landing page.", "approve", ""),
        ("A client-safe line nobody approves.", "reject", "Too vague for the client."),
    ):
        a = by_text[text]
        resp = auth.post(
            f"/workspace/approvals/{a.id}/decide",
            {"version": a.version, "decision": decision, "comment": comment},
        )
        assert resp.status_code == 303

    # The owner sees the decisions (and the rejection's reason) and publishes.
    sign_in(owner)
    html = page(client, report)
    assert "Rejected because: Too vague for the client." in html and ">Publish</button>" in html
    assert task_of(report).done_at is None
    resp = post(auth, f"/workspace/reports/{report.id}/publish", {"version": version_of(report)})
    assert resp.status_code == 303
    db.session.expire_all()
    assert db.session.get(Report, report.id).status == "published"
    assert task_of(report).done_at is not None and task_of(report).done_by_id == owner.id
    assert "<strong>0</strong> client reports overdue" in client.get("/workspace/dashboard").get_data(
        as_text=True
    )

    # The client reads it with the approved note only.
    portal = Portal(app, contact)
    assert f"/portal/reports/{report.id}" in portal.get("/portal/reports").get_data(as_text=True)
    read = portal.get(f"/portal/reports/{report.id}").get_data(as_text=True)
    assert "Leads up 12% on last month." in read and "Next month we test the new landing page." in read
    for hidden in (
        "A client-safe line nobody approves.",
        "Internal: the CMO is unhappy about cost.",
        "Ads account still flaky.",
        "Too vague",
    ):
        assert hidden not in read


def test_a_rejected_summary_shows_why_and_an_edit_asks_again(client, auth, sign_in, owner, approver, drafted):
    report, _ = drafted
    sign_in(owner)
    post(
        auth,
        f"/workspace/reports/{report.id}/summary",
        {"version": report.version, "client_summary": "Great month!"},
    )
    post(auth, f"/workspace/reports/{report.id}/request-approval", {})
    a = db.session.scalar(sa.select(Approval).where(Approval.report_id == report.id))
    sign_in(approver)
    auth.post(
        f"/workspace/approvals/{a.id}/decide",
        {"version": a.version, "decision": "reject", "comment": "Say what improved, with the figure."},
    )
    sign_in(owner)
    html = page(client, report)
    assert "Rejected because: Say what improved, with the figure." in html
    assert "Publishing opens once an approver approves" in html
    post(
        auth,
        f"/workspace/reports/{report.id}/summary",
        {"version": version_of(report), "client_summary": "Leads up 12%."},
    )
    post(auth, f"/workspace/reports/{report.id}/request-approval", {})
    assert (
        db.session.scalar(
            sa.select(Approval).where(Approval.report_id == report.id, Approval.state == "pending")
        ).content
        == "Leads up 12%."
    )


def test_edited_note_asks_again_and_nothing_to_ask_is_said(client, auth, sign_in, owner, drafted):
    report, _ = drafted
    sign_in(owner)
    post(auth, f"/workspace/reports/{report.id}/notes", {"body": "Old words.", "visibility": "internal"})
    note = db.session.scalar(sa.select(ReportNote).where(ReportNote.report_id == report.id))
    post(
        auth,
        f"/workspace/reports/{report.id}/notes/edit",
        {"note_id": note.id, "version": note.version, "body": "New words.", "visibility": "client_safe"},
    )
    db.session.expire_all()
    assert db.session.get(ReportNote, note.id).body == "New words."
    # A note of another report is not edited through this one.
    other = Report(kind="client_report", title="Other", status="draft", figures={})
    db.session.add(other)
    db.session.commit()
    resp = auth.post(
        f"/workspace/reports/{other.id}/notes/edit",
        {"note_id": note.id, "version": 1, "body": "Hijack"},
        htmx=True,
    )
    assert resp.status_code == 400 and "not on this report" in resp.get_data(as_text=True)
    resp = auth.post(f"/workspace/reports/{other.id}/request-approval", {}, htmx=True)
    assert resp.status_code == 400 and "Write the report&#39;s client summary first" in resp.get_data(
        as_text=True
    )


def test_who_may_write_is_the_domains_call_shown_in_words(client, auth, sign_in, approver, drafted):
    report, _ = drafted
    sign_in(approver)  # approvers read reports but do not write them
    assert client.get(f"/workspace/reports/{report.id}").status_code == 200
    resp = auth.post(
        f"/workspace/reports/{report.id}/summary",
        {"version": report.version, "client_summary": "Mine now"},
        htmx=True,
    )
    assert (
        resp.status_code == 403
        and "Only growth ops or delivery (or an admin) can edit reports." in resp.get_data(as_text=True)
    )
    assert client.get("/workspace/reports/999999").status_code == 404


def test_the_dashboard_counts_overdue_reports_and_links_to_them(client, sign_in, owner, drafted, make):
    report, _ = drafted
    later = cadence.ensure_client_report(
        db.session, make.client(status="active"), today(), today() + timedelta(days=6), owner_id=owner.id
    )  # current period: not overdue
    db.session.commit()
    sign_in(owner)
    html = client.get("/workspace/dashboard").get_data(as_text=True)
    assert '<a href="/workspace/reports"><strong>1</strong> client report overdue</a>' in html
    listing = client.get("/workspace/reports").get_data(as_text=True)
    assert listing.index(f"report-row-{report.id}") < listing.index(f"report-row-{later.id}")


@pytest.mark.pg
def test_the_list_the_page_and_the_overdue_count_on_postgresql(pg_app, make):
    """The overdue condition (an EXISTS on the task key built in SQL) and the ordering, on PostgreSQL."""
    from tests.conftest import AuthActions

    owner = make.user("growth_ops")
    start, end = cadence.period_for("monthly", today().replace(day=1) - timedelta(days=1))
    late = cadence.ensure_client_report(
        db.session, make.client(status="active"), start, end, owner_id=owner.id
    )
    current = cadence.ensure_client_report(
        db.session, make.client(status="active"), today(), today() + timedelta(days=6), owner_id=owner.id
    )
    db.session.commit()
    client = pg_app.test_client()
    AuthActions(client).login_as(owner)
    listing = client.get("/workspace/reports").get_data(as_text=True)
    assert listing.index(f"report-row-{late.id}") < listing.index(f"report-row-{current.id}")
    assert "1 report overdue" in listing
    assert client.get(f"/workspace/reports/{late.id}").status_code == 200
    assert "<strong>1</strong> client report overdue" in client.get("/workspace/dashboard").get_data(
        as_text=True
    )
