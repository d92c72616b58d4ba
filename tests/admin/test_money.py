"""Exchange rates in the admin: only an admin writes them, through zarts.domain.money; a bad rate is
explained on the form and nothing is saved."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from zarts.extensions import db
from zarts.models import CurrencyRate


def rates():
    db.session.expire_all()
    return {r.currency: r.rate for r in db.session.scalars(sa.select(CurrencyRate))}


def test_an_admin_sets_a_rate_and_a_bad_one_is_explained(client, auth, make):
    admin = make.user("admin")
    auth.login_as(admin)
    resp = auth.post("/admin/currency_rates/new/", {"currency": "usd", "rate": "0.92"})
    assert resp.status_code == 302 and rates() == {"USD": Decimal("0.92")}
    row = db.session.scalars(sa.select(CurrencyRate)).one()
    assert row.updated_by_id == admin.id

    for currency, rate, words in (
        ("GBP", "0", "greater than zero"),
        ("EUR", "1", "base currency"),
        ("GB", "1.2", "three-letter code"),
    ):
        resp = auth.post("/admin/currency_rates/new/", {"currency": currency, "rate": rate})
        assert resp.status_code == 200 and words in resp.get_data(as_text=True)
    assert rates() == {"USD": Decimal("0.92")}

    resp = auth.post(
        f"/admin/currency_rates/edit/?id={row.id}",
        {"currency": "CHF", "rate": "0.95", "version": str(row.version)},
    )
    assert resp.status_code == 302 and rates() == {"USD": Decimal("0.95")}  # the code is set once


def test_other_staff_cannot_write_rates(client, auth, make):
    auth.login_as(make.user("growth_ops"))
    resp = auth.post("/admin/currency_rates/new/", {"currency": "USD", "rate": "0.9"})
    assert resp.status_code in (302, 403) and rates() == {}
