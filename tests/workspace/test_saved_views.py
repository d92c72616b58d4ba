"""The Views menu: save the board's filters under a name, open a view, share and delete, on the
board, My tasks and the admin lists; the pages it sits on run no extra statement."""

from __future__ import annotations

from tests.workspace.conftest import HX
from zarts.extensions import db
from zarts.models import SavedView


def test_save_the_board_s_filters_and_open_them_again(client, auth, sign_in, make):
    ops = sign_in(make.user("growth_ops"))

    resp = auth.post(
        "/workspace/views",
        {"page": "board", "name": "My SEO", "query": "owner=me&service=seo&bogus=1", "shared": "1"},
    )

    assert resp.status_code == 303 and resp.headers["Location"] == "/workspace/?owner=me&service=seo"
    view = db.session.query(SavedView).one()
    assert (view.owner_id, view.shared) == (ops.id, True)
    menu = client.get(
        "/workspace/views?page=board", headers={**HX, "HX-Current-URL": "http://x/workspace/?source=ads"}
    )
    html = menu.get_data(as_text=True)
    assert 'href="/workspace/?owner=me&amp;service=seo">My SEO</a>' in html and "shared" in html
    assert 'name="query" value="source=ads"' in html  # "save current view" carries what is shown now


def test_the_menu_is_on_the_board_and_my_tasks_without_a_statement(client, sign_in, make, count_queries):
    sign_in(make.user("growth_ops"))
    for url in ("/workspace/?owner=me", "/workspace/tasks"):
        html = client.get(url).get_data(as_text=True)
        assert 'class="views-menu"' in html and 'hx-trigger="toggle"' in html
    html = client.get("/workspace/?owner=me").get_data(as_text=True)
    assert "/workspace/views?page=board&amp;current=owner%3Dme" in html  # the no-JS way in


def test_a_refused_name_comes_back_on_the_form(client, auth, sign_in, make):
    sign_in(make.user("growth_ops"))
    auth.post("/workspace/views", {"page": "board", "name": "Mine", "query": ""})

    resp = auth.post("/workspace/views", {"page": "board", "name": "mine", "query": "owner=me"})

    assert resp.status_code == 400
    assert "already have a view called" in resp.get_data(as_text=True)
    assert db.session.query(SavedView).count() == 1


def test_someone_else_s_views_private_404_shared_403(client, auth, sign_in, make):
    owner = make.user("growth_ops")
    private = SavedView(owner_id=owner.id, page="board", name="Private", query="", shared=False)
    shared = SavedView(owner_id=owner.id, page="board", name="Shared", query="", shared=True)
    db.session.add_all([private, shared])
    db.session.flush()
    sign_in(make.user("growth_ops"))

    assert auth.post(f"/workspace/views/{private.id}/delete").status_code == 404
    resp = auth.post(f"/workspace/views/{shared.id}/delete")
    assert resp.status_code == 403 and "Only the owner of this view" in resp.get_data(as_text=True)
    assert db.session.query(SavedView).count() == 2


def test_owner_renames_and_deletes(client, auth, sign_in, make):
    ops = sign_in(make.user("growth_ops"))
    auth.post("/workspace/views", {"page": "tasks", "name": "Today", "query": ""})
    view = db.session.query(SavedView).one()

    resp = auth.post(f"/workspace/views/{view.id}", {"name": "This week", "shared": "1"})
    assert resp.status_code == 303
    db.session.expire_all()
    assert (view.name, view.shared) == ("This week", True)
    resp = auth.post(f"/workspace/views/{view.id}/delete", {"next": "/workspace/tasks"})
    assert resp.status_code == 303 and resp.headers["Location"] == "/workspace/tasks"
    assert db.session.query(SavedView).filter_by(owner_id=ops.id).count() == 0


def test_admin_lists_carry_the_menu_with_their_arguments(client, auth, sign_in, make):
    sign_in(make.user("growth_ops"))

    html = client.get("/admin/leads/?search=acme&page=2").get_data(as_text=True)

    assert 'class="views-menu"' in html and 'name="page" value="admin:leads"' in html
    assert 'name="query" value="search=acme"' in html
    resp = auth.post("/workspace/views", {"page": "admin:leads", "name": "Acme", "query": "search=acme"})
    assert resp.headers["Location"] == "/admin/leads/?search=acme"


def test_admin_views_only_for_tables_the_role_sees(client, auth, sign_in, make):
    sign_in(make.user("approver"))  # no clients table in their admin
    assert client.get("/workspace/views?page=admin:clients").status_code == 404
    assert (
        auth.post("/workspace/views", {"page": "admin:clients", "name": "X", "query": ""}).status_code == 404
    )


def test_client_contacts_have_no_views(client, auth, sign_in, make):
    sign_in(make.user("client"))
    assert client.get("/workspace/views?page=board").status_code == 403
    assert auth.post("/workspace/views", {"page": "board", "name": "X", "query": ""}).status_code == 403
