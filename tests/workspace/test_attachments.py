"""The lead page's Attachments box: upload (type by content, size limit), list, download, delete, and
who may read a file (staff through the lead; a client contact only an approved file of their own)."""

from __future__ import annotations

import io
import os

import pytest
import sqlalchemy as sa

from tests.workspace.conftest import HX
from zarts.domain import approvals, attachments
from zarts.extensions import db
from zarts.models import Attachment, Event, Proposal

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def folder(app, tmp_path):
    app.config["ATTACHMENT_FOLDER"] = str(tmp_path / "files")
    return tmp_path / "files"


def upload(auth, lead, data: bytes, name: str, target: str = "lead", htmx: bool = True):
    return auth.post(
        f"/workspace/leads/{lead.id}/files",
        {"file": (io.BytesIO(data), name), "target": target},
        htmx=htmx,
        content_type="multipart/form-data",
    )


def stored(folder) -> list[str]:
    return [name for _, _, names in os.walk(folder) for name in names]


def files_of(lead) -> list[Attachment]:
    db.session.expire_all()
    return db.session.scalars(sa.select(Attachment).where(Attachment.lead_id == lead.id)).all()


def test_the_lead_page_loads_the_box_and_the_box_is_a_page_too(make, sign_in, client):
    lead = make.lead()
    sign_in(lead.owner)
    page = client.get(f"/workspace/leads/{lead.id}").get_data(as_text=True)
    assert f'hx-get="/workspace/leads/{lead.id}/files" hx-trigger="load"' in page
    full = client.get(f"/workspace/leads/{lead.id}/files").get_data(as_text=True)
    fragment = client.get(f"/workspace/leads/{lead.id}/files", headers=HX).get_data(as_text=True)
    assert "<html" in full and "<html" not in fragment
    for html in (full, fragment):
        assert 'enctype="multipart/form-data"' in html and "No files yet." in html


def test_a_png_renamed_exe_is_a_png_and_downloads_as_a_file(make, sign_in, auth, client):
    lead = make.lead()
    sign_in(lead.owner)
    resp = upload(auth, lead, PNG, "holiday.exe")
    assert resp.status_code == 200 and "File attached." in resp.get_data(as_text=True)
    (row,) = files_of(lead)
    assert (row.filename, row.content_type) == ("holiday.png", "image/png")
    assert "holiday.png" in resp.get_data(as_text=True)
    got = client.get(f"/workspace/leads/{lead.id}/files/{row.id}")
    assert got.status_code == 200 and got.data == PNG and got.mimetype == "image/png"
    assert got.headers["Content-Disposition"].startswith('attachment; filename="holiday.png"')
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in got.headers["Cache-Control"]
    assert (
        db.session.scalar(sa.select(Event.kind).where(Event.lead_id == lead.id).order_by(Event.id.desc()))
        == "attachment_added"
    )


def test_an_html_file_renamed_png_is_refused_where_the_user_is(make, sign_in, auth, folder):
    lead = make.lead()
    sign_in(lead.owner)
    resp = upload(auth, lead, b"<html><body><script>alert(1)</script></body></html>", "cat.png")
    assert resp.status_code == 400
    assert "Web pages (HTML) and SVG images are not accepted" in resp.get_data(as_text=True)
    assert files_of(lead) == [] and stored(folder) == []


def test_an_oversize_file_is_refused_with_a_message_and_nothing_stored(app, make, sign_in, auth, folder):
    app.config["ATTACHMENT_MAX_BYTES"] = 2000
    lead = make.lead()
    sign_in(lead.owner)
    # Slightly over: the request fits the slack, the domain stops the copy.
    resp = upload(auth, lead, PNG + b"\x00" * 3000, "big.png")
    assert resp.status_code == 400 and "larger than" in resp.get_data(as_text=True)
    # Far over: refused by its Content-Length before anything is read.
    resp = upload(auth, lead, PNG + b"\x00" * (2 * 1024 * 1024), "huge.png")
    assert resp.status_code == 413 and "larger than" in resp.get_data(as_text=True)
    assert files_of(lead) == [] and stored(folder) == []


