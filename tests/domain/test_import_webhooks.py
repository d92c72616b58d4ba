"""Imported leads reach webhooks: each imported lead's `created` event becomes the same "webhook"
outbox delivery a lead created on a screen gets (the import writes its events in bulk, past
trail.record_event's listeners), on SQLite and on PostgreSQL (COPY), and a re-import of the same
file creates neither leads nor deliveries."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from flask import current_app

from tests.api.test_webhooks import Receiver
from tests.domain.test_imports import upload
from zarts.domain import imports, pipeline, unit
from zarts.domain.webhooks import register_endpoint
from zarts.extensions import db
from zarts.models import Event, Lead, Outbox

N = 7
CSV = "Company,Email,Contact,Service,Consent\n" + "".join(
    f"Hook {i} GmbH,ana{i}@hook{i}.de,Ana {i},SEO,{'withdrawn' if i == 3 else 'yes'}\n" for i in range(N)
)


@pytest.fixture
def receiver():
    current_app.config.update(WEBHOOKS_ALLOW_PRIVATE=True, JOBS_RETRY_INTERVALS=[0, 0])
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()


@pytest.fixture
def folder(tmp_path):
    path = str(tmp_path / "imports")
    current_app.config["IMPORT_FOLDER"] = path
    return path


def endpoint_for(make, receiver, types=("lead.created",)):
    with unit(db.session):
        endpoint, _ = register_endpoint(
            db.session,
            make.user("admin"),
            url=receiver.url,
            event_types=list(types),
            acts_as_id=make.user("growth_ops").id,
        )
    return endpoint.id


def import_file(owner, folder, batch_size):
    job = upload(owner, folder, CSV)
    with unit(db.session):
        imports.set_mapping(
            db.session, job, owner, job.version, mapping=job.mapping, options={"source": "event"}
        )
        job.status = "running"
    return imports.run_import(db.session, job.id, folder=folder, batch_size=batch_size)


def webhook_rows() -> list[Outbox]:
    return list(db.session.scalars(sa.select(Outbox).where(Outbox.job == "webhook").order_by(Outbox.id)))


def check_imported_leads_reach_the_endpoint(make, receiver, folder, batch_size):
    endpoint_id = endpoint_for(make, receiver)
    owner = make.user("growth_ops")
    db.session.commit()

    assert import_file(owner, folder, batch_size).endswith(
        f"{N} created, 0 updated, 0 skipped, 0 with errors"
    )

    db.session.expire_all()
    leads = {lead.id: lead for lead in db.session.scalars(sa.select(Lead).where(Lead.company.like("Hook %")))}
    created = {
        e.id: e.lead_id
        for e in db.session.scalars(sa.select(Event).where(Event.kind == "created", Event.lead_id.in_(leads)))
    }
    rows = webhook_rows()
    assert len(rows) == N == len(created)
    assert {row.key for row in rows} == {f"webhook:{endpoint_id}:{event_id}" for event_id in created}
    for row in rows:
        assert set(row.payload) == {"endpoint_id", "event_id", "delivery"}
        assert row.payload["endpoint_id"] == endpoint_id and row.payload["event_id"] in created
    assert len({row.payload["delivery"] for row in rows}) == N

    # Delivered as a screen-created lead's event is: signed POSTs of lead.created with the lead.
    assert all(row.status == "done" for row in rows), [(r.status, r.last_error) for r in rows]
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    assert receiver.types() == ["lead.created"] * N
    assert sorted(b["data"]["lead"]["id"] for b in bodies) == sorted(leads)
    for body in bodies:
        lead = leads[body["data"]["lead"]["id"]]
        assert body["data"]["lead"]["company"] == lead.company
        assert body["data"]["lead"]["contact_email"] == lead.contact_email
        assert body["data"]["event"]["details"] == {"source": "event"}
        assert body["data"]["event"]["lead_id"] == lead.id and body["data"]["event"]["stage"] == "new"

    # The same shape as the delivery of a lead typed in on a screen.
    with unit(db.session):
        typed = pipeline.create_lead(
            db.session, owner, title="Typed", company="Typed Co", source="website", service="seo"
        )
    screen = webhook_rows()[-1]
    event_id = db.session.scalar(
        sa.select(Event.id).where(Event.lead_id == typed.id, Event.kind == "created")
    )
    assert screen.key == f"webhook:{endpoint_id}:{event_id}"
    assert set(screen.payload) == set(rows[0].payload)

    # The same file again: nothing new, so no new deliveries.
    assert import_file(owner, folder, batch_size).endswith(
        f"0 created, 0 updated, {N} skipped, 0 with errors"
    )
    db.session.expire_all()
    assert len(webhook_rows()) == N + 1 and len(receiver.requests) == N + 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == N + 1


def test_imported_leads_reach_lead_created_webhooks(app, make, receiver, folder):
    check_imported_leads_reach_the_endpoint(make, receiver, folder, batch_size=imports.BATCH)


def test_imported_leads_reach_lead_created_webhooks_on_postgresql(pg_app, make, receiver, folder):
    check_imported_leads_reach_the_endpoint(make, receiver, folder, batch_size=3)  # three batches, COPY


@pytest.fixture(params=["app", "pg_app"])
def either_app(request):
    return request.getfixturevalue(request.param)


def test_no_deliveries_without_an_endpoint_for_lead_created(either_app, make, receiver, folder):
    endpoint_for(make, receiver, types=("deal.won",))
    owner = make.user("growth_ops")
    db.session.commit()

    assert import_file(owner, folder, batch_size=4).endswith(
        f"{N} created, 0 updated, 0 skipped, 0 with errors"
    )

    assert webhook_rows() == [] and receiver.requests == []
