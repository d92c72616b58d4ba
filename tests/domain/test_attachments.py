"""Attachments in the domain: the type comes from the bytes, limits hold with nothing kept, rights are
the parent's writers', deleting is soft with an event, and a client-safe copy needs an approval."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
import sqlalchemy as sa

from zarts.domain import Forbidden, Invalid, approvals, attachments
from zarts.extensions import db
from zarts.models import Approval, Attachment, Event, Proposal

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"x" * 64


@pytest.fixture(autouse=True)
def folder(app, tmp_path):
    app.config["ATTACHMENT_FOLDER"] = str(tmp_path / "files")
    return tmp_path / "files"


def stored_files(folder) -> list[str]:
    return [name for _, _, names in os.walk(folder) for name in names]


def office(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def add(owner, actor, data: bytes, name: str, max_bytes: int = 1024 * 1024):
    return attachments.add_attachment(
        db.session, actor, owner, filename=name, stream=io.BytesIO(data), max_bytes=max_bytes
    )


@pytest.mark.parametrize(
    "data, name, content_type, stored_as",
    [
        (PNG, "screenshot.exe", "image/png", "screenshot.png"),
        (JPEG, "photo.jpeg", "image/jpeg", "photo.jpeg"),
        (b"GIF89a" + b"\x00" * 20, "a.gif", "image/gif", "a.gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "a.webp", "image/webp", "a.webp"),
        (PDF, "report", "application/pdf", "report.pdf"),
        ("Company,Leads\nMüller GmbH,12\n".encode(), "export.csv", "text/csv; charset=utf-8", "export.csv"),
        (b"plain notes", "notes.txt", "text/plain; charset=utf-8", "notes.txt"),
        (
            office({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>"}),
            "figures.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "figures.xlsx",
        ),
        (
            office({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<x/>"}),
            "../../contract.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "contract.docx",
        ),
    ],
)
def test_the_type_is_read_from_the_content(make, data, name, content_type, stored_as, folder):
    lead = make.lead()
    row = add(lead, lead.owner, data, name)
    assert (row.content_type, row.filename, row.size_bytes) == (content_type, stored_as, len(data))
    assert len(row.sha256) == 64 and stored_files(folder) == [row.storage_key]
    with open(folder / row.storage_key[:2] / row.storage_key, "rb") as f:
        assert f.read() == data


@pytest.mark.parametrize(
    "data, name, message",
    [
        (b"<!DOCTYPE html><html><script>alert(1)</script>", "page.png", "HTML"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "logo.svg", "SVG"),
        (b"MZ\x90\x00" + b"\x00" * 60, "tool.pdf", "Programs"),
        (b"\x7fELF\x02\x01", "tool.png", "Programs"),
        (b"#!/bin/sh\nrm -rf /\n", "run.txt", "Programs"),
        (office({"a.txt": b"x"}), "archive.docx", "Zip archives"),
        (
            office({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>", "xl/vbaProject.bin": b"x"}),
            "macros.xlsx",
            "Zip archives",
        ),
        (b"\x00\x01\x02\x03binary", "blob.csv", "not accepted"),
        (b"", "empty.txt", "empty"),
    ],
)
def test_refused_types_keep_nothing(make, data, name, message, folder):
    lead = make.lead()
    with pytest.raises(Invalid, match=message):
        add(lead, lead.owner, data, name)
    assert stored_files(folder) == [] and db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0


def test_a_file_over_the_limit_is_refused_with_nothing_kept(make, folder):
    lead = make.lead()
    with pytest.raises(Invalid, match="larger than"):
        add(lead, lead.owner, PNG + b"\x00" * 2000, "big.png", max_bytes=1000)
    assert stored_files(folder) == []


def test_the_upload_is_read_in_chunks_never_whole(make):
    class Stream(io.BytesIO):
        biggest = 0

        def read(self, size=-1):
            assert size != -1, "read whole"
            Stream.biggest = max(Stream.biggest, size)
            return super().read(size)

    lead = make.lead()
    attachments.add_attachment(
        db.session, lead.owner, lead, filename="big.pdf", stream=Stream(PDF + b"x" * 300_000), max_bytes=10**6
    )
    assert Stream.biggest <= 64 * 1024


def test_who_may_attach_is_who_may_write_the_parent(make, journey):
    lead = make.lead(owner=make.user("growth_ops"))
    journey.to(lead, "audit")
    from zarts.domain import audits

    audit = audits.start_audit(db.session, lead, lead.owner)
    other, delivery, approver = make.user("growth_ops"), make.user("delivery"), make.user("approver")
    for actor in (other, approver, delivery):
        with pytest.raises(Forbidden):
            add(lead, actor, PNG, "x.png")
    assert add(audit, delivery, PNG, "evidence.png").audit_id == audit.id  # delivery writes audits
    with pytest.raises(Forbidden):
        add(audit, approver, PNG, "x.png")
    assert add(lead, make.user("admin"), PNG, "by-admin.png").lead_id == lead.id


def test_delete_is_soft_with_an_event_and_a_second_delete_changes_nothing(make):
    lead = make.lead()
    row = add(lead, lead.owner, PNG, "shot.png")
    attachments.delete_attachment(db.session, row, lead.owner)
    attachments.delete_attachment(db.session, row, lead.owner)
    assert row.deleted_at is not None and row.deleted_by_id == lead.owner.id
    kinds = db.session.scalars(sa.select(Event.kind).where(Event.lead_id == lead.id).order_by(Event.id)).all()
    assert kinds.count("attachment_added") == 1 and kinds.count("attachment_deleted") == 1
    assert db.session.get(Attachment, row.id) is not None
    with pytest.raises(Forbidden):
        attachments.delete_attachment(
            db.session, add(lead, lead.owner, PNG, "b.png"), make.user("growth_ops")
        )


def test_a_client_safe_copy_is_approved_for_exactly_this_file(make, journey):
    lead = make.lead()
    journey.to(lead, "contract")
    proposal = db.session.scalars(sa.select(Proposal).where(Proposal.lead_id == lead.id)).one()
    on_lead = add(lead, lead.owner, PNG, "internal.png")
    with pytest.raises(Invalid, match="Only a proposal's or a contract's files"):
        attachments.request_client_copy(db.session, on_lead, lead.owner)
    row = add(proposal, lead.owner, PDF, "case-study.pdf")
    approval = attachments.request_client_copy(db.session, row, lead.owner)
    assert row.client_safe_status == "pending" and approval.kind == "client_text"
    assert (
        approval.content.startswith("File for the client: case-study.pdf") and row.sha256 in approval.content
    )
    approvals.decide(db.session, approval, make.user("approver"), approval.version, approve=True)
    assert row.client_safe_status == "approved"
    other = add(proposal, lead.owner, PNG, "draft.png")
    rejected = attachments.request_client_copy(db.session, other, lead.owner)
    approvals.decide(
        db.session, rejected, make.user("approver"), rejected.version, approve=False, comment="No"
    )
    assert other.client_safe_status == "rejected"
    attachments.delete_attachment(db.session, row, lead.owner)  # withdraws its approval
    assert db.session.get(Approval, approval.id).state == "superseded"
