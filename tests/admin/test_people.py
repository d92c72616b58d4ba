"""Users (admins only, no secrets on any page) and clients."""

from __future__ import annotations

from tests.admin.conftest import form_fields, settle
from tests.links import fresh_link
from zarts.extensions import db
from zarts.models import User


def test_user_pages_never_show_password_hashes_or_session_tokens(client, auth, make):
    admin = auth.login_as(make.user("admin"))
    admin_id, secrets = admin.id, (admin.password_hash, admin.session_token)
    settle()

    pages = [
        client.get(url).get_data(as_text=True)
        for url in ("/admin/users/", "/admin/users/new/", f"/admin/users/edit/?id={admin_id}")
    ]

    for page in pages:
        assert not any(secret in page for secret in secrets)
        assert "password" not in page.lower() and "session_token" not in page
    assert set(form_fields(pages[2])) == {"csrf_token", "email", "name", "role", "client", "active"}


def test_deactivating_a_user_ends_their_sessions(client, auth, make):
    auth.login_as(make.user("admin"))
    staff = make.user("growth_ops", email="Sam@Zarts.test")
    staff_id, old_token = staff.id, staff.session_token
    settle()
    form = form_fields(client.get(f"/admin/users/edit/?id={staff_id}").get_data(as_text=True))
    form.pop("active")  # an unticked checkbox is not submitted

    resp = auth.post(f"/admin/users/edit/?id={staff_id}", form)

    assert resp.status_code == 302
    settle()
    staff = db.session.get(User, staff_id)
    assert staff.active is False and staff.session_token != old_token
    assert staff.email == "sam@zarts.test"  # sign-in compares lower-cased addresses


def test_renaming_a_user_keeps_their_sessions(client, auth, make):
    auth.login_as(make.user("admin"))
    staff = make.user("growth_ops")
    staff_id, token = staff.id, staff.session_token
    settle()
    form = form_fields(client.get(f"/admin/users/edit/?id={staff_id}").get_data(as_text=True))

    auth.post(f"/admin/users/edit/?id={staff_id}", form | {"name": "Sam Taylor"})

    settle()
    staff = db.session.get(User, staff_id)
    assert (staff.name, staff.session_token) == ("Sam Taylor", token)


def test_a_client_contact_is_created_bound_to_a_client(client, auth, make):
    auth.login_as(make.user("admin"))
    acme_id = make.client(name="Acme").id
    settle()

    resp = auth.post(
        "/admin/users/new/",
        {"email": "Jo@Acme.test", "name": "Jo", "role": "client", "client": str(acme_id), "active": "y"},
    )

    assert resp.status_code == 302
    jo = db.session.execute(db.select(User).filter_by(email="jo@acme.test")).scalar_one()
    assert (jo.client_id, jo.password_hash) == (acme_id, None)  # they set a password from an invite


def test_a_changed_email_spends_the_links_sent_to_the_old_address(client, auth, make):
    """A reset link emailed to the old address no longer opens the account once an admin changes it."""
    auth.login_as(make.user("admin"))
    person = make.user("growth_ops", email="old@zarts.test")
    person_id = person.id
    link = fresh_link(person, "reset")
    settle()
    assert client.get(link).status_code == 200
    form = form_fields(client.get(f"/admin/users/edit/?id={person_id}").get_data(as_text=True))

    auth.post(f"/admin/users/edit/?id={person_id}", form | {"email": "new@zarts.test"})

    page = client.get(link)
    assert page.status_code == 400 and "no longer valid" in page.get_data(as_text=True)
