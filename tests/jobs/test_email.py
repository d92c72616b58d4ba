"""Reminder emails reach a real SMTP server (aiosmtpd on 127.0.0.1), inline and through RQ."""

from __future__ import annotations

import email
import socket

import pytest
import sqlalchemy as sa

from zarts.domain.trail import ensure_task
from zarts.extensions import db
from zarts.jobs.runner import run_sweep
from zarts.models import Message, Outbox, today

from .conftest import run_burst


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{controller.port}"
    yield inbox
    controller.stop()


def due_task(make):
    owner = make.user("growth_ops")
    t = ensure_task(
        db.session,
        key="test:email:1",
        kind="follow_up",
        title="Send the audit recap",
        owner_id=owner.id,
        due=today(),
    )
    db.session.commit()
    return owner, t


def test_an_email_reminder_reaches_the_smtp_server_inline(app, make, smtp):
    app.config["SMTP_URL"] = smtp.url
    owner, t = due_task(make)
    run_sweep("reminders")  # its commit relays the deliver_email job, which runs in-process
    ((rcpt, mail),) = smtp.messages
    assert rcpt == [owner.email] and mail["Subject"] == "Due today: Send the audit recap"
    assert mail["From"] == app.config["MAIL_FROM"] and "Send the audit recap" in mail.get_payload()
    msg = db.session.scalars(sa.select(Message).where(Message.key == f"reminder:task:{t.id}:{t.due}")).one()
    assert msg.email_status == "sent"

    run_sweep("reminders")  # the same window: no second email
    assert len(smtp.messages) == 1


@pytest.mark.pg
@pytest.mark.redis
def test_an_email_reminder_reaches_the_smtp_server_through_rq(rq_app, make, smtp):
    rq_app.config["SMTP_URL"] = smtp.url
    owner, _ = due_task(make)
    run_sweep("reminders")
    assert smtp.messages == []  # queued, not sent by the web or sweep process
    run_burst(rq_app)
    ((rcpt, _),) = smtp.messages
    assert rcpt == [owner.email]
    db.session.expire_all()
    assert db.session.scalars(sa.select(Outbox.status).where(Outbox.job == "deliver_email")).all() == ["done"]


def test_an_unreachable_smtp_server_is_retried_and_finally_marks_the_email_failed(app, make):
    app.config.update(SMTP_URL=f"smtp://127.0.0.1:{free_port()}", JOBS_RETRY_INTERVALS=[0])
    due_task(make)
    run_sweep("reminders")
    row = db.session.scalars(sa.select(Outbox).where(Outbox.job == "deliver_email")).one()
    assert row.status == "pending" and row.attempts == 1 and "Connection" in row.last_error
    from zarts.jobs.relay import sweep

    db.session.expire_all()
    sweep()  # the second and last attempt
    db.session.expire_all()
    assert db.session.get(Outbox, row.id).status == "failed"
    msg = db.session.scalars(sa.select(Message).where(Message.key.like("reminder:%"))).one()
    assert msg.email_status == "failed"
