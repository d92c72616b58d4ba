"""The merge screens (zarts.workspace.merge) and the lead page's duplicates box: pick, compare, choose,
confirm; who may; a stale version; merged leads leave the board and point at their survivor."""

from __future__ import annotations

import sqlalchemy as sa

from zarts.extensions import db
from zarts.models import Client, Event, Lead, User


def twins(make, owner, **dup):
    survivor = make.lead(
        owner=owner,
        title="Acme website",
        company="Acme GmbH",
        contact_email="ana@acme.de",
        contact_phone=None,
    )
    duplicate = make.lead(
        owner=owner,
        title="Acme SEO",
        company="ACME",
        contact_email="ana@acme.de",
        contact_phone="+49 30 1234",
        **dup,
    )
    return survivor, duplicate


def confirm(auth, survivor, duplicate, **extra):
    data = {
        "survivor": survivor.id,
        "duplicate": duplicate.id,
        "survivor_version": survivor.version,
        "duplicate_version": duplicate.version,
        **extra,
    }
    return auth.post("/workspace/merge/leads", data)


def test_the_box_offers_the_duplicate_and_the_merge_screen_compares_field_by_field(
    app, client, sign_in, make, owner, hx_get
):
    survivor, duplicate = twins(make, owner)
    sign_in(owner)
    page = client.get(f"/workspace/leads/{survivor.id}").get_data(as_text=True)
    assert f'hx-get="/workspace/leads/{survivor.id}/duplicates"' in page  # loaded by its own request
    box = hx_get(f"/workspace/leads/{survivor.id}/duplicates").get_data(as_text=True)
    assert f"#{duplicate.id} Acme SEO" in box and "same contact email" in box
    link = f"/workspace/merge/leads?survivor={survivor.id}&amp;duplicate={duplicate.id}"
    assert link in box
    assert client.get(f"/workspace/leads/{survivor.id}/duplicates").status_code == 200  # also a full page

    screen = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "Contact phone" in screen and "+49 30 1234" in screen and "Acme GmbH" in screen
    assert "Contact email" not in screen  # the same in both: nothing to choose
    assert 'name="keep_contact_phone" value="duplicate" checked' in screen  # blank on the survivor

    start = client.get(f"/workspace/merge/leads?survivor={survivor.id}&q=Acme+SEO").get_data(as_text=True)
    assert f"duplicate={duplicate.id}" in start


def test_confirming_merges_and_the_survivor_shows_both_histories(app, client, sign_in, auth, make, owner):
    survivor, duplicate = twins(make, owner)
    sign_in(owner)
    resp = confirm(auth, survivor, duplicate, keep_title="duplicate")
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/workspace/leads/{survivor.id}")
    db.session.expire_all()
    s, d = db.session.get(Lead, survivor.id), db.session.get(Lead, duplicate.id)
    assert (s.title, s.contact_phone) == ("Acme SEO", "+49 30 1234")
    assert (d.merged_into_id, d.stage, d.lost_reason) == (s.id, "lost", "duplicate")

    page = client.get(f"/workspace/leads/{s.id}").get_data(as_text=True)
    assert f"Lead #{d.id} (Acme SEO) merged into this one" in page
    assert f"Merged into lead #{s.id}" in page  # the duplicate's own event, on the survivor's timeline

    merged_page = client.get(f"/workspace/leads/{d.id}").get_data(as_text=True)
    assert f'Merged into <a href="/workspace/leads/{s.id}">lead #{s.id}</a>' in merged_page

    board = client.get("/workspace/").get_data(as_text=True)
    assert f'/workspace/leads/{d.id}"' not in board and f'/workspace/leads/{s.id}"' in board

    again = confirm(auth, s, d)  # a double submit: refused in words, nothing changes
    assert again.status_code == 400 and "already merged" in again.get_data(as_text=True)


def test_a_stale_version_is_refused_with_the_current_state(app, client, sign_in, auth, make, owner):
    survivor, duplicate = twins(make, owner)
    sign_in(owner)
    resp = confirm(auth, survivor, duplicate, duplicate_version=duplicate.version + 1)
    assert resp.status_code == 409 and "Changed meanwhile" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Lead, duplicate.id).merged_into_id is None


