"""The dashboard: aggregate figures, server-side SVG charts, a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

from zarts.domain import pipeline
from zarts.extensions import db
from zarts.models import Task, today
from zarts.domain.reads import metrics


def lose(lead, owner, reason, days=30):
    pipeline.mark_lost(
        db.session,
        lead,
        owner,
        lead.version,
        lost_reason=reason,
        reactivation_date=today() + timedelta(days=days),
    )


def test_figures_come_from_aggregate_sql(app, make, owner, journey):
    journey.to(make.lead(owner=owner, source="referral"), "contract")  # 4500 EUR at 60%
    make.lead(owner=owner, source="website")
    lose(make.lead(owner=owner, source="website"), owner, "price", days=5)
    lose(make.lead(owner=owner, source="referral"), owner, "timing")
    journey.to(make.lead(owner=owner, source="referral"), "won")
    db.session.add(Task(kind="follow_up", title="Late", owner_id=owner.id, due=today() - timedelta(days=1)))
    db.session.commit()

    figures = metrics.dashboard(db.session)
    assert figures["open_total"] == 2
    assert figures["forecast_total"] == "EUR 2,700"
    assert figures["won"] == 1 and figures["lost"] == 2
    assert sorted((b.label, b.value) for b in figures["lost_bars"]) == [("Price", 1), ("Timing", 1)]
    referral = next(s for s in figures["sources"] if s["source"] == "referral")
    assert (referral["total"], referral["won"], referral["lost"], referral["win_rate"]) == (3, 1, 1, 50)
    assert figures["awaiting_view"] == 1 and figures["awaiting_decision"] == 0
    assert figures["overdue_count"] == 1 and figures["reactivation_count"] == 1


def test_dashboard_page_draws_svg_bars_without_script_or_style(client, sign_in, make, owner):
    make.lead(owner=owner)
    sign_in(owner)
    resp = client.get("/workspace/dashboard")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and '<svg class="chart"' in html and '<rect class="bar' in html
    assert "style=" not in html and "<script>" not in html


def test_dashboard_query_count_is_fixed(client, sign_in, fresh, make, owner, journey, count_queries):
    user = sign_in(owner)

    def measure():
        fresh()
        with count_queries() as q:
            assert client.get("/workspace/dashboard").status_code == 200
        return q.count

    make.lead(owner=user)
    small = measure()
    owner_again = db.session.get(type(user), user.id)
    for i in range(25):
        lead = make.lead(owner=owner_again, source=("referral", "website", "event")[i % 3])
        if i % 4 == 0:
            lose(lead, owner_again, "price")
    journey.to(make.lead(owner=owner_again), "contract")
    assert measure() == small
