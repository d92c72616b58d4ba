"""Secrets are never stored readable (issue 16): invite and reset links exist only in the email sent.

The finding: a growth-ops user searched Admin → Messages for admin@zarts.test after a reset was
requested, read the live link in the message body and set a new admin password with it; the same
worked for every client's portal invite. Here the stored message says a link was emailed, the
database keeps only the SHA-256 of the token, and the one working link is the one a real SMTP
server received (aiosmtpd on 127.0.0.1): it works once, not after it expires.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_token
from tests.jobs.test_email import free_port, smtp  # noqa: F401 - the SMTP server fixture
from zarts.auth import tokens
from zarts.auth.tokens import PLACEHOLDER
from zarts.domain.messaging import ensure_client_contact
from zarts.extensions import db
from zarts.jobs.relay import sweep
from zarts.models import AuthToken, Base, Message, User, utcnow

ADMIN_EMAIL = "admin@zarts.test"
NEW_PASSWORD = "the harbour lantern is blue"
A_LINK = re.compile(r"/(?:reset|invite)/[A-Za-z0-9_.-]{16,}")


@pytest.fixture
def mail_app(app, smtp):  # noqa: F811 - the fixture imported above
    app.config["SMTP_URL"] = smtp.url
    return app


def emailed_link(inbox, to: str) -> str:
    """The path of the link in the last email the SMTP server received for `to`."""
    _rcpt, mail = [m for m in inbox.messages if m[0] == [to]][-1]
    body = mail.get_payload(decode=True).decode()
    assert PLACEHOLDER not in body
    return urlsplit(re.search(r"https?://\S+/(?:reset|invite)/\S+", body).group(0)).path


def every_stored_value() -> str:
    """Every column of every row of every table, as text."""
    return "\n".join(
        repr(tuple(row))
        for table in Base.metadata.tables.values()
        for row in db.session.execute(sa.select(table)).all()
    )


def set_password(browser, path, password=NEW_PASSWORD):
    return browser.post(
        path, data={"password": password, "confirm": password, "csrf_token": csrf_token(browser)}
    )


def request_reset(app, email):
    browser = app.test_client()
    return browser.post("/reset", data={"email": email, "csrf_token": csrf_token(browser)})


def growth_ops_reads(app, make, msg: Message, search: str) -> dict[str, str]:
    """What a growth-ops user's Admin → Messages (list, search, details, edit, export) and, for a
    lead's message, the lead page show; only the pages their rights open."""
    ops = make.user("growth_ops")
    db.session.commit()
    browser = app.test_client()
    with browser.session_transaction() as sess:
        sess["_user_id"], sess["_fresh"] = ops.get_id(), True
    pages = [
        "/admin/messages/",
        f"/admin/messages/?search={search}",
        f"/admin/messages/details/?id={msg.id}",
        f"/admin/messages/edit/?id={msg.id}",
        "/admin/messages/export/csv/",
    ]
    if msg.lead_id:
        pages.append(f"/workspace/leads/{msg.lead_id}")
    seen = {}
    for page in pages:
        resp = browser.get(page)
        assert resp.status_code in (200, 403), (page, resp.status_code)
        seen[page] = resp.get_data(as_text=True) if resp.status_code == 200 else ""
    assert msg.subject in seen[f"/admin/messages/?search={search}"]  # the search finds the message
    return seen


def assert_only_hashes_stored(token: str) -> None:
    assert token not in every_stored_value()
    row = db.session.scalars(
        sa.select(AuthToken).where(AuthToken.token_hash == hashlib.sha256(token.encode()).hexdigest())
    ).one()
    assert re.fullmatch(r"[0-9a-f]{64}", row.token_hash)


def test_a_reset_link_is_only_in_the_email_and_works_once(mail_app, make, smtp, caplog):  # noqa: F811
    admin = make.user("admin", email=ADMIN_EMAIL)
    db.session.commit()
    assert request_reset(mail_app, ADMIN_EMAIL).status_code == 302

    msg = db.session.scalars(sa.select(Message).where(Message.to_email == ADMIN_EMAIL)).one()
    assert msg.link_purpose == "reset" and msg.email_status == "sent"
    assert PLACEHOLDER in msg.body and not A_LINK.search(msg.body)
    pages = growth_ops_reads(mail_app, make, msg, ADMIN_EMAIL)
    # The details say a link was sent; no page shows one.
    assert PLACEHOLDER in pages[f"/admin/messages/details/?id={msg.id}"]
    for page, html in pages.items():
        assert not A_LINK.search(html), page

    path = emailed_link(smtp, ADMIN_EMAIL)
    token = path.rsplit("/", 1)[1]
    assert_only_hashes_stored(token)
    assert token not in caplog.text  # with SMTP nothing is printed
    hashed = db.session.scalar(sa.select(AuthToken.token_hash).where(AuthToken.message_id == msg.id))
    assert mail_app.test_client().get(f"/reset/{hashed}").status_code == 400  # the hash is no link

    resp = set_password(mail_app.test_client(), path)
    assert resp.status_code == 302 and resp.headers["Location"] == "/workspace/"
    again = mail_app.test_client().get(path)
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)
    db.session.expire_all()
    from zarts.auth.passwords import verify_password

    assert verify_password(db.session.get(User, admin.id).password_hash, NEW_PASSWORD)


