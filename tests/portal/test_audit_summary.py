"""The approved client-safe audit summary, beside the proposal it led to ("Based on your audit")."""

from __future__ import annotations

import sqlalchemy as sa

from zarts.domain import audits
from zarts.extensions import db
from zarts.models import Audit


def test_the_proposal_shows_the_approved_audit_summary_and_never_a_changed_one(world, portal_as):
    a, b = world
    me = portal_as(a.contact)
    html = me.get(f"/portal/proposals/{a.open_proposal.id}").get_data(as_text=True)
    assert "Based on your audit" in html and "SAFE-A-audit-summary" in html
    assert "SAFE-B-audit-summary" not in html
    # The other client's proposal is not found, audit and all.
    assert me.get(f"/portal/proposals/{b.open_proposal.id}").status_code == 404

    # Staff rewrite the summary: until the new words are approved the client reads none.
    audit = db.session.scalars(
        sa.select(Audit).where(Audit.lead_id == a.open_lead.id).order_by(Audit.id.desc())
    ).first()
    audits.save_audit(db.session, audit, a.owner, audit.version, client_summary="SAFE-A-rewritten")
    db.session.commit()
    html = me.get(f"/portal/proposals/{a.open_proposal.id}").get_data(as_text=True)
    assert "Based on your audit" not in html and "SAFE-A-rewritten" not in html
    assert "SAFE-A-audit-summary" not in html


def test_a_summary_set_approved_without_an_approval_of_its_words_is_not_shown(world, portal_as):
    a, _ = world
    audit = db.session.scalars(
        sa.select(Audit).where(Audit.lead_id == a.open_lead.id).order_by(Audit.id.desc())
    ).first()
    audit.client_summary = "CANARY-set-behind-the-approvals-back"  # a write outside the domain
    db.session.commit()
    html = portal_as(a.contact).get(f"/portal/proposals/{a.open_proposal.id}").get_data(as_text=True)
    assert "CANARY" not in html and "Based on your audit" not in html
