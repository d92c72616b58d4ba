"""The contracts view: created and edited through zarts.domain.contracts (issue 16: a contract was set
signed in the admin with no signing date, no step task and no event)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.admin.conftest import flashes, form_fields, settle
from zarts.domain import contracts
from zarts.extensions import db
from zarts.models import Contract, Event, Lead, Task, User, today


def contract_at_contract_stage(make, journey, owner) -> tuple[int, int]:
    lead = journey.to(make.lead(owner=owner), "contract")
    contract = contracts.contract_for(db.session, lead)
    return lead.id, contract.id


def edit_form(client, contract_id) -> dict[str, str]:
    return form_fields(client.get(f"/admin/contracts/edit/?id={contract_id}").get_data(as_text=True))


def contract_events(lead_id) -> list[Event]:
    return list(
        db.session.scalars(sa.select(Event).where(Event.lead_id == lead_id, Event.kind == "contract_updated"))
    )


def test_a_contract_signed_in_the_admin_gets_its_date_its_step_task_and_its_event(
    client, auth, make, journey
):
    owner = auth.login_as(make.user("growth_ops"))
    owner_id = owner.id
    lead_id, contract_id = contract_at_contract_stage(make, journey, owner)
    settle()
    form = edit_form(client, contract_id)
    assert "signed_at" not in form and "proposal" not in form

    resp = auth.post(
        f"/admin/contracts/edit/?id={contract_id}",
        form | {"state": "signed", "payment_state": "invoiced", "signed_at": "2001-02-03 04:05:06"},
    )

    assert resp.status_code == 302
    settle()
    contract = db.session.get(Contract, contract_id)
    assert contract.state == "signed" and contract.signed_at.date() == today()
    step = db.session.scalars(sa.select(Task).where(Task.key == f"contract:{contract_id}:signed")).one()
    assert (step.kind, step.lead_id, step.owner_id) == ("contract_step", lead_id, owner_id)
    (event,) = contract_events(lead_id)
    assert (event.payload["state"], event.payload["via"]) == ("signed", "admin")
    assert {"field": "state", "old": "draft", "new": "signed"} in event.payload["changes"]


def test_another_growth_ops_user_cannot_change_the_contract(client, auth, make, journey):
    lead_id, contract_id = contract_at_contract_stage(make, journey, make.user("growth_ops"))
    auth.login_as(make.user("growth_ops"))
    settle()

    resp = auth.post(
        f"/admin/contracts/edit/?id={contract_id}", edit_form(client, contract_id) | {"state": "sent"}
    )

    assert flashes(resp.get_data(as_text=True)) == [
        "Not saved: Only the owner of this opportunity (or an admin) can update contracts."
    ]
    settle()
    assert (db.session.get(Contract, contract_id).state, contract_events(lead_id)) == ("draft", [])


def test_a_contract_saved_from_an_outdated_form_is_refused_in_words(client, auth, make, journey):
    owner = auth.login_as(make.user("growth_ops"))
    owner_id = owner.id
    lead_id, contract_id = contract_at_contract_stage(make, journey, owner)
    settle()
    mine = edit_form(client, contract_id) | {"launch_blockers": "Mine"}
    contracts.update_contract(
        db.session,
        db.session.get(Lead, lead_id),
        db.session.get(User, owner_id),
        None,
        launch_blockers="Theirs",
    )  # someone saves first
    settle()

    resp = auth.post(f"/admin/contracts/edit/?id={contract_id}", mine)

    assert flashes(resp.get_data(as_text=True)) == [
        "Not saved: This contract was changed by someone else since you opened it. "
        "Review the current version and try again."
    ]
    settle()
    assert db.session.get(Contract, contract_id).launch_blockers == "Theirs"


def test_a_contract_created_in_the_admin_goes_through_the_domain(client, auth, make, journey):
    owner = auth.login_as(make.user("growth_ops"))
    lead_id = journey.to(make.lead(owner=owner), "contract").id
    kickoff = today() + timedelta(days=10)
    settle()
    form = form_fields(client.get("/admin/contracts/new/").get_data(as_text=True))
    assert "signed_at" not in form
    form |= {"lead": str(lead_id), "state": "sent", "kickoff_date": kickoff.isoformat()}

    created = auth.post("/admin/contracts/new/", form)
    again = auth.post("/admin/contracts/new/", form)

    assert created.status_code == 302
    assert "Not saved: This opportunity already has a contract: edit that one." in flashes(
        again.get_data(as_text=True)
    )
    settle()
    contract = db.session.scalars(sa.select(Contract)).one()
    assert (contract.lead_id, contract.state, contract.kickoff_date) == (lead_id, "sent", kickoff)
    assert [e.payload["state"] for e in contract_events(lead_id)] == ["sent"]
