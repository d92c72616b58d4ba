"""Two people acting on the same version of a row: one wins, the other gets a conflict, nothing is lost."""

from datetime import timedelta

import pytest
from sqlalchemy.orm import sessionmaker

from zarts.domain import Conflict, pipeline, unit
from zarts.extensions import db
from zarts.models import Event, Lead, User, today


@pytest.mark.pg
def test_two_users_on_the_same_version_one_wins_the_other_gets_a_conflict(pg_app, make):
    lead = make.lead()
    db.session.commit()
    lead_id, owner_id, seen = lead.id, lead.owner_id, lead.version
    Session = sessionmaker(bind=db.engine)
    a, b = Session(), Session()
    try:
        la, lb = a.get(Lead, lead_id), b.get(Lead, lead_id)  # both pages opened at the same version
        with unit(a):
            pipeline.move(
                a, la, "qualified", a.get(User, owner_id), seen, next_action_due=today() + timedelta(days=1)
            )
        with pytest.raises(Conflict):
            with unit(b):
                pipeline.update_lead(b, lb, b.get(User, owner_id), seen, decision_owner="Someone else")
    finally:
        a.close()
        b.close()
    db.session.expire_all()
    fresh = db.session.get(Lead, lead_id)
    assert fresh.stage == "qualified" and fresh.decision_owner == "CMO"
    assert db.session.query(Event).filter_by(lead_id=lead_id, kind="stage_moved").count() == 1


def test_a_stale_version_from_a_form_is_refused_before_anything_changes(make):
    lead = make.lead()
    db.session.commit()
    seen = lead.version
    pipeline.update_lead(db.session, lead, lead.owner, seen, budget_signal="10k")
    db.session.commit()
    with pytest.raises(Conflict):
        with unit(db.session):
            pipeline.update_lead(db.session, lead, lead.owner, seen, budget_signal="2k")
    assert db.session.get(Lead, lead.id).budget_signal == "10k"
