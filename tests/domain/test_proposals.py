from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.builders import SCOPE
from zarts.domain import Forbidden, GateRefused, Invalid, proposals
from zarts.extensions import db
from zarts.models import Approval, Event, Message, Proposal, Task, User, today


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
    assert [m.code for m in exc.value.missing] == [
        "approval_summary",
        "approval_scope",
        "approval_pricing",
        "approval_timeline",
        "approval_claim",
        "approval_contract_language",
    ]
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
    v1 = db.session.scalars(sa.select(Proposal).where(Proposal.lead_id == lead.id)).one()
    v2 = proposals.revise_proposal(db.session, v1, lead.owner, v1.version, price_cents=500000)
    assert v2.id != v1.id and v2.number == 2 and v2.status == "draft" and v1.status == "sent"
    assert v1.snapshot["price_cents"] == 450000  # the sent version is untouched
    assert [k for k, _ in proposals.unapproved_parts(db.session, v2)] == list(proposals.APPROVAL_PARTS)


def test_editing_a_draft_withdraws_the_approval_of_the_changed_part_only(make, journey):
    lead = journey.to(make.lead(), "proposal")
    p = journey.draft(lead)
    journey.approve_all(p)
    proposals.revise_proposal(
        db.session,
        p,
        lead.owner,
        p.version,
        timeline="10 weeks",
        expected_improvement="CPL down 25%",
        internal_notes="Margin 40%",
    )
    assert [k for k, _ in proposals.unapproved_parts(db.session, p)] == ["timeline", "claim"]
    states = dict(
        db.session.execute(sa.select(Approval.kind, Approval.state).where(Approval.proposal_id == p.id)).all()
    )
    assert states == {
        "summary": "approved",
        "scope": "approved",
        "pricing": "approved",
        "timeline": "superseded",
        "claim": "superseded",
        "contract_language": "approved",
    }


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


# --- everything the client reads passed approval (issue 16) -----------------------------------------


def approval_of(p, kind):
    return db.session.scalars(
        sa.select(Approval)
        .where(Approval.proposal_id == p.id, Approval.kind == kind)
        .order_by(Approval.id.desc())
    ).first()


def test_each_client_facing_part_is_approved_in_its_exact_wording(make, journey):
    lead = journey.to(make.lead(), "proposal")
    p = journey.draft(
        lead,
        currency="GBP",
        items=[
            {"kind": "included", "title": "Landing page", "description": "one page"},
            {"kind": "add_on", "title": "Extra landing page", "price_cents": 90000},
            {"kind": "excluded", "title": "Paid media"},
            {"kind": "assumption", "title": "CMS access"},
        ],
    )
    asked = {a.kind: a.content for a in proposals.request_approvals(db.session, p, lead.owner)}
    assert asked == {
        "summary": "Title: Growth plan\nSummary: A 3-month plan",
        "scope": (
            "Included: Landing page — one page\nAdd-on: Extra landing page\nExcluded: Paid media\n"
            "Assumption: CMS access"
        ),
        "pricing": "GBP 4,500.00; add-on: Extra landing page GBP 900.00",
        "timeline": "12 weeks" + PROOF,
        "claim": "CPL down 20% in 90 days" + PROOF,
        "contract_language": "Standard MSA, 30 days notice",
    }


# What a claim the journey drafts rests on (tests/builders.Journey.cite): the approver backs the pair.
PROOF = (
    "\nRests on: audit #1 finding: About 40 % of mobile visitors leave the form.; audit #1 baseline: "
    "Your cost per lead was 84 EUR in September. [cost per lead 84 EUR, Sep 2026]"
)


def test_a_summary_or_timeline_changed_after_approval_is_not_sent(make, journey):
    """Replays issue 16: price, claim and contract language approved, then the summary and the
    timeline rewritten: the proposal went out with both."""
    lead = journey.to(make.lead(), "proposal")
    p = journey.draft(lead)
    journey.approve_all(p)
    proposals.revise_proposal(
        db.session,
        p,
        lead.owner,
        p.version,
        summary="We GUARANTEE to triple your leads",
        timeline="Live in 3 days",
    )

    with pytest.raises(GateRefused) as exc:
        journey.send(p)

    assert [m.code for m in exc.value.missing] == ["approval_summary", "approval_timeline"]
    assert p.status == "draft" and p.snapshot is None
    assert (approval_of(p, "summary").state, approval_of(p, "timeline").state) == ("superseded", "superseded")
    assert approval_of(p, "pricing").state == "approved"


