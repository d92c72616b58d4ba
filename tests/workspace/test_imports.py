"""The Import pages over HTTP: upload, mapping and preview, start, progress, error report; who may."""

from __future__ import annotations

import io
import os

import pytest
import sqlalchemy as sa

from zarts.extensions import db
from zarts.models import ImportJob, Lead

from .conftest import HX

CSV = (
    "Company,E-mail,Contact,Service,Due\n"
    "Acme GmbH,ana@acme.de,Ana,SEO,2999-01-10\n"
    "Bolt Ltd,ben@bolt.co.uk,Ben,Plumbing,\n"
    "Cobalt Inc,cy@cobalt.io,Cy,Analytics,\n"
).encode()


@pytest.fixture(autouse=True)
def folder(app, tmp_path):
    app.config["IMPORT_FOLDER"] = str(tmp_path / "imports")


def send(auth, content, filename="leads.csv", kind="leads"):
    return auth.post(
        "/workspace/imports",
        {"kind": kind, "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def leads() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Lead))


def import_all(client, auth, content=CSV, source="event"):
    resp = send(auth, content)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    job_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/workspace/imports/{job_id}").get_data(as_text=True)
    assert "Save and preview" in page and 'value="company" selected' in page
    job = db.session.get(ImportJob, job_id)
    form = {f"map-{i}": job.mapping.get(h, "") for i, h in enumerate(job.headers)}
    resp = auth.post(
        f"/workspace/imports/{job_id}/mapping",
        {**form, "source": source, "version": job.version, "duplicate_action": "skip", "consent": "granted"},
        htmx=True,
    )
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    db.session.expire_all()
    job = db.session.get(ImportJob, job_id)
    resp = auth.post(f"/workspace/imports/{job_id}/confirm", {"version": job.version}, htmx=True)
    return job_id, body, resp


def test_upload_map_preview_run_and_download_the_error_report(client, auth, sign_in, owner):
    sign_in(owner)
    job_id, preview, resp = import_all(client, auth)
    assert "<!doctype html>" not in preview and "Choose a service from the list." in preview
    assert 'id="preview-row-2"' in preview and "Start import" in preview
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Import finished" in body and "<progress" in body
    assert 'id="import-created">2<' in body and 'id="import-errors">1<' in body
    assert leads() == 2
    report = client.get(f"/workspace/imports/{job_id}/errors.csv")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    text = report.get_data(as_text=True)
    assert "Row,Column,Problem,Company,E-mail,Contact,Service,Due" in text
    assert "3,Service,Choose a service from the list.,Bolt Ltd" in text
    progress = client.get(f"/workspace/imports/{job_id}/progress", headers=HX).get_data(as_text=True)
    assert "hx-trigger" not in progress  # finished: the bar stops polling


def test_reimporting_the_same_file_warns_and_creates_nothing(client, auth, sign_in, owner):
    sign_in(owner)
    import_all(client, auth)
    resp = send(auth, CSV)
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "You imported this same file" in page
    import_all(client, auth)
    assert leads() == 2


@pytest.mark.parametrize(
    "content, filename, message",
    [
        (b"", "empty.csv", "The file is empty."),
        (b"Company,Service\n=1+1,SEO\n", "f.csv", "holds a formula"),
        (b"ana@acme.de,Acme\n", "x.csv", "looks like data"),
        (b"\x00\x01\x02binary", "x.csv", "binary data"),
        (b"\xd0\xcf\x11\xe0junk", "x.xls", "old Excel .xls"),
        (b"Company\nA\nB\nC\nD\n", "rows.csv", "more than 3 rows"),
        (b"Company\n" + b"x" * 3000, "big.csv", "larger than"),
    ],
)
def test_bad_files_each_get_their_message_and_create_nothing(
    app, client, auth, sign_in, owner, content, filename, message
):
    app.config.update(IMPORT_MAX_ROWS=3, IMPORT_MAX_BYTES=2000)
    sign_in(owner)
    resp = send(auth, content, filename)
    assert resp.status_code in (413, 422)
    assert message in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportJob)) == 0 and leads() == 0


def test_an_upload_far_over_the_limit_is_refused_before_it_is_read(app, client, auth, sign_in, owner):
    app.config.update(IMPORT_MAX_BYTES=1000)
    sign_in(owner)
    resp = send(auth, b"Company\n" + b"x" * (3 * 1024 * 1024))
    assert resp.status_code == 413
    assert "larger than" in resp.get_data(as_text=True) and "Upload a spreadsheet" in resp.get_data(
        as_text=True
    )


def test_others_cannot_see_an_import_or_its_report(app, client, auth, sign_in, make, owner):
    sign_in(owner)
    job_id, _, _ = import_all(client, auth)
    urls = [
        f"/workspace/imports/{job_id}",
        f"/workspace/imports/{job_id}/progress",
        f"/workspace/imports/{job_id}/errors.csv",
    ]
    sign_in(make.user("growth_ops"))
    assert all(client.get(url).status_code == 404 for url in urls)
    assert auth.post(f"/workspace/imports/{job_id}/confirm", {"version": 1}).status_code == 404
    assert "leads.csv" not in client.get("/workspace/imports").get_data(as_text=True)
    for role in ("approver", "delivery", "client"):
        sign_in(make.user(role))
        assert client.get("/workspace/imports").status_code == 403
        assert all(client.get(url).status_code == 403 for url in urls)
    sign_in(make.user("admin"))
    assert all(client.get(url).status_code == 200 for url in urls)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    resp = client.get("/workspace/imports")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_the_nav_and_the_board_link_to_import(client, sign_in, owner):
    sign_in(owner)
    page = client.get("/workspace/").get_data(as_text=True)
    assert page.count('href="/workspace/imports"') == 2


def test_an_upload_refused_when_it_commits_keeps_no_file(app, client, auth, sign_in, owner, monkeypatch):
    sign_in(owner)

    def refused():
        raise sa.exc.IntegrityError("INSERT INTO imports ...", {}, Exception("taken"))

    monkeypatch.setattr(db.session, "commit", refused)  # the file is kept by then; the import row is not
    resp = send(auth, CSV)
    monkeypatch.undo()
    assert resp.status_code == 409 and "same change at the same moment" in resp.get_data(as_text=True)
    folder = app.config["IMPORT_FOLDER"]
    assert os.listdir(folder) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportJob)) == 0


def test_a_source_no_column_holds_is_asked_for_once_not_on_every_row(client, auth, sign_in, owner):
    sign_in(owner)
    resp = send(auth, CSV)
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert page.count("No column holds the source") == 1 and "Source is required" not in page
    assert "Choose a service from the list." in page  # the rows' own errors still show
    job_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    job = db.session.get(ImportJob, job_id)
    form = {f"map-{i}": job.mapping.get(h, "") for i, h in enumerate(job.headers)}
    body = auth.post(
        f"/workspace/imports/{job_id}/mapping", {**form, "source": "event", "version": job.version}, htmx=True
    ).get_data(as_text=True)
    assert "No column holds the source" not in body and "Source is required" not in body
