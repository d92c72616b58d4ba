"""Lead capture: the hosted form and JSON create leads through the domain, with source context and
consent; wrong keys, bots (honeypot, too fast) and floods are refused."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.conftest import _fresh_schema, _make_app
from zarts.domain import unit
from zarts.domain.capture import create_source
from zarts.extensions import db
from zarts.models import Event, Lead, Task, User
from zarts.models.integrations import CaptureSource

VISITOR = {
    "name": "Ana Lima",
    "email": "ana@shoes.test",
    "company": "Lima Shoes",
    "phone": "+351 1",
    "message": "Our shop gets no leads",
    "service": "web_build",
}


def _source(make=None, owner=None):
    admin = User(email="capadmin@zarts.test", name="Cap Admin", role="admin")
    owner = owner or User(email="capowner@zarts.test", name="Cap Owner", role="growth_ops")
    db.session.add_all([admin, owner])
    db.session.flush()
    with unit(db.session):
        source, key = create_source(
            db.session,
            admin,
            name="Website contact",
            source="website",
            service="seo",
            default_owner_id=owner.id,
            consent_wording="You may contact me.",
        )
    return source, key, owner


def _form_post(client, key, data):
    page = client.get(f"/capture/{key}").get_data(as_text=True)
    started = re.search(r'name="_started" value="([^"]+)"', page).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(f"/capture/{key}", data={**data, "_started": started, "csrf_token": token})


def test_the_hosted_form_creates_a_lead_with_consent_and_a_task(app, client):
    app.config["CAPTURE_MIN_FILL_SECONDS"] = 0
    source, key, owner = _source()
    resp = _form_post(client, key, VISITOR | {"consent": "1"})
    assert resp.status_code == 200 and "Thank you" in resp.get_data(as_text=True)
    lead = db.session.scalar(sa.select(Lead))
    assert lead.owner_id == owner.id and lead.source == "website" and lead.service == "web_build"
    assert lead.source_context == "Web form: Website contact" and lead.contact_email == "ana@shoes.test"
    assert lead.consent == "granted" and lead.consent_recorded_at is not None
    assert db.session.scalar(sa.select(Event.kind).where(Event.lead_id == lead.id)) == "created"
    assert db.session.scalar(sa.select(Task.owner_id).where(Task.lead_id == lead.id)) == owner.id


def test_json_without_the_box_ticked_records_no_consent(app, client):
    source, key, _ = _source()
    resp = client.post(f"/capture/{key}", json=VISITOR)
    assert resp.status_code == 201 and resp.get_json()["status"] == "received"
    lead = db.session.scalar(sa.select(Lead))
    assert lead.consent == "unknown" and lead.consent_recorded_at is None


def test_bad_input_gets_field_errors_never_a_500(app, client):
    app.config["CAPTURE_MIN_FILL_SECONDS"] = 0
    _, key, _ = _source()
    resp = client.post(
        f"/capture/{key}", json={"name": "", "email": "not-mail", "company": "x" * 300, "service": "magic"}
    )
    body = resp.get_json()
    assert resp.status_code == 400 and {"name", "email", "company", "service"} <= set(body["errors"])
    assert client.post(f"/capture/{key}", json=["a list"]).status_code == 400
    assert client.post(f"/capture/{key}", data="{", content_type="application/json").status_code == 400
    form = _form_post(client, key, {"name": "Ana", "email": "", "company": "Lima"})
    assert form.status_code == 400 and "Please give your email." in form.get_data(as_text=True)
    assert 'value="Ana"' in form.get_data(as_text=True)  # typed input kept
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == 0


def test_a_wrong_rotated_or_inactive_key_is_404(app, client):
    source, key, _ = _source()
    assert client.post("/capture/zcap_wrong", json=VISITOR).status_code == 404
    assert app.test_client().get("/capture/zcap_wrong").status_code == 404
    source.active = False
    db.session.commit()
    assert client.post(f"/capture/{key}", json=VISITOR).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == 0
    stored = db.session.scalar(sa.select(CaptureSource.key_hash))
    assert key not in stored


def test_bots_are_thanked_and_dropped_or_told_to_slow_down(app, client):
    _, key, _ = _source()
    honeypot = client.post(f"/capture/{key}", json=VISITOR | {"website": "http://spam.test"})
    assert honeypot.status_code == 201  # the bot learns nothing
    fast = _form_post(client, key, VISITOR)  # sent at once: below CAPTURE_MIN_FILL_SECONDS
    assert fast.status_code == 400 and "That was quick" in fast.get_data(as_text=True)
    no_token = client.post(f"/capture/{key}", data=VISITOR)  # a form post without the fill-time token
    assert no_token.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == 0


def test_json_from_a_browser_only_from_configured_origins(app, client):
    app.config["CAPTURE_CORS_ORIGINS"] = ["https://shop.test"]
    _, key, _ = _source()
    pre = client.options(f"/capture/{key}", headers={"Origin": "https://shop.test"})
    assert pre.status_code == 204 and pre.headers["Access-Control-Allow-Origin"] == "https://shop.test"
    ok = client.post(f"/capture/{key}", json=VISITOR, headers={"Origin": "https://shop.test"})
    assert ok.status_code == 201 and ok.headers["Access-Control-Allow-Origin"] == "https://shop.test"
    evil = client.post(f"/capture/{key}", json=VISITOR, headers={"Origin": "https://evil.test"})
    assert evil.status_code == 403 and "Access-Control-Allow-Origin" not in evil.headers
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == 1


def test_captures_are_limited_per_address(tmp_path):
    app = _make_app(
        f"sqlite:///{tmp_path / 'cap.db'}",
        RATELIMIT_ENABLED=True,
        RATELIMIT_CAPTURE_PER_ADDRESS="2/minute",
        RATELIMIT_KEY_PREFIX=f"cap-{tmp_path.name}",
    )
    _fresh_schema(app)
    with app.app_context():
        _, key, _ = _source()
        client = app.test_client()
        codes = [
            client.post(f"/capture/{key}", json=VISITOR | {"email": f"a{i}@x.test"}).status_code
            for i in range(3)
        ]
        assert codes == [201, 201, 429]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == 2
        db.session.remove()


def test_the_admin_shows_the_key_and_snippet_once(app, client, auth, make):
    admin = make.user("admin")
    owner = make.user("growth_ops")
    db.session.commit()
    auth.login_as(admin)
    made = auth.post(
        "/admin/capture_sources/new",
        {
            "name": "Landing page",
            "source": "website",
            "service": "seo",
            "default_owner_id": str(owner.id),
            "consent_wording": "OK to call",
        },
    )
    html = made.get_data(as_text=True)
    assert made.status_code == 201
    key = re.search(r'data-testid="capture-key">([^<]+)<', html).group(1)
    assert f"/capture/{key}" in html and "capture.js" in html and "OK to call" in html
    assert key not in client.get("/admin/capture_sources/").get_data(as_text=True)
    bad = auth.post("/admin/capture_sources/new", {"name": "", "source": "moon"})
    assert bad.status_code == 400 and 'role="alert"' in bad.get_data(as_text=True)
    auth.login_as(owner)
    assert client.get("/admin/capture_sources/").status_code == 403
