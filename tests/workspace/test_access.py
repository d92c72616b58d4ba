"""Access to every workspace page and partial, by role, and CSRF on every form.

The URLs come from the app's own url_map, so a new workspace route is covered (or fails) here.
"""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from zarts.domain.attachments import add_attachment
from zarts.extensions import db
from zarts.models import Audit, ImportJob, Lead, Report, SavedView, Task

from .conftest import HX, STAFF

APPROVERS_ONLY = ("workspace.approvals", "workspace.approval_item", "workspace.decide")
OWNERS_ONLY = ("workspace.new_lead",)  # who may own opportunities: growth ops and admins
# Routes that answer a file to save, not a page: the status each role gets (the world's proposal is a
# draft, which has no PDF).
FILES = {"workspace.download_file": 200, "workspace.proposal_pdf_file": 404}


def import_status(role: str, endpoint: str, path: str) -> int | None:
    """Imports are for growth ops and admins, and each import is its uploader's (the world's is
    Olga's: anyone else in growth ops gets a 404; its error report does not exist: 404)."""
    if not endpoint.startswith("workspace.import"):
        return None
    if role not in ("growth_ops", "admin"):
        return 403
    if "/imports/" in path and (role == "growth_ops" or path.endswith("errors.csv")):
        return 404
    return 200


@pytest.fixture
def world(app, tmp_path, make, journey, pending_proposal, owner):
    """One of everything a workspace URL can point at."""
    lead, proposal, approvals = pending_proposal
    app.config["ATTACHMENT_FOLDER"] = str(tmp_path / "files")
    attachment = add_attachment(
        db.session, owner, lead, filename="notes.txt", stream=io.BytesIO(b"notes"), max_bytes=1000
    )
    audit = db.session.execute(sa.select(Audit).where(Audit.lead_id == lead.id)).scalars().first()
    task = Task(kind="follow_up", title="Call", owner_id=owner.id, due=lead.next_action_due, lead_id=lead.id)
    db.session.add(task)
    report = Report(kind="client_report", title="May report", lead_id=lead.id, status="draft", figures={})
    db.session.add(report)
    db.session.commit()
    return {
        "lead_id": lead.id,
        "proposal_id": proposal.id,
        "approval_id": approvals[0].id,
        "audit_id": audit.id,
        "task_id": task.id,
        "stage": "new",
        "report_id": report.id,
        "import_id": _import_of(owner).id,
        "view_id": _view_of(owner).id,
        "attachment_id": attachment.id,
        "item_id": audit.items[0].id,  # an audit evidence item (issue 21)
    }


def _view_of(user) -> SavedView:
    """A shared board view (every staff member may open it; only its owner or an admin changes it)."""
    view = SavedView(owner_id=user.id, page="board", name="Team view", query="service=seo", shared=True)
    db.session.add(view)
    db.session.commit()
    return view


def _import_of(user) -> ImportJob:
    job = ImportJob(
        kind="leads",
        owner_id=user.id,
        filename="leads.csv",
        stored_name="0-none.csv",
        file_sha256="0" * 64,
        status="done",
        headers=["Company"],
        total_rows=1,
        processed_rows=1,
    )
    db.session.add(job)
    db.session.commit()
    return job


def workspace_urls(app, world, method):
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("workspace.") and method in rule.methods:
            path = rule.rule
            for name in rule.arguments:
                path = path.replace(f"<int:{name}>", str(world[name])).replace(f"<{name}>", str(world[name]))
            out.append((rule.endpoint, path))
    assert out
    return out


