"""The client-safe boundary, proved by a crawl: every internal text of every table carries a
CANARY marker, and no portal page, partial or action answer shows one to either client — while
every approved client-safe text is there."""

from __future__ import annotations

from tests.portal.conftest import expected_safe, progress_of
from tests.portal.crawl import object_ids, portal_rules, urls_for
from tests.portal.test_proposal_pdf import pdf_text


def crawl(app, session, world) -> dict[str, str]:
    """Every GET route with each of the client's ids (full page and HTMX), then the actions' answers."""
    pages: dict[str, str] = {}
    ids = object_ids(world.client.id)

    def keep(label, resp, *statuses):
        assert resp.status_code in statuses, (label, resp.status_code)
        # A proposal's PDF is checked by its text, as a reader sees it (an attached file by its bytes).
        printed = resp.mimetype == "application/pdf" and "/files/" not in label
        pages[label] = pdf_text(resp.data) if printed else resp.get_data(as_text=True)

    for rule, methods in portal_rules(app):
        if "GET" not in methods:
            continue
        for url in urls_for(rule, ids):
            for htmx in (False, True):
                keep(f"GET {url} htmx={htmx}", session.get(url, htmx=htmx), 200, 404)
    p, item = world.open_proposal, world.checklist[0]
    add_ons = world.add_on_ids
    keep("total", session.get(f"/portal/proposals/{p.id}/total?add_on={add_ons[1]}", htmx=True), 200)
    keep("accept stale", session.post(f"/portal/proposals/{p.id}/accept", {"version": 0}, htmx=True), 409)
    version = session.version_on(f"/portal/proposals/{p.id}")
    keep(
        "decline empty",
        session.post(f"/portal/proposals/{p.id}/decline", {"version": version, "reason": " "}, htmx=True),
        400,
    )
    keep("message empty", session.post("/portal/messages", {"body": ""}, htmx=True), 400)
    keep("message", session.post("/portal/messages", {"body": "Thanks!"}, htmx=True), 200)
    keep(
        "tick",
        session.post(f"/portal/checklist/{item.id}", {"version": item.version, "done": "1"}, htmx=True),
        200,
    )
    keep(
        "tick stale",
        session.post(f"/portal/checklist/{item.id}", {"version": item.version, "done": "1"}, htmx=True),
        409,
    )
    keep(
        "accept",
        session.post(f"/portal/proposals/{p.id}/accept", {"version": version, "add_on": add_ons}, htmx=True),
        200,
    )
    keep(
        "accept again",
        session.post(f"/portal/proposals/{p.id}/accept", {"version": version}, htmx=True),
        400,
        409,
    )
    keep("accepted page", session.get(f"/portal/proposals/{p.id}"), 200)
    return pages


def test_no_internal_text_reaches_either_client_and_every_approved_text_does(app, world, portal_as):
    for me, other in (world, world[::-1]):
        pages = crawl(app, portal_as(me.contact), me)
        for label, body in pages.items():
            assert "CANARY" not in body, (label, body[body.find("CANARY") - 200 : body.find("CANARY") + 80])
            assert f"SAFE-{other.tag}" not in body, label
        everything = "\n".join(pages.values())
        missing = [text for text in expected_safe(me.tag) if text not in everything]
        assert not missing, f"client-safe texts not shown to {me.tag}: {missing}"


def test_unsent_versions_unapproved_notes_and_staff_tasks_never_appear(world, portal_as):
    a, _ = world
    me = portal_as(a.contact)
    draft = a.extra["draft_proposal"]
    assert me.get(f"/portal/proposals/{draft.id}").status_code == 404
    listing = me.get("/portal/proposals").get_data(as_text=True)
    assert f'/portal/proposals/{draft.id}"' not in listing
    for task in a.staff_tasks:
        assert (
            me.post(f"/portal/checklist/{task.id}", {"version": task.version}, htmx=True).status_code == 404
        )
    report = me.get(f"/portal/reports/{a.report.id}").get_data(as_text=True)
    assert "SAFE-A-report-note" in report and "SAFE-A-report-summary" in report
    assert "CANARY-report_notes" not in report and "CANARY-reports-internal_body" not in report
    edited = me.get(f"/portal/reports/{a.extra['edited_report'].id}").get_data(as_text=True)
    assert "SAFE-A-edited-report" in edited and "client_summary_edited_after_approval" not in edited
    checklist = me.get("/portal/checklist").get_data(as_text=True)
    _, _, team_done, team_total = progress_of(a.project)
    assert "CANARY-tasks" not in checklist
    assert (
        f"working on {team_total - team_done} onboarding task" in checklist
        and f"({team_done} done)" in checklist
    )
