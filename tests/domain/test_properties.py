"""Random sequences of moves and edits never break the guide's promises."""

from datetime import timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zarts.domain import DomainError, approvals, audits, contracts, gates, pipeline, proposals
from zarts.extensions import db
from zarts.models import Approval, Audit, Contract, Event, Lead, Proposal, Task, today
from zarts.models.vocab import STAGES

from ..builders import SCOPE

ORDER = {s: i for i, s in enumerate(STAGES)}
FIELDS = [
    "service_fit",
    "urgency",
    "decision_owner",
    "budget_signal",
    "contact_path",
    "pain_points",
    "provider_stack",
    "decision_criteria",
]

actions = st.one_of(
    st.tuples(st.just("move"), st.sampled_from(STAGES)),
    st.tuples(st.just("clear"), st.sampled_from(FIELDS)),
    st.tuples(st.just("discovery"), st.none()),
    st.tuples(st.just("audit"), st.booleans()),
    st.tuples(st.just("complete"), st.none()),
    st.tuples(st.just("draft"), st.none()),
    st.tuples(st.just("approve"), st.booleans()),
    st.tuples(st.just("send"), st.none()),
    st.tuples(st.just("revise"), st.integers(min_value=0, max_value=10**7)),
    st.tuples(st.just("accept"), st.none()),
    st.tuples(st.just("sign"), st.none()),
    st.tuples(st.just("won"), st.none()),
    st.tuples(st.just("lost"), st.sampled_from([None, "price"])),
    st.tuples(st.just("reactivate"), st.none()),
    st.tuples(st.just("pause"), st.none()),
    st.tuples(st.just("resume"), st.booleans()),
)


def _counts(lead_id):
    return {
        model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Lead, Event, Task, Proposal, Approval, Audit, Contract)
    }


def _row(lead):
    return {c.key: getattr(lead, c.key) for c in sa.inspect(Lead).column_attrs}


def _do(action, arg, lead, ctx):
    s, owner, due = db.session, lead.owner, today() + timedelta(days=3)
    latest = gates.latest_proposal(s, lead.id)
    if action == "move":
        pipeline.move(
            s,
            lead,
            arg,
            owner,
            lead.version,
            next_action_due=due,
            lost_reason="timing",
            reactivation_never=True,
        )
    elif action == "clear":
        if arg in pipeline.EDITABLE_FIELDS:
            pipeline.update_lead(s, lead, owner, lead.version, **{arg: ""})
    elif action == "discovery":
        pipeline.log_discovery(
            s,
            lead,
            owner,
            lead.version,
            pain_points="p",
            current_lead_flow="f",
            provider_stack="HubSpot",
            decision_criteria="c",
        )
    elif action == "audit":
        audit = audits.start_audit(s, lead, owner)
        audits.save_audit(s, audit, owner, audit.version, findings="f", baseline_figures="b" if arg else None)
    elif action == "complete":
        audit = s.scalars(sa.select(Audit).where(Audit.lead_id == lead.id, Audit.status == "draft")).first()
        if audit is not None:
            audits.complete_audit(s, audit, owner, audit.version)
    elif action == "draft":
        proposals.draft_proposal(
            s, lead, owner, title="T", price_cents=1000, expected_improvement="x", items=SCOPE
        )
    elif action == "approve" and latest is not None:
        for a in proposals.request_approvals(s, latest, owner):
            approvals.decide(s, a, ctx["approver"], a.version, approve=arg, comment=None if arg else "no")
    elif action == "send" and latest is not None:
        proposals.send_proposal(
            s, latest, owner, latest.version, follow_up_date=due, decision_deadline=due + timedelta(days=7)
        )
    elif action == "revise" and latest is not None:
        proposals.revise_proposal(s, latest, owner, latest.version, price_cents=arg)
    elif action == "accept" and latest is not None and lead.client_id:
        contact = s.scalars(sa.select(ctx["User"]).where(ctx["User"].client_id == lead.client_id)).first()
        proposals.accept_proposal(s, latest, contact, latest.version)
    elif action == "sign":
        c = s.scalars(sa.select(Contract).where(Contract.lead_id == lead.id)).first()
        contracts.update_contract(
            s,
            lead,
            owner,
            c.version if c else None,
            state="signed",
            payment_state="paid",
            kickoff_date=due,
            onboarding_owner_id=owner.id,
        )
    elif action == "won":
        pipeline.mark_won(s, lead, owner, lead.version)
    elif action == "lost":
        pipeline.mark_lost(s, lead, owner, lead.version, lost_reason=arg, reactivation_date=due)
    elif action == "reactivate":
        pipeline.reactivate(s, lead, owner, lead.version, confirmed=True, next_action_due=due)
    elif action == "pause":
        pipeline.pause(s, lead, owner, lead.version, "timing", "later")
    elif action == "resume":
        pipeline.resume(s, lead, owner, lead.version, confirmed=arg)


def _check_invariants(lead):
    s = db.session
    rank = ORDER[lead.stage]
    if lead.stage != "lost" and rank >= ORDER["proposal"]:
        assert gates.completed_audit(s, lead.id) is not None, "proposal stage without a completed audit"
    if lead.stage in ("contract", "won"):
        live = gates.live_proposal(s, lead.id)
        assert live is not None and not proposals.unapproved_parts(s, live), (
            "contract without approved pricing"
        )
    if lead.stage == "won":
        assert s.scalar(sa.select(Contract.state).where(Contract.lead_id == lead.id)) == "signed"
        assert gates.live_proposal(s, lead.id).status == "accepted"
    if lead.stage == "lost":
        assert lead.lost_reason and (lead.reactivation_date or lead.reactivation_never)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(actions, min_size=1, max_size=20))
def test_random_sequences_keep_the_promises(app, make, steps):
    from zarts.models import User

    ctx = {"approver": make.user("approver"), "User": User}
    lead = make.lead()
    db.session.flush()
    moves = 0
    for action, arg in steps:
        before_row, before_counts = _row(lead), _counts(lead.id)
        stage_before = lead.stage
        try:
            _do(action, arg, lead, ctx)
        except DomainError:
            db.session.flush()
            assert _row(lead) == before_row, f"refused {action} changed the lead"
            assert _counts(lead.id) == before_counts, f"refused {action} wrote rows"
            continue
        db.session.flush()
        after = _counts(lead.id)
        assert all(after[t] >= before_counts[t] for t in after), "something was deleted"
        if lead.stage != stage_before:
            moves += 1
        _check_invariants(lead)
    moved_events = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Event)
        .where(Event.lead_id == lead.id, Event.kind == "stage_moved")
    )
    assert moved_events == moves
