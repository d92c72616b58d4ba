"""SECURITY.md's "Who may act" table is what the domain does: every cell, replayed.

The table is read from SECURITY.md (between its who-may-act markers). For each action and staff
role the action's domain function is called on a record of the user's own and on someone else's:
*all* must pass the permission check on both, *own* only on their own, *—* on neither. Passing the
permission check means no Forbidden: a gate or a bad value further on (Invalid, GateRefused) is
the next check, not this one. Each call runs on fresh records and is rolled back.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.builders import Journey
from zarts.domain import (
    DomainError,
    Forbidden,
    approvals,
    audits,
    contracts,
    merge,
    pipeline,
    projects,
    proposals,
)
from zarts.domain.messaging import post_staff_message
from zarts.domain.portal_access import invite_contact
from zarts.domain.tasks import set_task_done
from zarts.domain.views import delete_view, save_view, update_view
from zarts.extensions import db
from zarts.models import Project, Task, today

# Each call runs in a SAVEPOINT that is rolled back; SQLite gives the rolled-back rows' ids out again
# in the next call, and SQLAlchemy notes that it replaced the rolled-back object it still had under
# that id. Nothing is wrong with the data: every call starts from the same committed state.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Identity map already had an identity for:sqlalchemy.exc.SAWarning"
)

SECURITY = Path(__file__).resolve().parents[2] / "SECURITY.md"
ROLES = ("admin", "growth_ops", "approver", "delivery")


def who_may_act() -> dict[str, dict[str, str]]:
    text = SECURITY.read_text()
    table = text[text.index("<!-- who-may-act") : text.index("<!-- /who-may-act -->")]
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in table.splitlines()
        if line.startswith("|")
    ]
    header, body = rows[0], rows[2:]
    assert header == ["action", "admin", "growth ops", "approver", "delivery"]
    return {row[0]: dict(zip(ROLES, row[1:], strict=True)) for row in body}


# -- what each row does, on a lead owned by `owner` (the acting user, or someone else) ------------


def _lead(make, owner, stage="new", journey=None, **kw):
    """A lead at `stage` (driven there by a growth-ops owner), then owned by `owner` (set-up only)."""
    lead = make.lead(owner=make.user("growth_ops"), **kw)
    if stage != "new":
        journey.to(lead, stage)
    lead.owner_id = owner.id
    db.session.flush()
    db.session.refresh(lead)
    return lead


def edit_lead(w, actor, owner):
    lead = _lead(w.make, owner)
    pipeline.update_lead(db.session, lead, actor, None, title="Renamed by the matrix")
    pipeline.set_next_action(db.session, lead, actor, None, "Call them", today() + timedelta(days=2))


def move_lead(w, actor, owner):
    lead = _lead(w.make, owner)
    pipeline.move(db.session, lead, "qualified", actor, None, next_action_due=today() + timedelta(days=2))


def reassign_lead(w, actor, owner):
    lead = _lead(w.make, owner)
    pipeline.reassign(db.session, lead, actor, None, w.make.user("growth_ops").id)


def audit(w, actor, owner):
    lead = _lead(w.make, owner, "audit", w.journey)
    audits.start_audit(db.session, lead, actor)


def evidence_item(w, actor, owner):
    """A draft audit of `owner`'s lead (set-up row): the actor adds evidence to it."""
    from zarts.domain import evidence
    from zarts.models import Audit

    lead = _lead(w.make, owner, "audit", w.journey)
    row = Audit(lead_id=lead.id, status="draft")
    db.session.add(row)
    db.session.flush()
    evidence.add_item(db.session, row, actor, kind="finding", raw_note="Matrix finding")


def cite(w, actor, owner):
    """A draft proposal on `owner`'s lead (drafted by an admin): the actor sets what its claims cite."""
    from zarts.domain import citations

    lead = _lead(w.make, owner, "proposal", w.journey)
    draft = proposals.draft_proposal(
        db.session, lead, w.make.user("admin"), title="Matrix", timeline="4 weeks"
    )
    citations.cite(db.session, draft, actor, None, {})


