"""Domain bugs found while building the workspace, fixed in place (see the issue report)."""

from __future__ import annotations

import pytest

from zarts.domain import Invalid, pipeline, unit
from zarts.extensions import db
from zarts.models import Lead


@pytest.mark.parametrize("field", ["source", "service", "service_fit", "urgency"])
def test_update_lead_refuses_an_unknown_choice_as_a_readable_error(make, owner, field):
    """It used to reach the flush and fail there (LookupError → 500) instead of an Invalid."""
    lead = make.lead(owner=owner)
    db.session.commit()
    with pytest.raises(Invalid) as refused, unit(db.session):
        pipeline.update_lead(db.session, lead, owner, lead.version, **{field: "carrier pigeon"})
    assert refused.value.field == field and "from the list" in refused.value.message
    assert db.session.get(Lead, lead.id).version == lead.version
