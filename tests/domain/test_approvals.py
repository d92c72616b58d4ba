import pytest
import sqlalchemy as sa

from zarts.domain import Forbidden, Invalid, approvals, proposals
from zarts.extensions import db
from zarts.models import Event, Task


@pytest.fixture
def pending(make, journey):
    lead = journey.to(make.lead(), "proposal")
    make.user("approver")
    p = journey.draft(lead)
    return proposals.request_approvals(db.session, p, lead.owner)


def test_a_review_task_goes_to_an_approver(pending):
    task = db.session.scalars(sa.select(Task).where(Task.key == f"approval:{pending[0].id}:review")).one()
    assert task.owner.role == "approver"


def test_a_request_whose_words_changed_is_withdrawn_with_its_review(pending):
    """The price changes while its approval is pending: the approval is superseded and its review task
    is closed with it, so no approver is left with a review of a price that is gone."""
    pricing = next(a for a in pending if a.kind == "pricing")
    p = pricing.proposal
    review = db.session.scalars(sa.select(Task).where(Task.key == f"approval:{pricing.id}:review")).one()
    others = [
        db.session.scalars(sa.select(Task).where(Task.key == f"approval:{a.id}:review")).one()
        for a in pending
        if a.kind != "pricing"
    ]

    proposals.revise_proposal(db.session, p, p.lead.owner, p.version, price_cents=(p.price_cents or 0) + 100)

    assert pricing.state == "superseded" and review.done_at is not None
    assert all(t.done_at is None for t in others)  # the reviews of unchanged parts stay open


def test_nobody_approves_their_own_request(make, pending):
    admin = make.user("admin")
    lead = pending[0].lead
    p2 = pending[0].proposal
    from zarts.domain import proposals as props

    props.revise_proposal(db.session, p2, admin, p2.version, price_cents=999900)
    own = next(a for a in props.request_approvals(db.session, p2, admin) if a.kind == "pricing")
    with pytest.raises(Forbidden, match="own request"):
        approvals.decide(db.session, own, admin, own.version, approve=True)
    assert own.state == "pending" and lead.stage == "proposal"


def test_only_approvers_decide(make, pending):
    for role in ("growth_ops", "delivery", "client"):
        with pytest.raises(Forbidden):
            approvals.decide(db.session, pending[0], make.user(role), pending[0].version, approve=True)
    assert pending[0].state == "pending"


def test_a_rejection_needs_a_comment_and_is_an_event(make, pending):
    approver = make.user("approver")
    a = pending[0]
    with pytest.raises(Invalid, match="comment"):
        approvals.decide(db.session, a, approver, a.version, approve=False, comment="  ")
    approvals.decide(db.session, a, approver, a.version, approve=False, comment="Price below floor")
    assert (a.state, a.decided_by_id, a.comment) == ("rejected", approver.id, "Price below floor")
    e = db.session.scalars(sa.select(Event).where(Event.kind == "approval_decided")).one()
    assert e.payload["state"] == "rejected" and e.actor_id == approver.id


def test_a_decided_approval_is_not_decided_again(make, pending):
    approver = make.user("approver")
    a = pending[0]
    approvals.decide(db.session, a, approver, a.version, approve=True)
    with pytest.raises(Invalid):
        approvals.decide(db.session, a, approver, a.version, approve=False, comment="changed my mind")


def test_an_approved_client_summary_is_published_only_in_its_approved_wording(make, journey):
    from zarts.domain import audits

    lead = journey.to(make.lead(), "audit")
    audit = journey.complete_audit(lead)
    a = audits.request_summary_approval(db.session, audit, lead.owner)
    assert audit.client_summary_status == "pending"
    approvals.decide(db.session, a, make.user("approver"), a.version, approve=True)
    assert audit.client_summary_status == "approved"
    audits.save_audit(db.session, audit, lead.owner, audit.version, client_summary="New words")
    assert audit.client_summary_status == "none" and a.state == "superseded"


def test_publishing_a_report_tells_each_client_contact_once(make, journey):
    from zarts.domain import publication
    from zarts.models import Message, Report

    lead = journey.to(make.lead(), "won")
    contact = journey.contact(lead)
    report = Report(
        kind="client_report",
        title="May",
        client_id=lead.client_id,
        lead_id=lead.id,
        client_summary="Leads rose 12%.",
    )
    db.session.add(report)
    db.session.flush()
    a = publication.request_report_approval(db.session, report, lead.owner)
    approvals.decide(db.session, a, make.user("approver"), a.version, approve=True)
    publication.publish_report(db.session, report, lead.owner, report.version)
    notices = db.session.scalars(
        sa.select(Message).where(Message.key.like(f"report:{report.id}:notice:%"))
    ).all()
    assert [m.to_email for m in notices] == [contact.email]