def measurement(w, actor, owner):
    """A promise of a project on `owner`'s lead (set-up rows): the actor records what it measured."""
    from zarts.domain.gates import live_proposal
    from zarts.domain.promises import record_measurement
    from zarts.models import Promise, utcnow

    lead = _lead(w.make, owner, "contract", w.journey)
    row = Project(
        name="Matrix project", client_id=lead.client_id or w.make.client().id, lead_id=lead.id, service="seo"
    )
    db.session.add(row)
    db.session.flush()
    promise = Promise(
        project_id=row.id,
        proposal_id=live_proposal(db.session, lead.id).id,
        claim_kind="timeline",
        claim_text="Matrix",
        metric="leads",
        promised_at=utcnow(),
        key=f"matrix:{row.id}",
    )
    db.session.add(promise)
    db.session.flush()
    record_measurement(db.session, promise, actor, period="Nov 2026", value="12")


def proposal(w, actor, owner):
    lead = _lead(w.make, owner, "proposal", w.journey)
    proposals.draft_proposal(db.session, lead, actor, title="Matrix proposal")


def decide(w, actor, owner):
    lead = _lead(w.make, w.make.user("growth_ops"), "proposal", w.journey)
    w.make.user("approver")
    requested = proposals.request_approvals(db.session, w.journey.draft(lead), lead.owner)
    approvals.decide(db.session, requested[0], actor, None, approve=True)


def contract(w, actor, owner):
    lead = _lead(w.make, owner, "contract", w.journey)
    contracts.update_contract(db.session, lead, actor, None, payment_state="invoiced")


def task(w, actor, owner):
    """A task on someone else's lead, assigned to `owner`."""
    lead = _lead(w.make, w.make.user("growth_ops"))
    row = Task(kind="follow_up", title="Matrix task", owner_id=owner.id, due=today(), lead_id=lead.id)
    db.session.add(row)
    db.session.flush()
    set_task_done(db.session, row, actor, None, True)


def message(w, actor, owner):
    client = w.make.client()
    lead = _lead(w.make, owner, client_id=client.id)
    post_staff_message(db.session, actor, client=client, subject="Hello", body="From the matrix", lead=lead)


def project(w, actor, owner):
    lead = _lead(w.make, owner)
    row = Project(name="Matrix project", client_id=w.make.client().id, lead_id=lead.id, service="seo")
    db.session.add(row)
    db.session.flush()
    projects.update_project(db.session, row, actor, None, client_next_steps="Kickoff next week")


def portal_access(w, actor, owner):
    client = w.make.client()
    lead = _lead(w.make, owner, client_id=client.id)
    invite_contact(db.session, actor, client, f"contact-{lead.id}@example.test", "New Contact", lead=lead)


def merge_leads(w, actor, owner):
    """Both leads owned by `owner`."""
    merge.merge_leads(db.session, _lead(w.make, owner), _lead(w.make, owner), actor, None, None)


def merge_clients(w, actor, owner):
    """Both clients owned by `owner`."""
    survivor, duplicate = w.make.client(owner_id=owner.id), w.make.client(owner_id=owner.id)
    merge.merge_clients(db.session, survivor, duplicate, actor, None, None)


def spreadsheet_import(w, actor, owner):
    """An import uploaded by `owner` (set-up row), mapped by `actor`."""
    from zarts.domain.imports import set_mapping
    from zarts.models import ImportJob

    job = ImportJob(
        kind="leads",
        owner_id=owner.id,
        filename="leads.csv",
        stored_name="0-none.csv",
        file_sha256="0" * 64,
        status="uploaded",
        headers=["Company"],
        total_rows=1,
    )
    db.session.add(job)
    db.session.flush()
    set_mapping(db.session, job, actor, None, mapping={"Company": "company"}, options={"source": "ads"})


