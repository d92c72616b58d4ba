"""The dashboard's period and owner filters, stage conversion, cycle time, win rate, won revenue per
currency, and money that is never summed across currencies."""

from __future__ import annotations

from datetime import date, timedelta

from zarts.domain import money, pipeline
from zarts.extensions import db
from zarts.models import Event, today, utcnow
from zarts.domain.reads import metrics
from zarts.domain.reads.metrics import Filters


def custom(first: date, last: date, owner: str = "", me: int | None = None) -> Filters:
    return Filters.parse(
        {"period": "custom", "from": first.isoformat(), "to": last.isoformat(), "owner": owner}, me
    )


def trail(lead, owner, *steps):
    """Stage events written as set-up (the domain stamps now; these happened days ago)."""
    previous = None
    for days_ago, stage in steps:
        kind = "created" if previous is None else "stage_moved"
        payload = {"from_stage": previous, "to_stage": stage} if previous else {}
        db.session.add(
            Event(
                lead_id=lead.id,
                kind=kind,
                owner_id=owner.id,
                actor_id=owner.id,
                stage=stage,
                payload=payload,
                created_at=utcnow() - timedelta(days=days_ago),
            )
        )
        previous = stage
    db.session.flush()


def test_named_periods():
    on = date(2026, 12, 4)
    assert metrics.period_bounds("this_month", on) == (date(2026, 12, 1), date(2027, 1, 1))
    assert metrics.period_bounds("last_month", on) == (date(2026, 11, 1), date(2026, 12, 1))
    assert metrics.period_bounds("this_quarter", on) == (date(2026, 10, 1), date(2027, 1, 1))
    assert metrics.period_bounds("last_quarter", on) == (date(2026, 7, 1), date(2026, 10, 1))
    assert metrics.period_bounds("this_year", on) == (date(2026, 1, 1), date(2027, 1, 1))
    assert metrics.period_bounds("last_12_months", on) == (date(2026, 1, 1), date(2027, 1, 1))
    assert metrics.period_bounds("last_quarter", date(2026, 2, 10)) == (date(2025, 10, 1), date(2026, 1, 1))
    bad = Filters.parse({"period": "custom", "from": "2026-12-05", "to": "2026-12-01"}, None)
    assert bad.period == "this_month" and bad.error


def test_conversion_and_cycle_time_count_the_period_only(app, make):
    owner, other = make.user("growth_ops"), make.user("growth_ops")
    a, b, c, old = (make.lead(owner=owner) for _ in range(4))
    d = make.lead(owner=other)
    db.session.execute(db.delete(Event))  # the builders' own "created" events: replaced by the trails below
    trail(a, owner, (20, "new"), (16, "qualified"), (10, "discovery"))  # new 4 days, qualified 6 days
    trail(b, owner, (18, "new"), (16, "qualified"))  # new 2 days, still qualified
    trail(c, owner, (17, "new"))  # still new
    trail(old, owner, (90, "new"), (80, "qualified"))  # before the period
    trail(d, other, (19, "new"), (9, "qualified"))  # new 10 days, someone else's
    period = custom(today() - timedelta(days=30), today())

    conversion = {row["stage"]: row for row in metrics.dashboard(db.session, period)["conversion"]}
    assert (conversion["new"]["entered"], conversion["new"]["moved_on"], conversion["new"]["rate"]) == (
        4,
        3,
        75,
    )
    assert (conversion["qualified"]["entered"], conversion["qualified"]["moved_on"]) == (3, 1)
    cycle = {row["stage"]: row for row in metrics.dashboard(db.session, period)["cycle"]}
    assert cycle["new"]["stays"] == 3 and cycle["new"]["days"] == round((4 + 2 + 10) / 3, 1)
    assert (cycle["qualified"]["stays"], cycle["qualified"]["days"]) == (1, 6.0)

    mine = metrics.dashboard(db.session, custom(today() - timedelta(days=30), today(), "me", owner.id))
    new = next(r for r in mine["conversion"] if r["stage"] == "new")
    assert (new["entered"], new["moved_on"]) == (3, 2)
    assert next(r for r in mine["cycle"] if r["stage"] == "new")["days"] == 3.0

    nothing = metrics.dashboard(db.session, custom(today() - timedelta(days=5), today()))
    assert all(r["entered"] == 0 and r["rate"] is None for r in nothing["conversion"])