def test_a_changed_scope_item_or_title_needs_approval_again(make, journey):
    lead = journey.to(make.lead(), "proposal")
    p = journey.draft(lead)
    journey.approve_all(p)
    items = [
        dict(i, title="Guaranteed page one on Google") if i["title"] == "Monthly content plan" else i
        for i in SCOPE
    ]
    proposals.revise_proposal(db.session, p, lead.owner, p.version, items=items, title="Triple your leads")
    assert [k for k, _ in proposals.unapproved_parts(db.session, p)] == ["summary", "scope"]


def test_an_add_on_price_is_part_of_the_approved_pricing(make, journey):
    """Replays issue 16: the approval queue asked for "GBP 4,500.00", the client accepted GBP 5,400."""
    lead = journey.to(make.lead(), "proposal")
    p = journey.draft(lead, currency="GBP")
    journey.approve_all(p)
    assert approval_of(p, "pricing").content == "GBP 4,500.00; add-on: Landing page copy GBP 900.00"
    items = [dict(i, price_cents=150000) if i["kind"] == "add_on" else i for i in SCOPE]
    proposals.revise_proposal(db.session, p, lead.owner, p.version, items=items)

    with pytest.raises(GateRefused) as exc:
        journey.send(p)
    assert [m.code for m in exc.value.missing] == ["approval_pricing"]
    assert approval_of(p, "pricing").state == "superseded"


def test_the_accepted_total_is_a_total_of_approved_prices(make, journey):
    lead = journey.to(make.lead(), "accepted")
    p = db.session.scalars(sa.select(Proposal).where(Proposal.lead_id == lead.id)).one()
    snap, approved = p.snapshot, approval_of(p, "pricing")
    assert approved.state == "approved"
    add_ons = [i for i in snap["items"] if i["kind"] == "add_on"]

    def money(cents):
        return f"{snap['currency']} {cents / 100:,.2f}"

    assert approved.content == "; ".join(
        [money(snap["price_cents"])] + [f"add-on: {i['title']} {money(i['price_cents'])}" for i in add_ons]
    )
    chosen = [i for i in add_ons if i["id"] in p.accepted_add_on_ids]
    assert chosen and all(money(i["price_cents"]) in approved.content for i in chosen)


def test_internal_fields_need_no_approval(make, journey):
    lead = journey.to(make.lead(), "proposal")
    p = journey.draft(lead)
    journey.approve_all(p)
    proposals.revise_proposal(
        db.session, p, lead.owner, p.version, internal_notes="Margin 40%", pricing_assumptions="22h/month"
    )
    assert proposals.unapproved_parts(db.session, p) == []


def test_saving_an_unchanged_sent_proposal_makes_no_new_version(make, journey):
    lead = journey.to(make.lead(), "contract")
    v1 = db.session.scalars(sa.select(Proposal).where(Proposal.lead_id == lead.id)).one()
    same = proposals.revise_proposal(
        db.session,
        v1,
        lead.owner,
        v1.version,
        title="Growth plan\r\n",
        summary=v1.summary,
        items=[dict(i) for i in SCOPE],
    )
    assert same is v1 and db.session.query(Proposal).count() == 1


def test_a_revision_is_a_change_record_on_the_timeline(make, journey):
    lead = journey.to(make.lead(), "proposal")
    p = journey.draft(lead)
    proposals.revise_proposal(db.session, p, lead.owner, p.version, timeline="10 weeks", via="admin")
    changed = sa.select(Event).where(Event.lead_id == lead.id, Event.kind == "fields_changed")
    event = db.session.scalars(changed.order_by(Event.id.desc()).limit(1)).one()
    assert event.payload == {
        "table": "proposals",
        "row": p.id,
        "via": "admin",
        "changes": [{"field": "timeline", "old": "12 weeks", "new": "10 weeks"}],
    }


# --- scope items one by one -----------------------------------------------------------------------


def test_adding_an_add_on_withdraws_the_scope_and_pricing_approvals(make, journey):
    lead = journey.to(make.lead(), "proposal")
    p = journey.draft(lead)
    journey.approve_all(p)
    version, events = p.version, db.session.scalar(sa.select(sa.func.max(Event.id)))
    item = proposals.save_item(
        db.session, p, lead.owner, kind="add_on", title="Extra landing page", price_cents=90000, via="admin"
    )
    assert item.position == len(SCOPE) and p.version > version  # a form opened on the old scope is stale
    assert [k for k, _ in proposals.unapproved_parts(db.session, p)] == ["scope", "pricing"]
    assert proposals.part_content(p, "pricing").endswith("; add-on: Extra landing page EUR 900.00")
    proposals.remove_item(db.session, item, lead.owner, via="admin")
    assert [i.title for i in p.items] == [i["title"] for i in SCOPE]
    changes = [
        e.payload
        for e in db.session.scalars(
            sa.select(Event)
            .where(Event.lead_id == lead.id, Event.kind == "fields_changed", Event.id > events)
            .order_by(Event.id)
        )
    ]
    assert [c["changes"][0] for c in changes] == [
        {"field": "kind", "new": "add_on"},  # made: no old value
        {"field": "title", "old": "Extra landing page"},
    ]  # removed


