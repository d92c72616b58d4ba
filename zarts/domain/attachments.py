"""Attachments: add a file to a lead, its audit (evidence), a proposal or a contract; delete it (soft);
ask an approver to back its client-safe copy.

Who may act (SECURITY.md): whoever may write the file's owner — a lead, proposal or contract: growth
ops on their own leads, admins on all; an audit: delivery too (its writers, zarts.domain.audits).

What a file is comes from its bytes, never from its name or the browser's Content-Type: PNG, JPEG,
GIF, WebP and PDF by their magic bytes, XLSX and DOCX as zip archives with their own members, CSV
and TXT as UTF-8 text. Programs, HTML, SVG and anything else are refused, and so is a file over
ATTACHMENT_MAX_BYTES — with a message and nothing stored. The upload is copied to storage a chunk
at a time (hashed and measured on the way): a file is never held whole in memory. A stored file
lives only as long as its row: if the transaction that adds the row rolls back, the file is removed
(zarts.storage.keep_until_commit). A storage that does not answer is a message, with no row written.

An attachment is internal. A client reads one only when it belongs to a proposal or contract of
theirs and its client-safe copy was approved (an approval of kind client_text on the attachment,
whose content names exactly this file: its name, type, size and SHA-256).
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import re
import unicodedata
import zipfile

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Approval, Attachment, Audit, Contract, Lead, Proposal, User, utcnow
from ..storage import CHUNK, StorageError, keep_until_commit, storage
from .approval_requests import request_approval, withdraw
from .audits import AUDIT_ROLES
from .errors import Invalid
from .trail import record_event, require_lead_actor

OWNER_KINDS = ("lead", "audit", "proposal", "contract")
OWNER_LABELS = {"lead": "Lead", "audit": "Audit (evidence)", "proposal": "Proposal", "contract": "Contract"}
# The types a file may be, by what its bytes are: content type and the extension it is served with.
TYPES = {
    "png": ("image/png", ".png"),
    "jpeg": ("image/jpeg", ".jpg"),
    "gif": ("image/gif", ".gif"),
    "webp": ("image/webp", ".webp"),
    "pdf": ("application/pdf", ".pdf"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    "csv": ("text/csv; charset=utf-8", ".csv"),
    "txt": ("text/plain; charset=utf-8", ".txt"),
}
ACCEPTED = "PNG, JPEG, GIF, WebP, PDF, XLSX, DOCX, CSV or TXT"
PROGRAM_MAGIC = (b"MZ", b"\x7fELF", b"#!", b"\xca\xfe\xba\xbe", b"\xfe\xed\xfa", b"\xcf\xfa\xed\xfe")
MARKUP = re.compile(rb"<\s*(!doctype|html|head|body|script|svg|iframe|object|\?xml)", re.I)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
HEAD = 512

log = logging.getLogger("zarts.attachments")


class StorageUnavailable(Invalid):
    """The file storage (disk or S3 server) did not take the file: nothing was saved."""

    status = 503

    def __init__(self):
        super().__init__(
            "The file could not be stored: the file storage is not answering or refused it. "
            "Nothing was saved. Try again in a moment, or tell an administrator if it goes on.",
            "file",
        )


def mb(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


SERVED_TYPES = frozenset(content_type for content_type, _ in TYPES.values())


def served_type(content_type: str) -> str:
    """The Content-Type a download is served with: one of the accepted types, else bytes to save."""
    return content_type if content_type in SERVED_TYPES else "application/octet-stream"


def lead_of(owner) -> Lead:
    return owner if isinstance(owner, Lead) else owner.lead


def owner_kind(owner) -> str:
    for kind, model in (("lead", Lead), ("audit", Audit), ("proposal", Proposal), ("contract", Contract)):
        if isinstance(owner, model):
            return kind
    raise Invalid("A file belongs to a lead, an audit, a proposal or a contract.", "target")


def _require_writer(actor: User | None, owner, action: str) -> None:
    lead = lead_of(owner)
    roles = AUDIT_ROLES if isinstance(owner, Audit) else ("growth_ops",)
    require_lead_actor(actor, lead, *roles, action=action)


def clean_filename(name: str | None) -> str:
    """The name a download gets: no folders, no control or quote characters, at most 120 characters."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = re.sub(r'[\x00-\x1f\x7f"<>:|?*;]+', "", name).strip(" .")
    return name[-120:] or "file"


def _named(name: str, ext: str) -> str:
    """`name` with the extension of what the file is (a PNG renamed .exe is served as .png)."""
    stem, old = os.path.splitext(name)
    if old.lower() == ext or (ext == ".jpg" and old.lower() == ".jpeg"):
        return name
    return (stem or "file") + ext


def _kind(head: bytes, is_text: bool, filename: str, readback) -> str:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(PROGRAM_MAGIC):
        raise Invalid("Programs and scripts are not accepted as attachments.", "file")
    if head.startswith(b"PK\x03\x04"):
        return _office(readback)
    if is_text:
        if MARKUP.search(head.lstrip(b"\xef\xbb\xbf \t\r\n")[:HEAD]):
            raise Invalid("Web pages (HTML) and SVG images are not accepted as attachments.", "file")
        return "csv" if filename.lower().endswith(".csv") else "txt"
    raise Invalid(f"This kind of file is not accepted. Attach a {ACCEPTED} file.", "file")