def test_an_emailed_reset_link_expires(mail_app, make, smtp, monkeypatch):  # noqa: F811
    make.user("admin", email=ADMIN_EMAIL)
    db.session.commit()
    request_reset(mail_app, ADMIN_EMAIL)
    path = emailed_link(smtp, ADMIN_EMAIL)
    monkeypatch.setattr(tokens, "utcnow", lambda: utcnow() + timedelta(hours=2, minutes=1))
    resp = mail_app.test_client().get(path)
    assert resp.status_code == 400 and "This link has expired." in resp.get_data(as_text=True)


def test_a_portal_invite_is_only_in_the_email_and_works_once(mail_app, make, smtp):  # noqa: F811
    """As sending a proposal or the handoff does: the client's login is created with its invite."""
    lead = make.lead()
    client = make.client()
    lead.client_id = client.id
    contact = ensure_client_contact(
        db.session, client, email=lead.contact_email, name=lead.contact_name, lead=lead
    )
    db.session.commit()

    msg = db.session.scalars(sa.select(Message).where(Message.key == f"invite:{contact.id}")).one()
    assert msg.link_purpose == "invite" and msg.email_status == "sent"
    assert PLACEHOLDER in msg.body and not A_LINK.search(msg.body)
    for page, html in growth_ops_reads(mail_app, make, msg, contact.email).items():
        assert not A_LINK.search(html), page

    path = emailed_link(smtp, contact.email)
    assert path.startswith("/invite/")
    assert_only_hashes_stored(path.rsplit("/", 1)[1])
    browser = mail_app.test_client()
    assert set_password(browser, path).headers["Location"] == "/portal/"
    assert browser.get("/portal/").status_code == 200
    again = mail_app.test_client().get(path)
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)


def test_an_emailed_invite_expires(mail_app, make, smtp, monkeypatch):  # noqa: F811
    client = make.client()
    contact = ensure_client_contact(db.session, client, email="late@client.test", name="Late")
    db.session.commit()
    path = emailed_link(smtp, contact.email)
    monkeypatch.setattr(tokens, "utcnow", lambda: utcnow() + timedelta(days=7, minutes=1))
    resp = mail_app.test_client().get(path)
    assert resp.status_code == 400 and "This link has expired." in resp.get_data(as_text=True)


def test_a_retried_email_carries_a_new_link_and_the_earlier_one_is_spent(app, make, smtp):  # noqa: F811
    """The first attempt fails after its token was committed (the email may have gone out): the retry
    spends it and sends a fresh one."""
    staff = make.user("growth_ops")
    db.session.commit()
    app.config.update(SMTP_URL=f"smtp://127.0.0.1:{free_port()}", JOBS_RETRY_INTERVALS=[0])
    request_reset(app, staff.email)
    msg = db.session.scalars(sa.select(Message).where(Message.to_email == staff.email)).one()
    first = db.session.scalars(sa.select(AuthToken).where(AuthToken.message_id == msg.id)).one()
    assert first.used_at is None and msg.email_status == "pending"

    app.config["SMTP_URL"] = smtp.url
    db.session.expire_all()
    sweep()
    path = emailed_link(smtp, staff.email)
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(AuthToken).where(AuthToken.message_id == msg.id).order_by(AuthToken.id)
    ).all()
    assert [r.used_at is not None for r in rows] == [True, False]
    assert app.test_client().get(path).status_code == 200


def test_in_production_without_smtp_no_link_exists_anywhere(app, make, caplog):
    staff = make.user("growth_ops")
    db.session.commit()
    app.config["ZARTS_ENV"] = "production"
    request_reset(app, staff.email)
    msg = db.session.scalars(sa.select(Message).where(Message.to_email == staff.email)).one()
    assert msg.email_status == "none" and PLACEHOLDER in msg.body
    assert db.session.scalars(sa.select(AuthToken)).all() == []
    assert not A_LINK.search(caplog.text)


def test_in_development_without_smtp_the_email_is_printed_with_a_working_link(app, make, caplog):
    staff = make.user("growth_ops")
    db.session.commit()
    request_reset(app, staff.email)
    path = urlsplit(re.search(r"https?://\S+/reset/\S+", caplog.text).group(0)).path
    assert "SMTP_URL is not set" in caplog.text
    assert_only_hashes_stored(path.rsplit("/", 1)[1])
    assert set_password(app.test_client(), path).status_code == 302
