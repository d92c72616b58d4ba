from datetime import timedelta

import pytest
import sqlalchemy as sa

from zarts.domain import Forbidden, GateRefused, Invalid, proposals
from zarts.extensions import db
from zarts.models import Approval, Message, Proposal, Task, User, today


def test_no_proposal_before_a_completed_audit(make, journey):
    lead = journey.to(make.lead(), "audit")
    with pytest.raises(GateRefused) as exc:
        journey.draft(lead)
    assert [m.code for m in exc.value.missing] == ["audit"]
    assert db.session.query(Proposal).count() == 0


def test_a_proposal_cannot_be_sent_until_every_sensitive_part_is_approved(make, journey):
    lead = journey.to(make.lead(), "proposal")
    p = journey.draft(lead)
    with pytest.raises(GateRefused) as exc:
        journey.send(p)
    assert [m.code for m in exc.value.missing] == ["approval_pricing", "approval_claim",
                                                   "approval_contract_language"]
    assert p.status == "draft" and lead.stage == "proposal"


def test_sending_freezes_a_snapshot_and_records_everything_the_guide_asks(make, journey):
    lead = journey.to(make.lead(), "proposal")
    p = journey.draft(lead, internal_notes="INTERNAL margin 40%", pricing_assumptions="INTERNAL 20h/month")
    journey.approve_all(p)
    journey.send(p)
    assert p.status == "sent" and p.sent_at and p.follow_up_date and p.decision_deadline
    assert p.snapshot["price_cents"] == 450000 and len(p.snapshot["items"]) == 6
    assert "INTERNAL" not in repr(p.snapshot)
    msg = db.session.get(Message, p.sent_message_id)
    assert msg.client_visible and msg.to_email == lead.contact_email
    follow_up = db.session.scalars(sa.select(Task).where(Task.key == f"proposal:{p.id}:follow_up")).one()
    assert follow_up.due == p.follow_up_date and follow_up.owner_id == lead.owner_id
    assert lead.stage == "contract" and lead.decision_deadline == p.decision_deadline
    assert p.client_id == lead.client_id is not None
    contact = db.session.scalars(sa.select(User).where(User.client_id == lead.client_id)).one()
    assert contact.email == lead.contact_email and contact.password_hash is None  # invited, not yet signed in


def test_a_change_after_sending_makes_a_new_version_that_needs_approval_again(make, journey):
    lead = journey.to(make.lead(), "contract")
    sent = proposals.live_proposal if False else None  # noqa: F841
    v1 = db.session.scalars(sa.select(Proposal).where(Proposal.lead_id == lead.id)).one()
    v2 = proposals.revise_proposal(db.session, v1, lead.owner, v1.version, price_cents=500000)
    assert v2.id != v1.id and v2.number == 2 and v2.status == "draft" and v1.status == "sent"
    assert v1.snapshot["price_cents"] == 450000  # the sent version is untouched
    assert [k for k, _ in proposals.unapproved_parts(db.session, v2)] == ["pricing", "claim", "contract_language"]


def test_editing_a_draft_withdraws_the_approval_of_the_changed_part_only(make, journey):
    lead = journey.to(make.lead(), "proposal")
    p = journey.draft(lead)
    journey.approve_all(p)
    proposals.revise_proposal(db.session, p, lead.owner, p.version, timeline="10 weeks",
                              expected_improvement="CPL down 25%")
    assert [k for k, _ in proposals.unapproved_parts(db.session, p)] == ["claim"]
    states = dict(db.session.execute(sa.select(Approval.kind, Approval.state)
                                     .where(Approval.proposal_id == p.id, Approval.kind == "claim")).all())
    assert states == {"claim": "superseded"}


def test_sending_a_new_version_supersedes_the_old_one(make, journey):
    lead = journey.to(make.lead(), "contract")
    v1 = db.session.scalars(sa.select(Proposal).where(Proposal.lead_id == lead.id)).one()
    v2 = proposals.revise_proposal(db.session, v1, lead.owner, v1.version, price_cents=400000)
    journey.approve_all(v2)
    journey.send(v2)
    assert (v1.status, v2.status) == ("superseded", "sent")


def test_the_viewed_date_is_recorded_once(make, journey):
    lead = journey.to(make.lead(), "contract")
    p = db.session.scalars(sa.select(Proposal).where(Proposal.lead_id == lead.id)).one()
    contact = journey.contact(lead)
    assert proposals.record_view(db.session, p, contact) is True
    first = p.viewed_at
    assert proposals.record_view(db.session, p, contact) is False and p.viewed_at == first


def test_accepting_twice_expired_or_superseded_is_refused(make, journey):
    lead = journey.to(make.lead(), "contract")
    p = db.session.scalars(sa.select(Proposal).where(Proposal.lead_id == lead.id)).one()
    contact = journey.contact(lead)
    p.decision_deadline = today() - timedelta(days=1)
    with pytest.raises(Invalid, match="deadline"):
        proposals.accept_proposal(db.session, p, contact, p.version)
    p.decision_deadline = today() + timedelta(days=3)
    proposals.accept_proposal(db.session, p, contact, p.version)
    with pytest.raises(Invalid, match="already accepted"):
        proposals.accept_proposal(db.session, p, contact, p.version)


def test_another_clients_contact_cannot_accept(make, journey):
    lead = journey.to(make.lead(), "contract")
    p = db.session.scalars(sa.select(Proposal).where(Proposal.lead_id == lead.id)).one()
    with pytest.raises(Forbidden):
        proposals.accept_proposal(db.session, p, make.user("client"), p.version)
    assert p.status == "sent"


def test_only_offered_add_ons_can_be_chosen(make, journey):
    lead = journey.to(make.lead(), "contract")
    p = db.session.scalars(sa.select(Proposal).where(Proposal.lead_id == lead.id)).one()
    included = next(i["id"] for i in p.snapshot["items"] if i["kind"] == "included")
    with pytest.raises(Invalid):
        proposals.accept_proposal(db.session, p, journey.contact(lead), p.version, add_on_ids=[included])


def test_a_sent_proposal_cannot_be_edited_in_place(make, journey):
    lead = journey.to(make.lead(), "contract")
    v1 = db.session.scalars(sa.select(Proposal).where(Proposal.lead_id == lead.id)).one()
    proposals.revise_proposal(db.session, v1, lead.owner, v1.version, title="Changed")
    assert v1.title == "Growth plan" and v1.snapshot["title"] == "Growth plan"
    with pytest.raises(Invalid):
        proposals.revise_proposal(db.session, v1, lead.owner, v1.version, title="Again")