def _office(readback) -> str:
    """XLSX or DOCX by the members an Office archive must have; macros and any other zip refused."""
    try:
        with readback() as raw, zipfile.ZipFile(raw) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        raise Invalid("This zip file is damaged or not an Office document.", "file") from None
    if "[Content_Types].xml" in names and not any(n.endswith("vbaProject.bin") for n in names):
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "word/document.xml" in names:
            return "docx"
    raise Invalid(
        f"Zip archives are not accepted (only XLSX and DOCX without macros). Attach a {ACCEPTED} file.",
        "file",
    )


def add_attachment(
    session: Session, actor: User, owner, *, filename: str, stream, max_bytes: int
) -> Attachment:
    """Copy `stream` to storage and record it as a file of `owner` (a lead, audit, proposal or contract).

    Refused before anything is read when the actor may not write the owner; refused with nothing kept
    when the file is empty, larger than `max_bytes` or of a type not accepted (by its content)."""
    _require_writer(actor, owner, "attach files")
    kind_of_owner = owner_kind(owner)
    name = clean_filename(filename)
    try:
        store = storage()
        pending = store.writer()
    except (StorageError, OSError) as exc:
        log.error("attachment storage unavailable: %s", exc)
        raise StorageUnavailable() from None
    digest, size, head = hashlib.sha256(), 0, b""
    decoder, is_text = codecs.getincrementaldecoder("utf-8")(), True
    try:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise Invalid(
                    f"The file is larger than {mb(max_bytes)}, the most an attachment may be.", "file"
                )
            if len(head) < HEAD:
                head += chunk[: HEAD - len(head)]
            if is_text:
                try:
                    is_text = not CONTROL.search(decoder.decode(chunk))
                except UnicodeDecodeError:
                    is_text = False
            digest.update(chunk)
            pending.write(chunk)
        if size == 0:
            raise Invalid("The file is empty.", "file")
        if is_text:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                is_text = False
        kind = _kind(head, is_text, name, pending.readback)
        key = pending.commit()
    except (StorageError, OSError) as exc:
        pending.discard()
        log.error("attachment storage refused a file: %s", exc)
        raise StorageUnavailable() from None
    except BaseException:
        pending.discard()
        raise
    keep_until_commit(session, store, key)  # removed again if the row below is not committed
    content_type, ext = TYPES[kind]
    row = Attachment(
        filename=_named(name, ext),
        content_type=content_type,
        size_bytes=size,
        sha256=digest.hexdigest(),
        storage_key=key,
        uploaded_by_id=actor.id,
        client_safe_status="none",
        **{f"{kind_of_owner}_id": owner.id},
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        lead_of(owner),
        "attachment_added",
        actor,
        attachment_id=row.id,
        filename=row.filename,
        attached_to=kind_of_owner,
        size_bytes=size,
    )
    return row


def owner_of(session: Session, attachment: Attachment):
    kind = attachment.owner_kind
    model = {"lead": Lead, "audit": Audit, "proposal": Proposal, "contract": Contract}[kind]
    return session.get(model, getattr(attachment, f"{kind}_id"))


def delete_attachment(session: Session, attachment: Attachment, actor: User) -> Attachment:
    """Hide a file (soft: the row and bytes stay, with who deleted it and when); an event on the lead.
    Deleting it again changes nothing. A pending client-safe approval of it is withdrawn."""
    owner = owner_of(session, attachment)
    _require_writer(actor, owner, "delete files")
    if attachment.deleted_at is not None:
        return attachment
    attachment.deleted_at, attachment.deleted_by_id = utcnow(), actor.id
    for approval in session.execute(
        sa.select(Approval).where(
            Approval.attachment_id == attachment.id, Approval.state.in_(("pending", "approved"))
        )
    ).scalars():
        withdraw(session, approval)
    record_event(
        session,
        lead_of(owner),
        "attachment_deleted",
        actor,
        attachment_id=attachment.id,
        filename=attachment.filename,
        attached_to=attachment.owner_kind,
    )
    session.flush()
    return attachment


def client_copy_text(attachment: Attachment) -> str:
    """What an approver backs: exactly this file (a replaced file has another SHA-256)."""
    return (
        f"File for the client: {attachment.filename} ({attachment.content_type.split(';')[0]}, "
        f"{human_size(attachment.size_bytes)}, SHA-256 {attachment.sha256})"
    )


def request_client_copy(session: Session, attachment: Attachment, actor: User):
    """Ask an approver to let the client read this file (only a proposal's or a contract's files reach
    the portal). Asking again for the same file reuses the request."""
    owner = owner_of(session, attachment)
    _require_writer(actor, owner, "ask for approval of a file")
    if attachment.deleted_at is not None:
        raise Invalid("This file was deleted.", "file")
    if attachment.owner_kind not in ("proposal", "contract"):
        raise Invalid("Only a proposal's or a contract's files can be shown to the client.", "target")
    approval = request_approval(
        session,
        actor,
        kind="client_text",
        content=client_copy_text(attachment),
        lead=lead_of(owner),
        attachment=attachment,
    )
    if approval.state == "pending":
        attachment.client_safe_status = "pending"
    session.flush()
    return approval


def on_client_copy_decided(attachment: Attachment, approval) -> None:
    """An approval decision reaches the file only if it covers exactly this file."""
    if approval.content == client_copy_text(attachment):
        attachment.client_safe_status = "approved" if approval.state == "approved" else "rejected"
