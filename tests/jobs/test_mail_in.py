"""Client replies by email: the emailed copy of a staff post carries its thread's signed Reply-To, and
`zarts mail-in` posts a reply from that client's active contact onto the thread (reply task, portal);
anything else is quarantined, never posted, never seen by any client."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeSerializer

from zarts.domain import messaging
from zarts.extensions import db
from zarts.jobs import mail_in
from zarts.models import Message, Task

from .test_email import smtp  # noqa: F401  (the aiosmtpd fixture)

REPLY_TO = "replies@sales.example.test"


@pytest.fixture
def world(app, make):
    """Client A (contact Carla, a lead owned by Olga) and client B (contact Bob, a lead of theirs)."""
    app.config["MAIL_REPLY_TO"] = REPLY_TO
    owner = make.user("growth_ops", name="Olga Owner")
    a = make.client("Acme Bakery", owner_id=owner.id)
    carla = make.user("client", client=a, name="Carla Contact", email="carla@acme.test")
    lead = make.lead(owner=owner, client_id=a.id, title="Acme SEO")
    b = make.client("Bravo Books")
    bob = make.user("client", client=b, name="Bob Bravo", email="bob@bravo.test")
    b_lead = make.lead(client_id=b.id, title="Bravo Ads")
    db.session.commit()
    return {"owner": owner, "a": a, "carla": carla, "lead": lead, "b": b, "bob": bob, "b_lead": b_lead}


@pytest.fixture
def maildir(tmp_path):
    box = mailbox.Maildir(str(tmp_path / "replies"), create=True)
    box.path = str(tmp_path / "replies")
    return box


def deliver(box, *, to: str, sender: str, text: str | None, html: str | None = None) -> None:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, "Re: Message from the team"
    if text is not None:
        mail.set_content(text)
    if html is not None:
        if text is None:
            mail.set_content(html, subtype="html")
        else:
            mail.add_alternative(html, subtype="html")
    box.add(mail)


def inbound() -> list[Message]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(Message).where(Message.direction == "inbound").order_by(Message.id)
    ).all()


def portal_html(client, auth, user) -> str:
    auth.login_as(user)
    return client.get("/portal/messages").get_data(as_text=True)


def test_a_staff_post_is_emailed_with_its_threads_reply_to(app, world, smtp):  # noqa: F811
    app.config["SMTP_URL"] = smtp.url
    messaging.post_staff_message(
        db.session,
        world["owner"],
        client=world["a"],
        subject="Kickoff",
        body="Shall we start on Monday?",
        lead=world["lead"],
    )
    db.session.commit()  # relays the email copy, sent in-process to the aiosmtpd server
    ((rcpt, mail),) = smtp.messages
    assert rcpt == ["carla@acme.test"] and "Shall we start on Monday?" in mail.get_payload()
    assert "Reply to this email" in mail.get_payload()
    local, _, domain = mail["Reply-To"].rpartition("@")
    assert domain == "sales.example.test" and local.startswith("replies+")
    token = local[len("replies+") :]
    assert URLSafeSerializer(app.config["SECRET_KEY"], salt=mail_in.SALT).loads(token) == [
        world["a"].id,
        world["lead"].id,
    ]


def test_without_mail_reply_to_the_email_has_no_reply_to(app, world, smtp):  # noqa: F811
    app.config.update(SMTP_URL=smtp.url, MAIL_REPLY_TO=None)
    messaging.post_staff_message(
        db.session, world["owner"], client=world["a"], subject="", body="Hello", lead=world["lead"]
    )
    db.session.commit()
    ((_, mail),) = smtp.messages
    assert mail["Reply-To"] is None and "Read and answer it in your portal" in mail.get_payload()


QUOTED = (
    "Monday works for us.\nSee you at 10.\n\n"
    "On Tue, 3 Mar 2026 at 10:00, ZartsAlgo <replies+abc@sales.example.test>\nwrote:\n"
    "> Shall we start on Monday?\n> SECRET-QUOTE\n"
)


def test_a_reply_is_posted_on_the_clients_thread_once(client, auth, world, maildir):
    address = mail_in.reply_address(world["a"].id, world["lead"].id)
    deliver(maildir, to=f"ZartsAlgo team <{address}>", sender="Carla <CARLA@Acme.test>", text=QUOTED)

    assert mail_in.process_maildir(db.session, maildir.path) == {"posted": 1}
    (msg,) = inbound()
    assert msg.body == "Monday works for us.\nSee you at 10."
    assert (msg.client_id, msg.lead_id, msg.author_id, msg.client_visible) == (
        world["a"].id,
        world["lead"].id,
        world["carla"].id,
        True,
    )
    task = db.session.scalars(sa.select(Task).where(Task.key == f"message:{msg.id}:reply")).one()
    assert task.kind == "reply" and task.owner_id == world["owner"].id and task.done_at is None
    html = portal_html(client, auth, world["carla"])
    assert "Monday works for us." in html and "SECRET-QUOTE" not in html
    assert "Monday works for us." not in portal_html(client, auth, world["bob"])

    # The second run finds nothing new: the reply was moved to cur, seen.
    assert mail_in.process_maildir(db.session, maildir.path) == {}
    assert len(inbound()) == 1
    assert [m.get_subdir() for m in maildir] == ["cur"] and "S" in next(iter(maildir)).get_flags()


def test_the_cli_command_reads_the_maildir(runner, world, maildir):
    deliver(maildir, to=mail_in.reply_address(world["a"].id, None), sender="carla@acme.test", text="Thanks!")
    deliver(maildir, to="someone@else.test", sender="carla@acme.test", text="Hello?")
    result = runner.invoke(args=["mail-in", "--maildir", maildir.path])
    assert result.exit_code == 0, result.output
    assert "posted: 1, quarantined: 1" in result.output
    (msg,) = inbound()
    assert msg.body == "Thanks!" and msg.client_id == world["a"].id and msg.lead_id is None


def test_the_cli_command_refuses_without_mail_reply_to(app, runner, maildir):
    app.config["MAIL_REPLY_TO"] = None
    result = runner.invoke(args=["mail-in", "--maildir", maildir.path])
    assert result.exit_code != 0 and "MAIL_REPLY_TO is not set" in result.output


def _forged(world) -> str:
    token = URLSafeSerializer("not-our-secret", salt=mail_in.SALT).dumps([world["a"].id, world["lead"].id])
    return f"replies+{token}@sales.example.test"


def _altered(world) -> str:
    """A's genuine token with B's ids swapped into its payload."""
    genuine = mail_in.reply_address(world["a"].id, world["lead"].id)
    other = mail_in.reply_address(world["b"].id, world["b_lead"].id)
    payload_b = other.split("+", 1)[1].split(".")[0]
    local, domain = genuine.split("@")
    return f"replies+{payload_b}.{local.split('.', 1)[1]}@{domain}"


CASES = {
    "forged token": (_forged, "carla@acme.test", "forged or damaged"),
    "altered token": (_altered, "carla@acme.test", "forged or damaged"),
    "no reply address": (lambda w: "replies@sales.example.test", "carla@acme.test", "not sent to a reply"),
    "a stranger": (
        lambda w: mail_in.reply_address(w["a"].id, w["lead"].id),
        "mallory@evil.test",
        "not a contact",
    ),
    "another client's contact": (
        lambda w: mail_in.reply_address(w["a"].id, w["lead"].id),
        "bob@bravo.test",
        "not a contact",
    ),
    "a contact on another client's token": (
        lambda w: mail_in.reply_address(w["b"].id, w["b_lead"].id),
        "carla@acme.test",
        "not a contact",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_anything_else_is_quarantined_and_never_posted(client, auth, world, maildir, case, caplog):
    to, sender, why = CASES[case]
    deliver(maildir, to=to(world), sender=sender, text="CANARY-MAIL-IN please post this")
    assert mail_in.process_maildir(db.session, maildir.path) == {"quarantined": 1}
    assert inbound() == [] and why in caplog.text
    assert len(maildir) == 0 and len(maildir.get_folder("quarantine")) == 1
    for contact in (world["carla"], world["bob"]):
        assert "CANARY-MAIL-IN" not in portal_html(client, auth, contact)
    assert db.session.scalar(sa.select(sa.func.count(Task.id)).where(Task.kind == "reply")) == 0
    assert mail_in.process_maildir(db.session, maildir.path) == {}  # not looked at again


def test_an_inactive_contact_or_a_reply_without_text_is_quarantined(world, maildir, caplog):
    address = mail_in.reply_address(world["a"].id, world["lead"].id)
    inactive = world["carla"]
    deliver(maildir, to=address, sender="carla@acme.test", text="> only the quote\n")
    deliver(maildir, to=address, sender="carla@acme.test", text=None, html="<p>only html</p>")
    assert mail_in.process_maildir(db.session, maildir.path) == {"quarantined": 2}
    assert "no text besides the quoted message" in caplog.text and "no plain-text part" in caplog.text
    inactive.active = False
    db.session.commit()
    deliver(maildir, to=address, sender="carla@acme.test", text="Still there?")
    assert mail_in.process_maildir(db.session, maildir.path) == {"quarantined": 1}
    assert "inactive contact" in caplog.text and inbound() == []
    assert len(maildir.get_folder("quarantine")) == 3


@pytest.mark.parametrize(
    "body, text",
    [
        ("Yes.\n> quoted", "Yes."),
        ("Yes.\n\nOn Mon, Jan 5, 2026 at 9:00 AM Team <r@x.test> wrote:\n> quoted", "Yes."),
        ("Yes.\n-----Original Message-----\nFrom: Team", "Yes."),
        ("Yes.\n-- \nCarla, Acme Bakery", "Yes."),
        ("On the other hand, Tuesday is fine.\nThanks", "On the other hand, Tuesday is fine.\nThanks"),
    ],
)
def test_quoted_text_is_stripped(body, text):
    assert mail_in.reply_text(body) == text


def test_the_reply_address_is_read_from_the_environment(monkeypatch, tmp_path):
    from zarts.config import from_env

    assert from_env(str(tmp_path))["MAIL_REPLY_TO"] is None
    monkeypatch.setenv("MAIL_REPLY_TO", REPLY_TO)
    assert from_env(str(tmp_path))["MAIL_REPLY_TO"] == REPLY_TO
