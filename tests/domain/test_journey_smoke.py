import sqlalchemy as sa

from zarts.extensions import db
from zarts.models import Event, Outbox, Proposal


def test_a_lead_travels_the_whole_path_to_won(app, make, journey):
    lead = make.lead()
    journey.to(lead, "won")
    assert lead.stage == "won" and lead.won_at is not None
    kinds = db.session.scalars(sa.select(Event.kind).where(Event.lead_id == lead.id).order_by(Event.id)).all()
    for expected in (
        "qualified",
        "discovery_logged",
        "audit_completed",
        "proposal_drafted",
        "approval_requested",
        "approval_decided",
        "proposal_sent",
        "proposal_accepted",
        "contract_updated",
        "won",
    ):
        assert expected in kinds
    assert db.session.scalars(sa.select(Proposal.status).where(Proposal.lead_id == lead.id)).all() == [
        "accepted"
    ]
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Outbox).where(Outbox.key == f"handoff:{lead.id}")
        )
        == 1
    )