def test_soft_delete_hides_the_file_and_records_an_event(make, sign_in, auth, client):
    lead = make.lead()
    sign_in(lead.owner)
    upload(auth, lead, PNG, "shot.png")
    (row,) = files_of(lead)
    resp = auth.post(f"/workspace/leads/{lead.id}/files/{row.id}/delete", htmx=True)
    assert resp.status_code == 200 and "shot.png" not in resp.get_data(as_text=True)
    assert auth.post(f"/workspace/leads/{lead.id}/files/{row.id}/delete", htmx=True).status_code == 404
    (row,) = files_of(lead)
    assert row.deleted_at is not None
    assert client.get(f"/workspace/leads/{lead.id}/files/{row.id}").status_code == 404
    assert (
        "attachment_deleted"
        in db.session.scalars(sa.select(Event.kind).where(Event.lead_id == lead.id)).all()
    )


def test_another_owner_cannot_upload_or_delete(make, sign_in, auth):
    lead = make.lead()
    row = attachments.add_attachment(
        db.session, lead.owner, lead, filename="a.png", stream=io.BytesIO(PNG), max_bytes=10**6
    )
    sign_in(make.user("growth_ops"))
    assert upload(auth, lead, PNG, "b.png").status_code == 403
    assert auth.post(f"/workspace/leads/{lead.id}/files/{row.id}/delete", htmx=True).status_code == 403
    assert len(files_of(lead)) == 1 and files_of(lead)[0].deleted_at is None


def test_files_of_the_audit_proposal_and_contract_are_listed_with_a_target_selector(
    make, journey, sign_in, auth
):
    lead = make.lead()
    journey.to(lead, "contract")
    proposal = db.session.scalars(sa.select(Proposal).where(Proposal.lead_id == lead.id)).one()
    sign_in(lead.owner)
    resp = upload(auth, lead, PNG, "signed.png", target=f"proposal:{proposal.id}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and f'value="proposal:{proposal.id}"' in html and 'value="audit:' in html
    assert "signed.png" in html and "Ask to share with the client" in html
    assert upload(auth, lead, PNG, "x.png", target="proposal:999999").status_code == 400
    assert upload(auth, lead, PNG, "x.png", target="lead:1; drop").status_code == 200  # lead: the lead itself


def test_access_anonymous_is_sent_to_sign_in_and_a_client_contact_gets_nothing(
    app, make, journey, sign_in, auth
):
    lead = make.lead()
    journey.to(lead, "contract")
    proposal = db.session.scalars(sa.select(Proposal).where(Proposal.lead_id == lead.id)).one()
    row = attachments.add_attachment(
        db.session, lead.owner, proposal, filename="case.png", stream=io.BytesIO(PNG), max_bytes=10**6
    )
    approvals.decide(
        db.session,
        attachments.request_client_copy(db.session, row, lead.owner),
        make.user("approver"),
        None,
        approve=True,
    )
    db.session.commit()
    anonymous = app.test_client().get(f"/workspace/leads/{lead.id}/files/{row.id}")
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"]
    assert app.test_client().get(f"/portal/files/{row.id}").status_code in (302, 303)
    own = journey.contact(lead)
    other = make.user("client", client=make.client())
    sign_in(other)
    assert auth.client.get(f"/portal/files/{row.id}").status_code == 404
    assert auth.client.get(f"/workspace/leads/{lead.id}/files/{row.id}").status_code == 403
    sign_in(own)
    got = auth.client.get(f"/portal/files/{row.id}")
    assert got.status_code == 200 and got.data == PNG
    assert got.headers["Content-Disposition"].startswith("attachment;")
    page = auth.client.get(f"/portal/proposals/{proposal.id}").get_data(as_text=True)
    assert f'href="/portal/files/{row.id}"' in page and "case.png" in page
    sign_in(lead.owner)
    attachments.delete_attachment(db.session, db.session.get(Attachment, row.id), lead.owner)
    sign_in(own)
    assert auth.client.get(f"/portal/files/{row.id}").status_code == 404
