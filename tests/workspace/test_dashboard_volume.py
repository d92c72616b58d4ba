"""The dashboard at volume: period figures kept for a few minutes, never stale after the user's own
change, and the cheap overdue-report count agreeing with the cadence's rule."""

from __future__ import annotations

from datetime import timedelta


from zarts.domain.reads import metrics
from zarts.extensions import db
from zarts.models import Event, Report, Task, today

TASK_KIND = "report"


def created(lead, owner):
    """The lead's "created" event (the builders write none), as the domain's create would."""
    db.session.add(
        Event(lead_id=lead.id, kind="created", owner_id=owner.id, actor_id=owner.id, stage="new", payload={})
    )
    db.session.flush()


def conversion_row(html: str, label: str) -> str:
    start = html.index(f'<td data-label="Stage">{label} → ')
    return html[start : html.index("</tr>", start)]


def test_period_figures_are_kept_but_a_users_own_move_shows_at_once(
    client, sign_in, hx_post, make, owner, at_volume, count_queries
):
    lead = make.lead(owner=owner)
    created(lead, owner)
    sign_in(owner)
    first = client.get("/workspace/dashboard").get_data(as_text=True)
    assert 'id="period-as-of"' in first  # labelled as kept figures
    assert '<td data-label="Moved on">0</td>' in conversion_row(first, "New")

    with count_queries() as kept:
        again = client.get("/workspace/dashboard").get_data(as_text=True)
    with count_queries() as fresh:
        metrics._PERIODS.clear()
        client.get("/workspace/dashboard")
    assert kept.count < fresh.count  # the second view did not compute the period figures again
    assert conversion_row(again, "New") == conversion_row(first, "New")

    resp = hx_post(f"/workspace/leads/{lead.id}/move", {"stage": "qualified", "version": lead.version})
    assert resp.status_code == 200
    after = client.get("/workspace/dashboard").get_data(as_text=True)
    assert '<td data-label="Moved on">1</td>' in conversion_row(after, "New")


def test_another_users_move_waits_for_the_refresh_but_their_own_does_not(
    client, sign_in, hx_post, make, owner, at_volume
):
    other = make.user("growth_ops")
    lead = make.lead(owner=other)
    created(lead, other)
    sign_in(owner)
    assert '<td data-label="Moved on">0</td>' in conversion_row(
        client.get("/workspace/dashboard").get_data(as_text=True), "New"
    )
    # Moved by someone else (the domain, as their request would): the kept figures stand, labelled.
    from zarts.domain import pipeline

    pipeline.move(db.session, db.session.get(type(lead), lead.id), "qualified", other, lead.version)
    db.session.commit()
    html = client.get("/workspace/dashboard").get_data(as_text=True)
    assert '<td data-label="Moved on">0</td>' in conversion_row(html, "New") and 'id="period-as-of"' in html
    metrics._PERIODS.clear()  # the refresh interval passes
    html = client.get("/workspace/dashboard").get_data(as_text=True)
    assert '<td data-label="Moved on">1</td>' in conversion_row(html, "New")


def open_count(html: str) -> str:
    start = html.index('<div class="stat"><strong>') + len('<div class="stat"><strong>')
    return html[start : html.index("</strong>", start)]


def pipeline_value(html: str) -> str:
    start = html.index('id="stat-pipeline"')
    return html[start : html.index("</div>", start)]


def test_the_snapshot_read_once_per_process_follows_each_refresh_and_rate(
    client, sign_in, make, owner, at_volume
):
    """The "now" figures come from the snapshot; a process keeps them as decoded and summed
    (metrics._FIGURES, _PIPELINES) only while the snapshot, the rates and the owners are the same."""
    from zarts.domain import money

    admin = make.user("admin")
    make.lead(owner=owner, value_cents=1_000_000, currency="USD")
    metrics.refresh_snapshot(db.session)
    sign_in(owner)
    html = client.get("/workspace/dashboard").get_data(as_text=True)
    shown, value = open_count(html), pipeline_value(html)
    assert "USD 10,000" in value

    make.lead(owner=owner, value_cents=500_000, currency="USD")
    db.session.commit()
    again = client.get("/workspace/dashboard").get_data(as_text=True)
    assert open_count(again) == shown  # the snapshot is "as of" its time, as labelled

    metrics.refresh_snapshot(db.session)  # the scheduler's sweep
    db.session.commit()
    after = client.get("/workspace/dashboard").get_data(as_text=True)
    assert int(open_count(after)) == int(shown) + 1
    assert "USD 15,000" in pipeline_value(after)

    money.set_rate(db.session, admin, "USD", "0.5")  # an admin sets a rate: the total converts at once
    db.session.commit()
    converted = pipeline_value(client.get("/workspace/dashboard").get_data(as_text=True))
    assert "EUR 7,500" in converted and converted != pipeline_value(after)


def test_overdue_count_agrees_with_the_cadence_rule(app, make, owner):
    from zarts.domain.cadence import report_overdue

    client_row = make.client()
    day = today()
    specs = [
        ("draft", day - timedelta(days=40), day - timedelta(days=10), None),  # period ended: overdue
        ("published", day - timedelta(days=40), day - timedelta(days=10), None),  # published: not
        ("draft", day - timedelta(days=5), day + timedelta(days=20), day - timedelta(days=1)),  # late task
        ("approved", day - timedelta(days=5), day + timedelta(days=20), day + timedelta(days=3)),  # on time
    ]
    for k, (status, start, end, task_due) in enumerate(specs):
        report = Report(
            client_id=client_row.id,
            kind="client_report",
            title=f"Report {k}",
            status=status,
            period_start=start,
            period_end=end,
            key=f"test-report-{k}",
        )
        db.session.add(report)
        if task_due is not None:
            db.session.add(
                Task(
                    kind=TASK_KIND,
                    title="Approve and publish",
                    owner_id=owner.id,
                    due=task_due,
                    key=f"test-report-{k}:prepare",
                )
            )
    db.session.flush()
    rule = db.session.execute(db.select(db.func.count(Report.id)).where(report_overdue(day))).scalar()
    assert metrics.overdue_count(db.session) == rule == 2
