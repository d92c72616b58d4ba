"""Email exactly once: the database connection drops between the SMTP server accepting an email and
the commit that marks it sent. The job is retried; the SMTP server receives at most one distinct
Message-ID, and the message ends up marked sent."""

from __future__ import annotations

import email

import pytest
import sqlalchemy as sa

from tests.jobs.conftest import run_burst, rq_app  # noqa: F401  (fixture)
from tests.jobs.test_email import due_task, free_port
from zarts.extensions import db
from zarts.jobs.runner import run_sweep
from zarts.models import Message, Outbox

pytestmark = [pytest.mark.pg, pytest.mark.redis, pytest.mark.serial]


class DroppingInbox:
    """An SMTP server that, as it accepts the first email, arms the fault that terminates the job's
    database connection right after the send, before the commit that marks the message sent."""

    def __init__(self, app):
        self.messages, self.app, self.dropped = [], app, 0

    async def handle_DATA(self, server, session, envelope):
        first = not self.messages
        self.messages.append(email.message_from_bytes(envelope.content))
        self.app.config["JOBS_FAULT"] = "deliver_email:sent:drop" if first else None
        self.dropped += first
        return "250 Message accepted for delivery"


@pytest.fixture
def dropping_smtp(rq_app):  # noqa: F811
    from aiosmtpd.controller import Controller

    inbox = DroppingInbox(rq_app)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{controller.port}"
    yield inbox
    controller.stop()


def _email_state():
    db.session.rollback()
    msg = db.session.scalars(sa.select(Message).where(Message.key.like("reminder:%"))).one()
    row = db.session.scalars(sa.select(Outbox).where(Outbox.job == "deliver_email")).one()
    return msg, row


@pytest.mark.parametrize("accepted_known", [True, False], ids=["acceptance-noted", "acceptance-lost"])
def test_a_connection_drop_between_send_and_commit_sends_one_message_id(
    rq_app, make, dropping_smtp, accepted_known
):  # noqa: F811
    rq_app.config.update(SMTP_URL=dropping_smtp.url, JOBS_RETRY_INTERVALS=[0, 0])
    due_task(make)
    run_sweep("reminders")  # queues the reminder's email
    if not accepted_known:  # Redis did not keep the note that SMTP accepted it (e.g. a Redis restart)
        from zarts.jobs import mail

        note = mail._note_accepted
        mail._note_accepted = lambda message_id: None
    try:
        run_burst(rq_app)  # the send, the dropped connection, the retry: all in this burst
    finally:
        if not accepted_known:
            mail._note_accepted = note
    assert dropping_smtp.dropped >= 1
    msg, row = _email_state()
    assert msg.email_status == "sent" and row.status == "done" and row.attempts == 2
    ids = {m["Message-ID"] for m in dropping_smtp.messages}
    assert ids == {msg.mail_message_id}  # one distinct Message-ID, the one stored on the message
    # Known accepted: not sent again. Not known: sent again under the same id (mail clients fold it).
    assert len(dropping_smtp.messages) == (1 if accepted_known else 2)
