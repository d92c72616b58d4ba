"""Domain fixes found while building the portal (zarts/domain/proposals.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from zarts.domain import Invalid, pipeline, proposals
from zarts.extensions import db
from zarts.models import Contract, Proposal, today


def _sent(make, journey):
    lead = journey.to(make.lead(), "contract")
    return lead, db.session.scalars(sa.select(Proposal).where(Proposal.lead_id == lead.id)).one()


def test_the_proposal_of_a_lost_or_reactivated_deal_cannot_be_accepted(make, journey):
    """Before: a lost deal's still-'sent' proposal could be accepted, opening a contract on a lost lead."""
    lead, p = _sent(make, journey)
    contact = journey.contact(lead)
    pipeline.mark_lost(
        db.session,
        lead,
        lead.owner,
        lead.version,
        lost_reason="timing",
        reactivation_date=today() + timedelta(days=30),
    )
    with pytest.raises(Invalid, match="no longer open"):
        proposals.accept_proposal(db.session, p, contact, p.version)
    pipeline.reactivate(db.session, lead, lead.owner, lead.version, confirmed=True, next_action_due=today())
    with pytest.raises(Invalid, match="no longer open"):
        proposals.decline_proposal(db.session, p, contact, p.version, "changed our mind")
    assert p.status == "sent"
    assert db.session.scalar(sa.select(sa.func.count(Contract.id)).where(Contract.lead_id == lead.id)) == 0


def test_add_on_ids_that_are_not_numbers_are_refused_not_a_crash(make, journey):
    """Before: int('x') raised ValueError (a 500) instead of a refusal the client can read."""
    lead, p = _sent(make, journey)
    with pytest.raises(Invalid, match="add-ons"):
        proposals.accept_proposal(db.session, p, journey.contact(lead), p.version, add_on_ids=["x"])
    assert p.status == "sent"
