"""Attachments on S3-compatible storage, against a real S3 endpoint over HTTP (moto's server): the
upload lands in the bucket, downloads stream through the app's access check, deleting is soft, and a
storage that fails gives the user a message with nothing written."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from tests.files.conftest import PNG, free_port, upload
from zarts.domain import approvals, attachments
from zarts.extensions import db
from zarts.models import Attachment, Proposal


def files_of(lead) -> list[Attachment]:
    db.session.expire_all()
    return db.session.scalars(sa.select(Attachment).where(Attachment.lead_id == lead.id)).all()


def test_an_upload_through_the_lead_page_is_stored_in_the_bucket_and_read_back(
    make, sign_in, auth, client, s3
):
    lead = make.lead()
    sign_in(lead.owner)
    data = b"%PDF-1.7\n" + bytes(range(256)) * 400
    resp = upload(auth, lead, data, "audit evidence.pdf")
    assert resp.status_code == 200 and "File attached." in resp.get_data(as_text=True)
    (row,) = files_of(lead)
    assert s3.keys() == [row.storage_key] and s3.read(row.storage_key) == data
    got = client.get(f"/workspace/leads/{lead.id}/files/{row.id}")
    assert got.status_code == 200 and got.data == data and got.mimetype == "application/pdf"
    assert got.headers["Content-Disposition"].startswith('attachment; filename="audit evidence.pdf"')
    assert "Location" not in got.headers  # streamed by the app, never a redirect to the bucket


def test_a_big_file_goes_up_in_parts_and_comes_back_whole(app, make, sign_in, auth, client, s3):
    app.config["ATTACHMENT_MAX_BYTES"] = 20 * 1024 * 1024
    lead = make.lead()
    sign_in(lead.owner)
    data = b"%PDF-1.7\n" + bytes(range(256)) * (10 * 4096)  # 10 MB: two parts (8 MB each at most)
    assert upload(auth, lead, data, "scan.pdf").status_code == 200
    (row,) = files_of(lead)
    assert s3.head(row.storage_key)["ETag"].strip('"').endswith("-2")  # a multipart upload
    got = client.get(f"/workspace/leads/{lead.id}/files/{row.id}")
    assert got.status_code == 200 and got.data == data


def test_only_who_may_read_the_file_gets_it_from_the_bucket(app, make, journey, sign_in, auth, s3):
    lead = make.lead()
    journey.to(lead, "contract")
    proposal = db.session.scalars(sa.select(Proposal).where(Proposal.lead_id == lead.id)).one()
    row = attachments.add_attachment(
        db.session, lead.owner, proposal, filename="case.png", stream=io.BytesIO(PNG), max_bytes=10**6
    )
    db.session.commit()
    assert s3.keys() == [row.storage_key]
    anonymous = app.test_client()
    assert anonymous.get(f"/workspace/leads/{lead.id}/files/{row.id}").status_code in (302, 303)
    assert anonymous.get(f"/portal/files/{row.id}").status_code in (302, 303)
    own = journey.contact(lead)
    sign_in(own)
    assert auth.client.get(f"/portal/files/{row.id}").status_code == 404  # not approved for the client yet
    approvals.decide(
        db.session,
        attachments.request_client_copy(db.session, row, lead.owner),
        make.user("approver"),
        None,
        approve=True,
    )
    sign_in(make.user("client", client=make.client()))
    assert auth.client.get(f"/portal/files/{row.id}").status_code == 404
    assert auth.client.get(f"/workspace/leads/{lead.id}/files/{row.id}").status_code == 403
    sign_in(own)
    got = auth.client.get(f"/portal/files/{row.id}")
    assert got.status_code == 200 and got.data == PNG


def test_soft_delete_keeps_the_object_but_hides_the_file(make, sign_in, auth, client, s3):
    lead = make.lead()
    sign_in(lead.owner)
    upload(auth, lead, PNG, "shot.png")
    (row,) = files_of(lead)
    resp = auth.post(f"/workspace/leads/{lead.id}/files/{row.id}/delete", htmx=True)
    assert resp.status_code == 200 and "shot.png" not in resp.get_data(as_text=True)
    assert client.get(f"/workspace/leads/{lead.id}/files/{row.id}").status_code == 404
    assert s3.keys() == [row.storage_key] and s3.read(row.storage_key) == PNG


@pytest.mark.parametrize("fault", ["no such bucket", "server down"])
def test_a_storage_that_fails_is_a_message_and_no_row(app, make, sign_in, auth, s3, fault):
    lead = make.lead()
    sign_in(lead.owner)
    if fault == "no such bucket":
        app.config["S3_BUCKET"] = "zarts-no-such-bucket"
    else:
        app.config["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    resp = upload(auth, lead, PNG, "shot.png")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 503 and "The file could not be stored" in html and "Nothing was saved" in html
    assert files_of(lead) == [] and s3.keys() == []


def test_a_download_while_the_storage_is_down_is_a_message(app, make, sign_in, auth, client, s3):
    lead = make.lead()
    sign_in(lead.owner)
    upload(auth, lead, PNG, "shot.png")
    (row,) = files_of(lead)
    app.config["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"
    got = client.get(f"/workspace/leads/{lead.id}/files/{row.id}")
    assert got.status_code == 503 and "The file storage is not answering" in got.get_data(as_text=True)
