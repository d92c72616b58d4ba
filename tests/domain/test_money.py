"""Money that adds up: formatting, totals per currency, conversion only through the admin's rates
(labelled), and the rates' own writes (admin only, checked)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from zarts.domain import Forbidden, Invalid, money, pipeline
from zarts.extensions import db
from zarts.models import CurrencyRate


def test_format_money_shows_cents_only_when_there_are_some():
    assert money.format_money(1_200_000, "EUR") == "EUR 12,000"
    assert money.format_money(123_450, "usd") == "USD 1,234.50"
    assert money.format_money(5, "GBP") == "GBP 0.05"
    assert money.format_money(None, "EUR") == "—"


def test_totals_are_kept_per_currency():
    totals = money.totals([("USD", 1_000_000), ("GBP", 1_000_000), ("USD", 50), ("EUR", None)])
    assert totals == {"GBP": 1_000_000, "USD": 1_000_050}
    assert money.format_totals(totals) == "GBP 10,000 · USD 10,000.50"


def test_usd_and_gbp_without_rates_never_become_one_eur_figure(app):
    weighted = money.totals([("USD", 400_000), ("GBP", 400_000)])  # 10,000 each at 40 %
    summary = money.summarise(weighted, money.load_rates(db.session))
    assert summary.converted is None
    assert summary.lines == ["GBP 4,000", "USD 4,000"]
    assert "EUR" not in summary.text


def test_with_rates_a_labelled_converted_figure_and_the_rest_apart():
    rates = money.Rates(
        "EUR",
        {"USD": Decimal("0.9"), "GBP": Decimal("1.2")},
        {"USD": datetime(2026, 12, 3, 9), "GBP": datetime(2026, 12, 3, 10)},
    )
    converted = money.convert({"USD": 1_000_000, "GBP": 1_000_000, "EUR": 143_000, "CHF": 500_000}, rates)
    assert converted.cents == 900_000 + 1_200_000 + 143_000
    assert converted.label == "≈ EUR 22,430 converted at rates of 3 Dec 2026"
    assert converted.unconverted == {"CHF": 500_000}  # no rate: listed apart, never added
    assert converted.unconverted_text == "CHF 5,000"
    # One currency, or only currencies without a rate: nothing to convert.
    assert money.convert({"EUR": 100}, rates) is None
    assert money.convert({"CHF": 100}, rates) is None


def test_parse_amount_reads_what_people_type():
    assert money.parse_amount("12,000") == 1_200_000
    assert money.parse_amount("1234.5") == 123_450
    assert money.parse_amount("  ") is None
    for bad in ("-5", "abc", "1.234"):
        with pytest.raises(Invalid):
            money.parse_amount(bad)


def test_only_an_admin_sets_a_rate_and_bad_ones_are_refused(app, make):
    admin, seller = make.user("admin"), make.user("growth_ops")
    with pytest.raises(Forbidden):
        money.set_rate(db.session, seller, "USD", "0.9")
    for code, rate, field in (
        ("US", "0.9", "currency"),
        ("usd1", "0.9", "currency"),
        ("EUR", "1", "currency"),
        ("USD", "0", "rate"),
        ("USD", "-1", "rate"),
        ("USD", "abc", "rate"),
    ):
        with pytest.raises(Invalid) as refused:
            money.set_rate(db.session, admin, code, rate)
        assert refused.value.field == field
    row = money.set_rate(db.session, admin, "usd", "0.92")
    assert (row.currency, row.rate, row.updated_by_id) == ("USD", Decimal("0.92"), admin.id)
    seen = row.version
    money.set_rate(db.session, admin, "USD", "0.95", seen)
    with pytest.raises(Exception) as stale:
        money.set_rate(db.session, admin, "USD", "0.97", seen)
    assert getattr(stale.value, "status", None) == 409
    money.delete_rate(db.session, admin, row, row.version)
    assert db.session.query(CurrencyRate).count() == 0


def test_lead_value_is_checked_and_defaults_to_the_base_currency(app, make):
    owner = make.user("growth_ops")
    lead = make.lead(owner=owner)
    pipeline.update_lead(db.session, lead, owner, lead.version, value_cents=1_500_000)
    assert (lead.value_cents, lead.currency) == (1_500_000, "EUR")
    pipeline.update_lead(db.session, lead, owner, lead.version, value_cents=2_000_000, currency="usd")
    assert (lead.value_cents, lead.currency) == (2_000_000, "USD")
    pipeline.update_lead(db.session, lead, owner, lead.version, value_cents=2_500_000)
    assert lead.currency == "USD"  # a new amount keeps the lead's currency
    for fields, field in (
        ({"value_cents": -1}, "value_cents"),
        ({"value_cents": 10, "currency": "EURO"}, "currency"),
    ):
        with pytest.raises(Invalid) as refused:
            pipeline.update_lead(db.session, lead, owner, lead.version, **fields)
        assert refused.value.field == field


def test_the_proposal_price_becomes_the_lead_value_and_acceptance_adds_the_add_ons(app, make, journey):
    owner = make.user("growth_ops")
    lead = journey.to(make.lead(owner=owner), "proposal")
    proposal = journey.draft(lead, currency="GBP")
    assert (lead.value_cents, lead.currency) == (450_000, "GBP")
    journey.approve_all(proposal)
    journey.send(proposal)
    journey.to(lead, "accepted")  # with one add-on of the scope
    add_on = next(i for i in proposal.snapshot["items"] if i["kind"] == "add_on")
    assert lead.value_cents == 450_000 + add_on["price_cents"] and lead.currency == "GBP"
