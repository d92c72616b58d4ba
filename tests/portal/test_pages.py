"""Home and reports: what the client sees, read with a fixed number of queries."""

from __future__ import annotations

from tests.portal.conftest import progress_of
from zarts.extensions import db


def test_home_shows_projects_with_status_kickoff_progress_next_steps_and_blockers(world, portal_as):
    a, _ = world
    a.checklist[0].done_at = a.checklist[0].created_at
    db.session.commit()
    _, total, _, _ = progress_of(a.project)
    html = portal_as(a.contact).get("/portal/").get_data(as_text=True)
    for text in (
        "SAFE-A-project",
        "Onboarding",
        a.project.kickoff_date.strftime("%d %b %Y"),
        f"1 of {total}",
        "SAFE-A-next-steps",
        "SAFE-A-launch-blockers",
        "SAFE-A-proposal-title",
    ):
        assert text in html, text


def test_reports_list_only_published_client_reports(world, portal_as):
    a, _ = world
    html = portal_as(a.contact).get("/portal/reports").get_data(as_text=True)
    assert f"/portal/reports/{a.report.id}" in html and "SAFE-A-report" in html
    assert html.count('class="report-line"') == 2  # the report and the one edited after approval


def test_page_queries_do_not_grow_with_the_data(world, portal_as, builder, count_queries):
    a, _ = world
    me = portal_as(a.contact)
    pages = (
        "/portal/",
        "/portal/proposals",
        "/portal/checklist",
        f"/portal/projects/{a.project.id}",
        "/portal/reports",
        "/portal/messages",
        f"/portal/reports/{a.report.id}",
    )
    me.get("/portal/")  # warm-up (first request work)

    def counts():
        out = {}
        for page in pages:
            with count_queries() as q:
                assert me.get(page).status_code == 200
            out[page] = q.count
        return out

    before = counts()
    for n in range(3):
        builder.checklist_item(a.project, f"SAFE-A-more-{n}")
        builder.staff_task(a.project, f"staff {n}")
    lead = builder.lead(a.client, a.owner)
    builder.sent_proposal(lead, title="Another plan")
    builder.won_project(builder.lead(a.client, a.owner), "A")
    db.session.commit()
    assert counts() == before
