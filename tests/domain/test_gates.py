"""Each gate refuses with the exact list of what is missing, and applies the move when all is there."""

from datetime import timedelta

import pytest

from zarts.domain import GateRefused, pipeline
from zarts.extensions import db
from zarts.models import Event, today

DUE = today() + timedelta(days=2)


def refused(lead, stage, actor=None):
    with pytest.raises(GateRefused) as exc:
        pipeline.move(db.session, lead, stage, actor or lead.owner, lead.version, next_action_due=DUE)
    return [m.code for m in exc.value.missing]


def events_of(lead):
    return db.session.query(Event).filter_by(lead_id=lead.id).count()


@pytest.mark.parametrize(
    "field,code",
    [
        ("service_fit", "service_fit"),
        ("urgency", "urgency"),
        ("decision_owner", "decision_owner"),
        ("contact_path", "contact_path"),
        ("budget_signal", "budget_signal"),
    ],
)
def test_qualified_gate_names_each_missing_field(make, field, code):
    lead = make.lead(**{field: None})
    assert refused(lead, "qualified") == [code]
    assert lead.stage == "new" and events_of(lead) == 0


def test_qualified_gate_lists_everything_missing_at_once(make):
    lead = make.lead(
        service_fit=None,
        urgency=None,
        decision_owner=None,
        budget_signal=None,
        next_action=None,
        next_action_due=None,
    )
    with pytest.raises(GateRefused) as exc:
        pipeline.move(db.session, lead, "qualified", lead.owner, lead.version)
    assert [m.message for m in exc.value.missing] == [
        "Service fit is missing",
        "Urgency is missing",
        "Decision owner is missing",
        "Budget signal is missing",
        "Next action with a due date is missing",
    ]


def test_poor_fit_is_not_qualified(make):
    assert refused(make.lead(service_fit="poor"), "qualified") == ["service_fit"]


def test_qualified_gate_applies_when_everything_is_there(make):
    lead = make.lead()
    pipeline.move(db.session, lead, "qualified", lead.owner, lead.version, next_action_due=DUE)
    assert lead.stage == "qualified"
    kinds = [e.kind for e in db.session.query(Event).filter_by(lead_id=lead.id)]
    assert kinds == ["stage_moved", "qualified"]


def test_discovery_needs_valid_consent(make, journey):
    lead = journey.to(make.lead(consent="unknown"), "qualified")
    assert refused(lead, "discovery") == ["consent"]
    lead.consent = "granted"
    pipeline.move(db.session, lead, "discovery", lead.owner, lead.version, next_action_due=DUE)
    assert lead.stage == "discovery"


def test_audit_needs_discovery_answers(make, journey):
    lead = journey.to(make.lead(), "discovery")
    assert refused(lead, "audit") == [
        "pain_points",
        "current_lead_flow",
        "provider_stack",
        "decision_criteria",
    ]


def test_proposal_needs_a_completed_audit_with_evidence(make, journey):
    from zarts.domain import audits

    lead = journey.to(make.lead(), "audit")
    assert refused(lead, "proposal") == ["audit"]
    audit = audits.start_audit(db.session, lead, lead.owner)
    audits.save_audit(db.session, audit, lead.owner, audit.version, findings="Slow forms")
    assert refused(lead, "proposal") == ["audit"]  # a draft audit is not evidence
    journey.complete_audit(lead)
    pipeline.move(db.session, lead, "proposal", lead.owner, lead.version, next_action_due=DUE)
    assert lead.stage == "proposal"


def test_contract_stage_needs_a_sent_proposal_with_separated_approved_scope(make, journey):
    lead = journey.to(make.lead(), "proposal")
    journey.draft(lead, items=[{"kind": "included", "title": "Audit fixes"}])
    codes = refused(lead, "contract")
    assert codes == [
        "proposal_sent",
        "scope_excluded",
        "scope_assumption",
        "approval_summary",
        "approval_scope",
        "approval_pricing",
        "approval_timeline",
        "approval_claim",
        "approval_contract_language",
    ]


def test_won_needs_accepted_proposal_signed_contract_payment_kickoff_and_onboarding_owner(make, journey):
    lead = journey.to(make.lead(), "contract")
    with pytest.raises(GateRefused) as exc:
        pipeline.mark_won(db.session, lead, lead.owner, lead.version)
    assert [m.code for m in exc.value.missing] == [
        "accepted_proposal",
        "contract_signed",
        "payment_state",
        "kickoff_date",
        "onboarding_owner",
    ]
    journey.to(lead, "accepted")
    journey.sign(lead)
    pipeline.mark_won(db.session, lead, lead.owner, lead.version)
    assert lead.stage == "won"


def test_lost_needs_a_reason_and_a_reactivation_window(make):
    lead = make.lead()
    with pytest.raises(GateRefused) as exc:
        pipeline.mark_lost(db.session, lead, lead.owner, lead.version)
    assert [m.code for m in exc.value.missing] == ["lost_reason", "reactivation"]
    pipeline.mark_lost(
        db.session, lead, lead.owner, lead.version, lost_reason="price", reactivation_never=True
    )
    assert lead.stage == "lost" and lead.reactivation_never


def test_gates_are_cumulative_when_skipping_stages(make):
    lead = make.lead(decision_owner=None, consent="unknown")
    assert refused(lead, "audit") == [
        "decision_owner",
        "consent",
        "pain_points",
        "current_lead_flow",
        "provider_stack",
        "decision_criteria",
    ]