def test_the_items_of_a_sent_proposal_never_change(make, journey):
    lead = journey.to(make.lead(), "contract")
    p = db.session.scalars(sa.select(Proposal).where(Proposal.lead_id == lead.id)).one()
    item = p.items[0]
    with pytest.raises(Invalid, match="frozen"):
        proposals.save_item(db.session, p, lead.owner, item, kind="included", title="Weekly report")
    with pytest.raises(Invalid, match="frozen"):
        proposals.save_item(db.session, p, lead.owner, kind="add_on", title="Free extra", price_cents=0)
    with pytest.raises(Invalid, match="frozen"):
        proposals.remove_item(db.session, item, lead.owner)
    assert [i.title for i in p.items] == [i["title"] for i in SCOPE]


# --- pauses and owners -----------------------------------------------------------------------------

PAUSED = "The opportunity is paused (decision_path): resume it first."


def test_a_paused_lead_stops_all_proposal_work(make, journey):
    from zarts.domain import pipeline

    lead = journey.to(make.lead(), "proposal")
    p = journey.draft(lead)
    other = journey.to(make.lead(), "proposal")
    pipeline.pause(db.session, lead, lead.owner, lead.version, "decision_path")
    pipeline.pause(db.session, other, other.owner, other.version, "decision_path")
    events = db.session.query(Event).count()

    for work in (
        lambda: journey.draft(other),
        lambda: proposals.revise_proposal(db.session, p, lead.owner, p.version, price_cents=1),
        lambda: proposals.request_approvals(db.session, p, lead.owner),
        lambda: proposals.save_item(db.session, p, lead.owner, kind="included", title="More"),
        lambda: journey.send(p),
    ):
        with pytest.raises(Invalid) as exc:
            work()
        assert exc.value.message == PAUSED
    assert p.price_cents == 450000 and p.status == "draft" and len(p.items) == len(SCOPE)
    assert db.session.query(Approval).count() == 0 and db.session.query(Event).count() == events
    assert db.session.query(Proposal).filter_by(lead_id=other.id).count() == 0


def test_growth_ops_work_only_on_the_proposals_of_their_own_leads(make, journey):
    lead = journey.to(make.lead(), "proposal")
    p = journey.draft(lead)
    other_lead = journey.to(make.lead(), "proposal")
    intruder = make.user("growth_ops")

    for action, work in (
        ("draft proposals", lambda: proposals.draft_proposal(db.session, other_lead, intruder, title="Mine")),
        (
            "revise proposals",
            lambda: proposals.revise_proposal(db.session, p, intruder, p.version, price_cents=1),
        ),
        ("request approvals", lambda: proposals.request_approvals(db.session, p, intruder)),
        (
            "change scope items",
            lambda: proposals.save_item(db.session, p, intruder, kind="included", title="More"),
        ),
        (
            "send proposals",
            lambda: proposals.send_proposal(
                db.session,
                p,
                intruder,
                p.version,
                follow_up_date=today(),
                decision_deadline=today() + timedelta(days=9),
            ),
        ),
        (
            "log objections",
            lambda: proposals.record_objection(db.session, p, intruder, p.version, "Too dear"),
        ),
        (
            "update forecasts",
            lambda: proposals.update_forecast(
                db.session, p, intruder, p.version, probability=90, decision_deadline=None
            ),
        ),
    ):
        with pytest.raises(Forbidden) as exc:
            work()
        assert exc.value.message == f"Only the owner of this opportunity (or an admin) can {action}."
    assert (p.price_cents, p.objection, p.probability, p.status) == (450000, None, None, "draft")
    assert db.session.query(Proposal).count() == 1


def test_a_currency_is_a_three_letter_code(make, journey):
    lead = journey.to(make.lead(), "proposal")
    with pytest.raises(Invalid) as exc:
        journey.draft(lead, currency="€UR")
    assert exc.value.field == "currency"
    assert exc.value.message == "Currency is a three-letter code such as EUR."
    assert journey.draft(lead, currency="gbp").currency == "GBP"