def test_who_may_merge(app, client, sign_in, auth, make, owner):
    survivor, duplicate = twins(make, owner)
    for role in ("approver", "delivery"):
        sign_in(make.user(role))
        screen = client.get(f"/workspace/merge/leads?survivor={survivor.id}&duplicate={duplicate.id}")
        assert screen.status_code == 200 and "you can look, not merge" in screen.get_data(as_text=True)
        assert "Merge #" not in screen.get_data(as_text=True)
        refused = confirm(auth, survivor, duplicate)
        assert refused.status_code == 403 and "Only growth ops" in refused.get_data(as_text=True)
    sign_in(make.user("growth_ops"))  # not the owner of either
    resp = confirm(auth, survivor, duplicate)
    assert resp.status_code == 403 and "Only the owner" in resp.get_data(as_text=True)
    sign_in(make.user("client"))
    assert client.get(f"/workspace/leads/{survivor.id}/duplicates").status_code == 403
    db.session.expire_all()
    assert db.session.get(Lead, duplicate.id).merged_into_id is None
    sign_in(make.user("admin"))
    assert confirm(auth, survivor, duplicate).status_code == 303


def test_merging_a_lead_into_itself_or_a_won_duplicate_says_why(
    app, client, sign_in, auth, make, owner, journey
):
    lead = make.lead(owner=owner)
    sign_in(owner)
    resp = confirm(auth, lead, lead)
    assert resp.status_code == 400 and "cannot be merged into itself" in resp.get_data(as_text=True)
    won = journey.to(make.lead(owner=owner, client_id=make.client().id), "won")
    sign_in(owner)
    resp = confirm(auth, lead, won)
    assert resp.status_code == 400 and "is won" in resp.get_data(as_text=True)


def test_merging_two_clients_moves_contacts_so_the_portal_shows_the_survivor(
    app, client, sign_in, auth, make, owner
):
    keep = make.client("Northwind", owner_id=owner.id)
    dup = make.client("Northwind Ltd", owner_id=owner.id, domain="northwind.test")
    contact = make.user("client", client=dup)
    lead = make.lead(owner=owner, client_id=dup.id)
    sign_in(owner)
    screen = client.get(f"/workspace/merge/clients?survivor={keep.id}").get_data(as_text=True)
    assert f"duplicate={dup.id}" in screen  # offered: same normalised name
    compare = client.get(f"/workspace/merge/clients?survivor={keep.id}&duplicate={dup.id}").get_data(
        as_text=True
    )
    assert "Web domain" in compare and "northwind.test" in compare
    resp = auth.post(
        "/workspace/merge/clients",
        {
            "survivor": keep.id,
            "duplicate": dup.id,
            "survivor_version": keep.version,
            "duplicate_version": dup.version,
        },
    )
    assert resp.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, contact.id).client_id == keep.id
    assert db.session.get(Lead, lead.id).client_id == keep.id
    assert db.session.get(Client, dup.id).merged_into_id == keep.id
    assert (
        db.session.scalar(sa.select(Event.actor_id).where(Event.lead_id == lead.id, Event.kind == "merged"))
        == owner.id
    )

    sign_in(db.session.get(User, contact.id))  # the contact of the merged client: the survivor's portal
    home = client.get("/portal/")
    assert home.status_code == 200


def test_every_staff_role_opens_the_screens_as_page_and_fragment(app, client, sign_in, make, owner, hx_get):
    survivor, duplicate = twins(make, owner)
    keep, dup = make.client("Globex"), make.client("Globex Inc")
    urls = (
        "/workspace/merge/leads",
        "/workspace/merge/leads?q=Acme",
        f"/workspace/leads/{survivor.id}/duplicates",
        f"/workspace/merge/leads?survivor={survivor.id}&duplicate={duplicate.id}",
        "/workspace/merge/clients?q=Globex",
        f"/workspace/merge/clients?survivor={keep.id}&duplicate={dup.id}",
    )
    for role in ("admin", "growth_ops", "approver", "delivery"):
        sign_in(make.user(role))
        for url in urls:
            page, fragment = client.get(url), hx_get(url)
            assert page.status_code == fragment.status_code == 200, (role, url)
            assert "<!doctype html>" in page.get_data(as_text=True)
            assert "<!doctype html>" not in fragment.get_data(as_text=True)
    assert client.get("/workspace/merge/leads?survivor=999999").status_code == 404
