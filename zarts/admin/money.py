"""Exchange rates (admin only): what 1 unit of a currency is worth in BASE_CURRENCY, for the totals
the dashboard shows converted. Every write goes through zarts.domain.money (admin check, ISO code,
rate > 0, not the base currency, optimistic lock, who set it); the currency of a rate is set once."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import InputRequired

from ..domain import money
from ..extensions import db
from ..models import CurrencyRate
from .actions import actor
from .base import SecureModelView
from .forms import ShownField
from .locking import seen_version


class CurrencyRateView(SecureModelView):
    column_list = ("id", "currency", "rate", "updated_by", "updated_at")
    column_select_related_list = (CurrencyRate.updated_by,)
    column_sortable_list = ("id", "currency")
    column_labels = {"rate": "Worth in the base currency", "updated_by": "Set by", "updated_at": "Set at"}
    form_columns = ("currency", "rate")
    form_overrides = {"rate": StringField}  # read as typed; zarts.domain.money says what is wrong
    form_args = {
        "currency": {"validators": [InputRequired()], "description": "Three letters, e.g. USD."},
        "rate": {
            "validators": [InputRequired()],
            "description": "What 1 unit of this currency is worth in the base currency.",
        },
    }

    def get_edit_form(self):
        return type("RateEditForm", (super().get_edit_form(),), {"currency": ShownField("Currency")})

    def create_model(self, form):
        return self.domain_write(
            form,
            lambda: money.set_rate(db.session, actor(), form.currency.data, form.rate.data, None),
            is_created=True,
        )

    def update_model(self, form, model):
        version = seen_version(form)
        if version is None:
            return False
        return self.domain_write(
            form,
            lambda: money.set_rate(db.session, actor(), model.currency, form.rate.data, version),
            model=model,
        )

    def delete_model(self, model):
        return bool(
            self.domain_write(None, lambda: money.delete_rate(db.session, actor(), model), model=model)
        )