def test_win_rate_leaves_duplicates_out_and_revenue_stays_per_currency(app, make, journey):
    owner = make.user("growth_ops")
    values = {}
    for currency in ("GBP", "USD"):
        lead = journey.to(make.lead(owner=owner), "proposal")
        proposal = journey.draft(lead, currency=currency)
        journey.approve_all(proposal)
        journey.send(proposal)
        journey.to(lead, "won")  # accepted with one add-on
        values[currency] = lead.value_cents
    assert values["GBP"] > 450_000
    for reason in ("price", "duplicate"):
        lead = make.lead(owner=owner)
        pipeline.mark_lost(
            db.session,
            lead,
            owner,
            lead.version,
            lost_reason=reason,
            reactivation_date=today() + timedelta(days=30),
        )
    db.session.flush()

    figures = metrics.dashboard(db.session, Filters.parse({"period": "this_month"}, owner.id))
    assert (figures["won"], figures["lost"], figures["lost_counted"]) == (2, 2, 1)
    assert figures["win_rate"] == 67  # 2 won of 3 closed: the merged duplicate is not a lost deal
    assert figures["won_revenue"].per_currency == values
    assert figures["won_revenue"].converted is None  # no rates: no single figure
    labels = {bar.label for bar in figures["lost_bars"]}
    assert labels == {"Price", "Duplicate (merged into another lead)"}

    admin = make.user("admin")
    money.set_rate(db.session, admin, "USD", "0.9")
    money.set_rate(db.session, admin, "GBP", "1.2")
    converted = metrics.dashboard(db.session, Filters.parse({}, owner.id))["won_revenue"].converted
    assert converted.cents == round(values["USD"] * 0.9 + values["GBP"] * 1.2)
    assert converted.label.startswith(
        f"≈ {money.format_money(converted.cents, 'EUR')} converted at rates of "
    )


def test_usd_and_gbp_at_40_percent_is_never_one_eur_figure(client, sign_in, make):
    owner = make.user("growth_ops")
    for currency in ("USD", "GBP"):
        lead = make.lead(owner=owner)
        pipeline.update_lead(
            db.session, lead, owner, lead.version, value_cents=1_000_000, currency=currency, probability=40
        )
    sign_in(owner)
    html = client.get("/workspace/dashboard").get_data(as_text=True)
    forecast = html.split('id="stat-forecast"')[1].split("</div>")[0]
    assert "USD 4,000" in forecast and "GBP 4,000" in forecast
    assert "EUR" not in forecast and "converted" not in forecast

    money.set_rate(db.session, make.user("admin"), "USD", "0.9")
    db.session.commit()
    html = client.get("/workspace/dashboard").get_data(as_text=True)
    forecast = html.split('id="stat-forecast"')[1].split("</div>")[0]
    assert "≈ EUR 3,600 converted at rates of" in forecast  # only the USD that has a rate
    assert "not converted (no rate): GBP 4,000" in forecast


def test_filters_stay_in_the_url_and_bad_ones_are_explained(client, sign_in, make):
    owner = make.user("growth_ops", name="Olga Owner")
    sign_in(owner)
    resp = client.get(f"/workspace/dashboard?period=last_quarter&owner={owner.id}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert (
        '<option value="last_quarter" selected>' in html and f'<option value="{owner.id}" selected>' in html
    )
    assert "Last quarter (" in html and "Olga Owner" in html
    for query in ("period=someday", "period=custom&from=2026-12-09&to=2026-01-01", "owner=abc"):
        resp = client.get(f"/workspace/dashboard?{query}")
        assert resp.status_code == 200 and 'role="alert"' in resp.get_data(as_text=True)
    fragment = client.get("/workspace/dashboard?period=this_year", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="dashboard">') and "<html" not in body


def test_clients_and_strangers_are_refused(client, auth, make):
    assert client.get("/workspace/dashboard").status_code in (302, 401)
    contact = make.user("client", client=make.client())
    db.session.commit()
    auth.login_as(contact)
    assert client.get("/workspace/dashboard?period=this_year").status_code in (302, 403)
