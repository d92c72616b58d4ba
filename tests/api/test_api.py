"""The REST API: personal tokens, the same domain functions as the screens, keyset pages, If-Match,
problem details, role scoping and limits."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.api.conftest import Api, token_for
from tests.conftest import _fresh_schema, _make_app
from zarts.domain import unit
from zarts.domain.api_tokens import revoke_token
from zarts.extensions import db
from zarts.models import ApiToken, Event, Lead, User, today

NEW_LEAD = {
    "title": "Rebuild of the shop",
    "company": "Acme Shoes",
    "source": "referral",
    "service": "seo",
    "contact_name": "Ana",
    "contact_email": "ana@acme.test",
    "contact_path": "email",
    "source_context": "Met at the meetup",
    "service_fit": "strong",
    "urgency": "high",
    "decision_owner": "CEO",
    "budget_signal": "5k/month",
}


def test_a_token_is_shown_once_and_only_its_hash_is_stored(client, auth, make):
    user = make.user("growth_ops")
    auth.login_as(user)
    page = auth.post("/workspace/tokens", {"name": "Zapier"})
    assert page.status_code == 201
    html = page.get_data(as_text=True)
    token = html.split('data-testid="new-token">')[1].split("<")[0]
    assert token.startswith("zat_") and len(token) > 40
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and row.prefix == token[:8]
    stored = " ".join(str(v) for v in db.session.execute(sa.select(ApiToken.__table__)).one())
    assert token not in stored
    again = client.get("/workspace/tokens").get_data(as_text=True)
    assert token not in again and row.prefix in again  # listed by its prefix, never again in full
    assert Api(client, token).get("/leads").status_code == 200

    resp = auth.post("/workspace/tokens/revoke", {"token_id": str(row.id)})
    assert resp.status_code == 302
    refused = Api(client, token).get("/leads")
    assert refused.status_code == 401 and refused.mimetype == "application/problem+json"


def test_a_client_contact_gets_no_token_and_cannot_revoke_others(client, auth, make):
    contact = make.user("client")
    auth.login_as(contact)
    assert auth.post("/workspace/tokens", {"name": "mine"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0
    owner, other = make.user("growth_ops"), make.user("growth_ops")
    token_for(owner)
    row = db.session.scalar(sa.select(ApiToken))
    auth.login_as(other)
    resp = auth.post("/workspace/tokens/revoke", {"token_id": str(row.id)})
    assert resp.status_code == 403 and db.session.get(ApiToken, row.id).revoked_at is None


def test_a_script_creates_a_lead_moves_it_and_reads_its_events(app, make, api_as):
    owner = make.user("growth_ops")
    api = api_as(owner)
    created = api.post(
        "/leads", NEW_LEAD | {"next_action": "Call Ana", "next_action_due": str(today() + timedelta(days=2))}
    )
    assert created.status_code == 201, created.get_json()
    lead = created.get_json()
    assert lead["owner_id"] == owner.id and lead["stage"] == "new" and created.headers["ETag"] == '"1"'
    assert created.headers["Location"] == f"/api/v1/leads/{lead['id']}"

    moved = api.post(f"/leads/{lead['id']}/move", {"stage": "qualified"}, version=lead["version"])
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["stage"] == "qualified"

    events = api.get(f"/leads/{lead['id']}/events").get_json()
    assert [e["kind"] for e in events["data"]] == ["created", "stage_moved", "qualified"]
    assert events["data"][1]["payload"] == {"from_stage": "new", "to_stage": "qualified"}
    assert events["data"][0]["actor_id"] == owner.id
    everything = api.get(f"/events?lead_id={lead['id']}&kind=stage_moved").get_json()["data"]
    assert len(everything) == 1


def test_if_match_is_required_and_checked(app, make, api_as):
    owner = make.user("growth_ops")
    lead = make.lead(owner=owner)
    db.session.commit()
    lead_id, version = lead.id, lead.version
    api = api_as(owner)
    missing = api.patch(f"/leads/{lead_id}", {"budget_signal": "10k"})
    assert missing.status_code == 428 and missing.get_json()["title"] == "If-Match required"
    stale = api.patch(f"/leads/{lead_id}", {"budget_signal": "10k"}, version=version + 5)
    assert stale.status_code == 412 and stale.get_json()["current_version"] == version
    ok = api.patch(f"/leads/{lead_id}", {"budget_signal": "10k"}, version=version)
    assert ok.status_code == 200 and ok.get_json()["budget_signal"] == "10k"
    assert ok.headers["ETag"] == f'"{version + 1}"'
    change = db.session.scalar(
        sa.select(Event).where(Event.lead_id == lead_id, Event.kind == "fields_changed")
    )
    assert change.payload["via"] == "api" and change.actor_id == owner.id
    again = api.patch(f"/leads/{lead_id}", {"budget_signal": "12k"}, version=version)  # the old version
    assert again.status_code == 412


def test_keyset_pages_walk_every_lead_once_with_filters(app, make, api_as):
    owner = make.user("growth_ops")
    other = make.user("growth_ops")
    ids = [
        make.lead(owner=owner if i % 3 else other, service="seo" if i % 2 else "content").id
        for i in range(25)
    ]
    db.session.commit()
    api = api_as(owner)
    seen, url = [], "/leads?limit=10"
    while url:
        page = api.get(url.removeprefix("/api/v1"))
        body = page.get_json()
        seen += [row["id"] for row in body["data"]]
        url = body["next"]
        if url:
            assert page.headers["Link"] == f'<{url}>; rel="next"'
    assert seen == ids
    mine = api.get("/leads?owner=me&service=seo&limit=100").get_json()["data"]
    assert {r["id"] for r in mine} == {i for n, i in enumerate(ids) if n % 3 and n % 2}
    after = api.get(f"/leads?after={ids[20]}").get_json()
    assert [r["id"] for r in after["data"]] == ids[21:] and after["next"] is None


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/leads", "limit=0"),
        ("/leads", "limit=abc"),
        ("/leads", "stage=nowhere"),
        ("/leads", "after=-1"),
        ("/leads", "owner=someone"),
        ("/leads", "updated_since=yesterday"),
        ("/leads", "unknown=1"),
        ("/events", "kind=bogus"),
        ("/tasks", "lead_id=x"),
    ],
)
def test_bad_query_input_is_a_400_problem(app, make, api_as, path, params):
    resp = api_as(make.user("growth_ops")).get(f"{path}?{params}")
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["title"] == "Invalid input" and body["errors"] and body["status"] == 400


def test_bad_bodies_and_gate_refusals_are_problem_details(app, make, api_as):
    owner = make.user("growth_ops")
    api = api_as(owner)
    bad = api.post("/leads", {"title": "", "source": "carrier pigeon"})
    body = bad.get_json()
    assert bad.status_code == 400 and {"title", "source", "company", "service"} <= set(body["errors"])
    not_json = api.client.post(
        "/api/v1/leads",
        data="{",
        headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"},
    )
    assert not_json.status_code == 400 and not_json.mimetype == "application/problem+json"

    lead = make.lead(owner=owner, decision_owner=None, budget_signal=None)
    db.session.commit()
    refused = api.post(f"/leads/{lead.id}/move", {"stage": "qualified"}, version=lead.version)
    problem = refused.get_json()
    assert refused.status_code == 422 and problem["title"] == "Gate refused"
    assert {m["code"] for m in problem["missing"]} >= {"decision_owner", "budget_signal"}
    assert db.session.get(Lead, lead.id).stage == "new"
    lost = api.post(f"/leads/{lead.id}/lost", {"lost_reason": "price"}, version=lead.version)
    assert lost.status_code == 422 and lost.get_json()["missing"]
    invalid = api.post("/leads", NEW_LEAD | {"owner_id": 999999})
    assert invalid.status_code in (400, 403) and invalid.get_json()["detail"]
    assert api.get("/leads/999999").status_code == 404
    assert api.get("/nowhere").get_json()["status"] == 404


def test_role_scoping_goes_through_the_domain(app, make, api_as):
    approver = make.user("approver")
    owner = make.user("growth_ops")
    lead = make.lead(owner=owner)
    db.session.commit()
    api = api_as(approver)
    assert api.get("/leads").status_code == 200  # staff read
    refused = api.post("/leads", NEW_LEAD)
    assert refused.status_code == 403 and "growth ops" in refused.get_json()["detail"].lower()
    other = api_as(make.user("growth_ops"))
    move = other.post(f"/leads/{lead.id}/move", {"stage": "qualified"}, version=lead.version)
    assert move.status_code == 403 and db.session.get(Lead, lead.id).stage == "new"


def test_revoked_expired_and_deactivated_tokens_are_refused(app, make):
    user = make.user("growth_ops")
    token = token_for(user)
    api = Api(app.test_client(), token)
    assert api.get("/leads").status_code == 200
    assert db.session.scalar(sa.select(ApiToken.last_used_at)) is not None
    db.session.get(User, user.id).active = False
    db.session.commit()
    assert api.get("/leads").status_code == 401
    db.session.get(User, user.id).active = True
    db.session.commit()
    assert api.get("/leads").status_code == 200
    with unit(db.session):
        revoke_token(db.session, db.session.get(User, user.id), db.session.scalar(sa.select(ApiToken.id)))
    assert api.get("/leads").status_code == 401
    assert Api(app.test_client(), "zat_made-up").get("/leads").status_code == 401
    assert app.test_client().get("/api/v1/leads").status_code == 401


def test_a_session_cookie_never_authenticates_the_api(client, auth, make):
    admin = make.user("admin")
    auth.login_as(admin)
    assert client.get("/api/v1/leads").status_code == 401
    no_csrf = client.post("/api/v1/leads", json=NEW_LEAD)
    assert no_csrf.status_code == 400 and no_csrf.get_json()["title"] == "Form expired"
    with_csrf = auth.post("/api/v1/leads", NEW_LEAD)
    assert with_csrf.status_code == 401
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == 0


def test_tasks_mine_and_complete_through_the_domain(app, make, api_as):
    owner = make.user("growth_ops")
    api = api_as(owner)
    lead = api.post("/leads", NEW_LEAD | {"next_action": "Call", "next_action_due": str(today())}).get_json()
    tasks = api.get("/tasks").get_json()["data"]
    assert len(tasks) == 1 and tasks[0]["lead_id"] == lead["id"]
    task = tasks[0]
    done = api.post(f"/tasks/{task['id']}/complete", version=task["version"])
    assert done.status_code == 200 and done.get_json()["done_at"]
    assert api.get("/tasks").get_json()["data"] == []
    assert len(api.get(f"/tasks?lead_id={lead['id']}&open=false").get_json()["data"]) == 1
    reopened = api.post(f"/tasks/{task['id']}/reopen", version=done.get_json()["version"])
    assert reopened.status_code == 200 and reopened.get_json()["done_at"] is None
    kinds = [e["kind"] for e in api.get(f"/leads/{lead['id']}/events").get_json()["data"]]
    assert kinds[-2:] == ["task_done", "task_reopened"]


def test_proposals_and_clients_are_readable(app, make, journey, api_as):
    owner = make.user("growth_ops")
    lead = journey.to(make.lead(owner=owner), "contract")
    db.session.commit()
    api = api_as(owner)
    page = api.get(f"/proposals?lead_id={lead.id}").get_json()["data"]
    assert page and page[0]["status"] == "sent" and page[0]["items"]
    assert set(page[0]["internal"]) == {"pricing_assumptions", "internal_notes"}
    one = api.get(f"/proposals/{page[0]['id']}")
    assert one.status_code == 200 and one.headers["ETag"]
    client_row = make.client("Acme")
    db.session.commit()
    assert api.get(f"/clients/{client_row.id}").get_json()["name"] == "Acme"
    assert any(c["id"] == client_row.id for c in api.get("/clients").get_json()["data"])


def test_the_api_description_is_for_staff_only(app, client, auth, make):
    anonymous = client.get("/api/v1/openapi.json")
    assert anonymous.status_code == 401 and anonymous.mimetype == "application/problem+json"
    assert anonymous.get_json()["title"] == "Sign-in required" and "paths" not in anonymous.get_json()
    page = client.get("/api/v1/docs")
    assert page.status_code in (302, 303) and "/login" in page.headers["Location"]
    refused = client.get("/api/v1/openapi.json", headers={"Authorization": "Bearer zat_not-a-token"})
    assert refused.status_code == 401 and refused.get_json()["title"] == "Token refused"
    staff = make.user("delivery")
    by_token = client.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {token_for(staff)}"})
    assert by_token.status_code == 200 and "/api/v1/leads" in by_token.get_json()["paths"]
    auth.login_as(make.user("client", client=make.client()))
    assert client.get("/api/v1/openapi.json").status_code == 403
    assert client.get("/api/v1/docs").status_code == 403
    # flask-smorest's own docs pages (scripts from a CDN) are not served.
    assert {r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("api-docs.")} == {
        "/api/v1/openapi.json"
    }


def test_the_openapi_document_lists_the_paths_and_the_docs_page_obeys_the_csp(client, auth, make):
    auth.login_as(make.user("growth_ops"))
    doc = client.get("/api/v1/openapi.json")
    assert doc.status_code == 200
    spec = doc.get_json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/leads",
        "/api/v1/leads/{lead_id}",
        "/api/v1/leads/{lead_id}/move",
        "/api/v1/clients",
        "/api/v1/proposals",
        "/api/v1/tasks",
        "/api/v1/events",
        "/api/v1/leads/{lead_id}/events",
    ):
        assert path in spec["paths"], path
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<script>" not in html and "cdn" not in html.lower()
    assert "vendor/swagger-ui/swagger-ui-bundle.js" in html and "api_docs.js" in html
    with client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js") as script:  # closes the file
        assert script.status_code == 200


def test_calls_per_token_are_limited_with_a_429_problem(tmp_path, make):
    app = _make_app(
        f"sqlite:///{tmp_path / 'limits.db'}",
        RATELIMIT_ENABLED=True,
        RATELIMIT_API="3/minute",
        RATELIMIT_KEY_PREFIX=f"api-test-{tmp_path.name}",
    )
    _fresh_schema(app)
    with app.app_context():
        user = User(email="limit@zarts.test", name="Limit", role="growth_ops")
        db.session.add(user)
        db.session.commit()
        one, two = Api(app.test_client(), token_for(user)), Api(app.test_client(), token_for(user))
        assert [one.get("/leads").status_code for _ in range(3)] == [200, 200, 200]
        limited = one.get("/leads")
        assert limited.status_code == 429 and limited.mimetype == "application/problem+json"
        assert limited.get_json()["status"] == 429
        assert two.get("/leads").status_code == 200  # per token
        db.session.remove()