def test_every_workspace_route_is_listed_here(app, world):
    gets = {e for e, _ in workspace_urls(app, world, "GET")}
    posts = {e for e, _ in workspace_urls(app, world, "POST")}
    assert {
        "workspace.board",
        "workspace.lead",
        "workspace.my_tasks",
        "workspace.dashboard",
        "workspace.approvals",
        "workspace.board_column",
        "workspace.card",
        "workspace.lead_events",
        "workspace.next_action",
        "workspace.next_action_form",
        "workspace.task_row",
        "workspace.approval_item",
    } <= gets
    assert {
        "workspace.move_card",
        "workspace.decide",
        "workspace.toggle_task",
        "workspace.qualification",
        "workspace.send_proposal",
        "workspace.update_contract",
        "workspace.new_lead",
    } <= posts


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_anonymous_is_sent_to_login(app, client, world, htmx):
    # A page redirects; an HTMX fragment asks htmx to navigate the whole page (HX-Redirect).
    expected, header = (401, "HX-Redirect") if htmx else (302, "Location")
    for endpoint, path in workspace_urls(app, world, "GET"):
        resp = client.get(path, headers=HX if htmx else {})
        assert resp.status_code == expected and "/login?next=" in resp.headers[header], endpoint
    for endpoint, path in workspace_urls(app, world, "POST"):
        resp = client.post(path, data={}, headers=HX if htmx else {})
        assert resp.status_code in (expected, 400), endpoint  # CSRF may refuse first; never reaches the view
        if resp.status_code == expected:
            assert "/login" in resp.headers[header]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_client_contacts_get_403_everywhere(app, client, auth, sign_in, make, world, htmx):
    sign_in(make.user("client"))
    for endpoint, path in workspace_urls(app, world, "GET"):
        assert client.get(path, headers=HX if htmx else {}).status_code == 403, endpoint
    for endpoint, path in workspace_urls(app, world, "POST"):
        assert auth.post(path, {}, htmx=htmx).status_code == 403, endpoint


@pytest.mark.parametrize("role", STAFF)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_staff_roles_see_pages_and_fragments(app, client, sign_in, make, world, role, htmx):
    sign_in(make.user(role))
    for endpoint, path in workspace_urls(app, world, "GET"):
        resp = client.get(path, headers=HX if htmx else {})
        body = resp.get_data(as_text=True)
        expected = import_status(role, endpoint, path)
        if expected is not None and expected != 200:
            assert resp.status_code == expected, (role, endpoint)
            continue
        if endpoint in APPROVERS_ONLY and role not in ("approver", "admin"):
            assert resp.status_code == 403, (role, endpoint)
            continue
        if endpoint in OWNERS_ONLY and role not in ("growth_ops", "admin"):
            assert resp.status_code == 403, (role, endpoint)
            continue
        if endpoint in FILES:
            assert resp.status_code == FILES[endpoint], (role, endpoint)
            assert resp.status_code != 200 or resp.headers["Content-Disposition"].startswith("attachment;")
            continue
        assert resp.status_code == 200, (role, endpoint, body[:500])
        # A reload of any fragment URL is a whole page; an HTMX request gets the bare fragment.
        assert ("<!doctype html>" in body) is (not htmx), (role, endpoint)
        assert "style=" not in body and "<script>" not in body and "hx-on" not in body, (role, endpoint)


def test_only_approvers_and_admins_decide(app, client, auth, sign_in, make, world):
    for role in ("growth_ops", "delivery"):
        sign_in(make.user(role))
        resp = auth.post(
            f"/workspace/approvals/{world['approval_id']}/decide",
            {"decision": "approve", "version": 1},
            htmx=True,
        )
        assert resp.status_code == 403


def test_every_post_without_a_csrf_token_is_refused(app, client, sign_in, make, world):
    sign_in(make.user("admin"))
    for endpoint, path in workspace_urls(app, world, "POST"):
        for headers in ({}, HX):
            resp = client.post(path, data={"version": "1"}, headers=headers)
            assert resp.status_code == 400, endpoint
            assert "Form expired" in resp.get_data(as_text=True)


def test_the_csrf_header_set_once_on_the_page_is_accepted(client, sign_in, make, owner, world):
    sign_in(owner)
    page = client.get("/workspace/").get_data(as_text=True)
    token = page.split('"X-CSRFToken": "')[1].split('"')[0]
    lead = db.session.get(Lead, world["lead_id"])
    resp = client.post(
        f"/workspace/leads/{lead.id}/next-action",
        data={"version": lead.version, "next_action": "Call", "next_action_due": "2999-01-01"},
        headers={**HX, "X-CSRFToken": token},
    )
    assert resp.status_code == 200


def test_pages_send_the_strict_csp(client, sign_in, owner, world):
    sign_in(owner)
    for path in (
        "/workspace/",
        f"/workspace/leads/{world['lead_id']}",
        "/workspace/tasks",
        "/workspace/dashboard",
    ):
        csp = client.get(path).headers["Content-Security-Policy"]
        assert "script-src 'self';" in csp and "style-src 'self';" in csp
