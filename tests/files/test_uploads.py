"""Uploads on either storage (local disk and S3): a file at the size limit is kept whole and one over
it is refused in words; an upload is streamed (memory stays flat); a file whose row is rolled back is
removed from storage; the storage settings are read from the environment as the README says."""

from __future__ import annotations

import hashlib
import io
import re
import tracemalloc
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.files.conftest import PNG, send, upload, upload_request
from zarts import config
from zarts.domain import attachments, unit
from zarts.extensions import db
from zarts.models import Attachment, Event

README = Path(__file__).resolve().parents[2] / "README.md"


def rows() -> list[Attachment]:
    db.session.expire_all()
    return db.session.scalars(sa.select(Attachment)).all()


def test_a_file_at_the_limit_is_kept_whole_and_one_byte_more_is_refused(
    app, make, sign_in, auth, client, store
):
    app.config["ATTACHMENT_MAX_BYTES"] = 3 * 1024 * 1024
    lead = make.lead()
    sign_in(lead.owner)
    at_limit = b"%PDF-1.7\n" + b"\x07" * (3 * 1024 * 1024 - 9)
    resp = upload(auth, lead, at_limit, "at-limit.pdf")
    assert resp.status_code == 200 and "File attached." in resp.get_data(as_text=True)
    (row,) = rows()
    assert row.size_bytes == len(at_limit) and row.sha256 == hashlib.sha256(at_limit).hexdigest()
    assert store.read(row.storage_key) == at_limit
    assert client.get(f"/workspace/leads/{lead.id}/files/{row.id}").data == at_limit
    resp = upload(auth, lead, at_limit + b"\x07", "over.pdf")
    assert resp.status_code == 400
    assert "The file is larger than 3 MB, the most an attachment may be." in resp.get_data(as_text=True)
    assert [r.filename for r in rows()] == ["at-limit.pdf"] and store.keys() == [row.storage_key]


def test_a_big_upload_is_streamed_not_held_in_memory(app, make, sign_in, auth, client, tmp_path):
    app.config.update(ATTACHMENT_FOLDER=str(tmp_path / "files"), ATTACHMENT_MAX_BYTES=24 * 1024 * 1024)
    lead = make.lead()
    sign_in(lead.owner)
    upload(auth, lead, PNG, "warm-up.png")  # templates compiled, connections open
    size = 20 * 1024 * 1024
    # The request body is built before measuring.
    environ = upload_request(client, lead, b"%PDF-1.7\n" + b"\x01" * (size - 9), "scan.pdf")
    tracemalloc.start()
    try:
        resp = send(client, environ)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert resp.status_code == 200 and "File attached." in resp.get_data(as_text=True)
    assert rows()[-1].size_bytes == size
    assert peak < 4 * 1024 * 1024, f"an upload of 20 MB peaked at {peak / 2**20:.1f} MB in memory"


def test_a_failure_after_the_file_was_stored_leaves_no_file(make, sign_in, auth, store, monkeypatch):
    lead = make.lead()
    sign_in(lead.owner)

    def crash(*args, **kwargs):
        raise RuntimeError("the event could not be written")

    monkeypatch.setattr(attachments, "record_event", crash)
    with pytest.raises(RuntimeError, match="event could not be written"):
        upload(auth, lead, PNG, "shot.png")
    assert rows() == [] and store.keys() == []


def test_a_commit_that_fails_leaves_no_file(make, sign_in, auth, store):
    lead = make.lead()
    sign_in(lead.owner)

    inserted = []

    def note(session, context):
        inserted.extend(obj for obj in session.new if isinstance(obj, Attachment))

    def refuse(session):
        if inserted:
            raise RuntimeError("the database refused the commit")

    sa.event.listen(db.session, "after_flush", note)
    sa.event.listen(db.session, "before_commit", refuse)
    try:
        with pytest.raises(RuntimeError, match="refused the commit"):
            upload(auth, lead, PNG, "shot.png")
    finally:
        sa.event.remove(db.session, "after_flush", note)
        sa.event.remove(db.session, "before_commit", refuse)
    assert inserted  # the row was written, then its transaction failed
    assert rows() == [] and store.keys() == []
    assert upload(auth, lead, PNG, "again.png").status_code == 200  # committed: the file stays
    (row,) = rows()
    assert store.keys() == [row.storage_key]


@pytest.mark.pg
def test_on_postgresql_a_rolled_back_row_takes_its_file_with_it(pg_app, make, store):
    lead = make.lead()
    db.session.commit()
    with pytest.raises(RuntimeError):
        with unit(db.session):
            attachments.add_attachment(
                db.session, lead.owner, lead, filename="a.png", stream=io.BytesIO(PNG), max_bytes=10**6
            )
            raise RuntimeError("a later step of the same action failed")
    assert rows() == [] and store.keys() == []
    with unit(db.session):
        kept = attachments.add_attachment(
            db.session, lead.owner, lead, filename="b.png", stream=io.BytesIO(PNG), max_bytes=10**6
        )
    assert store.keys() == [kept.storage_key]
    assert "attachment_added" in db.session.scalars(sa.select(Event.kind)).all()


def storage_settings() -> list[str]:
    section = README.read_text(encoding="utf-8").split("## Files and PDFs", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", section, flags=re.M)


def test_the_storage_settings_in_the_readme_are_read_from_the_environment(monkeypatch, tmp_path):
    names = storage_settings()
    assert {"ATTACHMENT_STORAGE", "S3_ENDPOINT_URL", "S3_BUCKET", "S3_ACCESS_KEY_ID"} <= set(names)
    values = {
        "ATTACHMENT_STORAGE": ("S3", "s3"),
        "ATTACHMENT_MAX_BYTES": ("1000", 1000),
        "S3_ENDPOINT_URL": ("https://minio.internal:9000", "https://minio.internal:9000"),
    }
    for name in names:
        raw, expected = values.get(name, ("from-the-environment", "from-the-environment"))
        monkeypatch.setenv(name, raw)
        assert config.from_env(str(tmp_path))[name] == expected, name


def test_s3_without_a_bucket_or_an_unknown_storage_is_refused_at_start(monkeypatch):
    from zarts import create_app

    monkeypatch.setenv("ATTACHMENT_STORAGE", "s3")
    monkeypatch.delenv("S3_BUCKET", raising=False)
    with pytest.raises(config.ConfigError, match="ATTACHMENT_STORAGE=s3 needs S3_BUCKET"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    monkeypatch.setenv("ATTACHMENT_STORAGE", "ftp")
    with pytest.raises(config.ConfigError, match="'ftp' is not a storage"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
