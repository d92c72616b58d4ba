"""Every portal query is scoped to the signed-in contact's client: another client's object is a 404."""

from __future__ import annotations

import sqlalchemy as sa

from tests.portal.crawl import object_ids, portal_rules, urls_for
from zarts.extensions import db
from zarts.models import Contract, Event, Message, Proposal, Task


def database_state():
    """Everything a portal action could change, read fresh from the database."""
    db.session.expire_all()
    s = db.session
    return {
        "proposals": s.execute(
            sa.select(
                Proposal.id,
                Proposal.status,
                Proposal.version,
                Proposal.viewed_at,
                Proposal.accepted_at,
                Proposal.declined_at,
            ).order_by(Proposal.id)
        ).all(),
        "tasks": s.execute(sa.select(Task.id, Task.done_at, Task.version).order_by(Task.id)).all(),
        "messages": s.scalar(sa.select(sa.func.count(Message.id))),
        "events": s.scalar(sa.select(sa.func.count(Event.id))),
        "contracts": s.execute(sa.select(Contract.id, Contract.proposal_id, Contract.version)).all(),
    }


def _versions(kind: str) -> dict[int, int]:
    model = {"proposal_id": Proposal, "task_id": Task}.get(kind)
    if model is None:
        return {}
    return dict(db.session.execute(sa.select(model.id, model.version)).all())


def test_every_portal_route_answers_404_for_another_clients_objects(app, world, portal_as):
    a, b = world
    me = portal_as(a.contact)
    b_ids = object_ids(b.client.id)
    before = database_state()
    covered = set()
    for rule, methods in portal_rules(app):
        if not rule.arguments:
            continue
        (kind,) = rule.arguments
        versions = _versions(kind)
        for url in urls_for(rule, b_ids):
            object_id = int(url.rstrip("/").split("/")[3])
            for method in methods:
                for htmx in (False, True):
                    if method == "GET":
                        resp = me.get(url + "?add_on=" + str(b.add_on_ids[0]), htmx=htmx)
                    else:
                        # A well-formed attempt: the object's real version and B's own add-ons.
                        resp = me.post(
                            url,
                            {
                                "version": versions.get(object_id, 1),
                                "add_on": b.add_on_ids,
                                "done": "1",
                                "reason": "Not for us",
                                "body": "hello",
                            },
                            htmx=htmx,
                        )
                    body = resp.get_data(as_text=True)
                    assert resp.status_code == 404, (method, url, htmx, resp.status_code)
                    assert "SAFE-B" not in body and "CANARY" not in body
                    covered.add(rule.endpoint)
    assert covered == {r.endpoint for r, _ in portal_rules(app) if r.arguments}
    assert {
        "portal.proposal",
        "portal.accept",
        "portal.decline",
        "portal.proposal_total",
        "portal.tick",
        "portal.project",
        "portal.report",
    } <= covered
    assert database_state() == before, "a refused request changed something"


def test_lists_hold_only_the_clients_own_objects(app, world, portal_as):
    for me, other in (world, world[::-1]):
        session = portal_as(me.contact)
        for rule, methods in portal_rules(app):
            if rule.arguments or "GET" not in methods:
                continue
            for htmx in (False, True):
                resp = session.get(rule.rule, htmx=htmx)
                body = resp.get_data(as_text=True)
                assert resp.status_code == 200, rule.rule
                assert f"SAFE-{other.tag}" not in body, rule.rule
                assert f"SAFE-{me.tag}" in body, rule.rule


def test_accepting_or_declining_another_clients_proposal_changes_nothing(world, portal_as):
    a, b = world
    me = portal_as(a.contact)
    before = database_state()
    p = b.open_proposal
    for action in ("accept", "decline"):
        resp = me.post(
            f"/portal/proposals/{p.id}/{action}",
            {"version": p.version, "add_on": b.add_on_ids, "reason": "No"},
            htmx=True,
        )
        assert resp.status_code == 404
    assert database_state() == before
    db.session.refresh(p)
    assert p.status == "sent" and p.viewed_at is None


def test_ticking_another_clients_item_is_404_and_changes_nothing(world, portal_as):
    a, b = world
    me = portal_as(a.contact)
    item = b.checklist[0]
    before = database_state()
    resp = me.post(f"/portal/checklist/{item.id}", {"version": item.version, "done": "1"}, htmx=True)
    assert resp.status_code == 404
    assert database_state() == before
    db.session.refresh(item)
    assert item.done_at is None


def test_staff_are_not_client_contacts_and_get_403(app, world, make, portal_as):
    a, _ = world
    ids = object_ids(a.client.id)
    for role in ("admin", "growth_ops", "approver", "delivery"):
        staff = portal_as(make.user(role))
        db.session.commit()
        for rule, methods in portal_rules(app):
            url = next(urls_for(rule, ids), None)
            if url is None:
                continue
            for method in methods:
                resp = staff.get(url) if method == "GET" else staff.post(url, {"version": 1})
                assert resp.status_code == 403, (role, method, url)
                assert "SAFE-A" not in resp.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in(app, world):
    visitor = app.test_client()
    a, _ = world
    for rule, methods in portal_rules(app):
        url = next(urls_for(rule, object_ids(a.client.id)), None)
        if url is None or "GET" not in methods:
            continue
        resp = visitor.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url
