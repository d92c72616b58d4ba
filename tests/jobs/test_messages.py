"""Message copy: every outgoing message is rendered from a template, with no placeholder left and no
internal text (canary markers sit in the internal fields of the deal)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from zarts.domain import approvals, publication, reminders, unit
from zarts.domain.cadence import send_report_notice
from zarts.domain.messaging import TEMPLATES, render_message, send_password_reset
from zarts.domain.trail import ensure_task
from zarts.extensions import db
from zarts.models import Lead, Message, Report, today

from .conftest import CANARY

LEFTOVERS = ("{{", "}}", "{%", "%}", "None", "undefined", CANARY)


def leftovers(text: str) -> list[str]:
    return [bad for bad in LEFTOVERS if bad in text]


def test_every_outgoing_message_renders_cleanly_and_carries_no_internal_text(app, deals):
    deal = deals.won()  # portal invite, proposal sent (twice), handoff notice
    lead = db.session.get(Lead, deal.lead_id)
    ensure_task(
        db.session,
        key="test:reminder",
        kind="follow_up",
        title="Call about the kickoff agenda",
        owner_id=deal.owner.id,
        due=today(),
        lead_id=lead.id,
        notes=f"Internal: {CANARY}",
    )
    db.session.commit()
    reminders.sweep(db.session, reminders.datetime.combine(today(), reminders.datetime.min.time()))
    report = db.session.scalars(
        sa.select(Report).where(Report.kind == "client_report", Report.client_id == lead.client_id)
    ).one()
    report.client_summary, report.internal_body = "Leads up 12% this month.", f"Raw: {CANARY}"
    with unit(db.session):
        approval = publication.request_report_approval(db.session, report, deal.owner)
    with unit(db.session):
        approvals.decide(db.session, approval, deal.approver, approval.version, approve=True)
    with unit(db.session):
        publication.publish_report(db.session, report, deal.owner, report.version)
        send_report_notice(db.session, report)
    with unit(db.session):
        send_password_reset(db.session, deal.contact)

    messages = db.session.scalars(sa.select(Message).order_by(Message.id)).all()
    seen = set()
    for m in messages:
        assert not leftovers(m.subject + "\n" + m.body), (m.key, m.subject, leftovers(m.subject + m.body))
        seen.add(_template_of(m))
    assert seen >= {
        "portal_invite",
        "proposal_sent",
        "handoff_notice",
        "reminder",
        "report_notice",
        "password_reset",
    }


def _template_of(m: Message) -> str:
    key = m.key or ""
    if key.startswith("invite:"):
        return "portal_invite"
    if key.startswith("proposal:") and key.endswith(":sent"):
        return "proposal_sent"
    if key.endswith(":notice") and key.startswith("handoff:"):
        return "handoff_notice"
    if key.startswith("reminder:"):
        return "reminder"
    if ":notice:" in key and key.startswith("report:"):
        return "report_notice"
    if m.subject.startswith("Reset your"):
        return "password_reset"
    return "other"


def test_every_kind_of_reminder_renders_cleanly(app, make):
    owner = make.user("growth_ops", name="Dana Growth")
    base = {
        "owner_id": owner.id,
        "title": "Growth plan (version 2)",
        "company": "Acme Dental",
        "due": today() - timedelta(days=3),
    }
    for kind, days in (
        ("task_due", 0),
        ("task_overdue", 1),
        ("task_overdue", 9),
        ("decision_deadline", 0),
        ("decision_deadline", 2),
        ("not_viewed", 4),
        ("not_decided", 8),
    ):
        for company in ("Acme Dental", None):
            r = reminders.Reminder(kind=kind, key="k", days=days, **{**base, "company": company})
            subject, body = render_message("reminder", owner=owner, r=r)
            assert subject and "\n" not in subject and body.startswith("Hello Dana Growth")
            assert not leftovers(subject + body), (kind, subject, body)


def test_the_template_list_covers_every_message_the_app_sends():
    assert set(TEMPLATES) == {
        "portal_invite",
        "password_reset",
        "reminder",
        "report_notice",
        "handoff_notice",
        "proposal_sent",
    }