def saved_view(w, actor, owner):
    """A shared board view of `owner`'s: the actor renames, un-shares and deletes it (saving one of
    their own is open to every staff role)."""
    save_view(db.session, actor, "board", f"Mine {actor.id}", "owner=me", shared=False)
    view = save_view(
        db.session, owner, "board", f"Matrix view {owner.id}", "owner=me&service=seo", shared=True
    )
    update_view(db.session, actor, view, name="Renamed by the matrix", shared=False)
    delete_view(db.session, actor, view)


def _file(w, actor, parent):
    """Attach a file to `parent` and delete it, both as `actor` (files go to a scratch folder)."""
    import io
    import tempfile

    from flask import current_app

    from zarts.domain import attachments

    current_app.config["ATTACHMENT_FOLDER"] = f"{tempfile.gettempdir()}/zarts-who-may-act-files"
    row = attachments.add_attachment(
        db.session,
        actor,
        parent,
        filename="matrix.png",
        stream=io.BytesIO(b"\x89PNG\r\n\x1a\n matrix"),
        max_bytes=10**6,
    )
    attachments.delete_attachment(db.session, row, actor)


def lead_file(w, actor, owner):
    _file(w, actor, _lead(w.make, owner))


def audit_file(w, actor, owner):
    lead = _lead(w.make, w.make.user("growth_ops"), "audit", w.journey)
    audit = audits.start_audit(db.session, lead, lead.owner)
    lead.owner_id = owner.id
    db.session.flush()
    _file(w, actor, audit)


ACTIONS = {
    "edit a lead's details, set its next action, log discovery": edit_lead,
    "move, pause, resume, mark lost or won": move_lead,
    "reassign a lead (hand it over)": reassign_lead,
    "start, edit or complete an audit": audit,
    "add, edit or remove audit evidence; request approval of its wording": evidence_item,
    "cite the evidence a proposal's claims rest on": cite,
    "record a measurement of a promised metric": measurement,
    "draft, revise, send a proposal; request its approvals": proposal,
    "decide an approval (never one's own request)": decide,
    "update a contract": contract,
    "complete or reopen a task": task,
    "write to a client about a lead": message,
    "update a project, request approval of its client text": project,
    "invite, resend, revoke a client contact's portal access": portal_access,
    "save, share, rename or delete a saved view": saved_view,
    "import leads or clients from a spreadsheet (map, preview, start)": spreadsheet_import,
    "merge two leads (own: both leads)": merge_leads,
    "merge two clients (own: both clients)": merge_clients,
    "add or delete a file of a lead, a proposal or a contract": lead_file,
    "add or delete a file of an audit (evidence)": audit_file,
}


def test_the_table_names_every_action_this_test_replays():
    assert set(who_may_act()) == set(ACTIONS)


class World:
    """The builders of one call (a journey caches its approver: one made in a rolled-back call is gone)."""

    def __init__(self, make):
        self.make, self.journey = make, Journey(make)


def _allowed(action, world, actor, owner) -> bool:
    try:
        with db.session.begin_nested():
            action(World(world.make), actor, owner)
            raise _Done
    except Forbidden:
        return False
    except _Done:
        return True
    except DomainError:  # a gate or a value further on: the permission check was passed
        return True


class _Done(Exception):
    """Rolls the nested transaction back after a call that went through."""


@pytest.mark.parametrize("name", list(ACTIONS))
def test_who_may_act_is_what_the_domain_does(make, name):
    expected = who_may_act()[name]
    world = World(make)
    found = {}
    for role in ROLES:
        actor = make.user(role)
        someone = make.user("growth_ops")
        own = _allowed(ACTIONS[name], world, actor, actor)
        other = _allowed(ACTIONS[name], world, actor, someone)
        found[role] = "all" if own and other else "own" if own else "—" if not other else "others only?"
    assert found == expected, f"{name}: SECURITY.md says {expected}, the domain does {found}"
