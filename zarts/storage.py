"""Where attachment bytes live: a small interface, the local-disk backend (the default) and an
S3-compatible one.

A file is written once under a key the app chose (never a name from the browser) and read back as a
stream. The local backend keeps `<folder>/<2 hex>/<key>` under the instance folder by default
(ATTACHMENT_FOLDER); a write goes to a temporary file in the same folder and is renamed into place
only when complete, so a half-written file never has a key. With ATTACHMENT_STORAGE=s3 the bytes go
to the bucket S3_BUCKET (object `attachments/<key>`): an upload is first copied to a temporary file
(its type is read from the content before anything reaches the bucket), then streamed to the bucket
from that file, in parts when it is big; a download streams the object through the app, after the
page's access check (the bucket is never public and no link to it is handed out).

A stored file whose database row is not committed is removed again: `keep_until_commit` ties the key
to the session's transaction, and a rollback (or a session closed without a commit) deletes it.
A storage that does not answer raises StorageError, which callers turn into a message.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Iterator
from typing import BinaryIO, Protocol

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, scoped_session

CHUNK = 64 * 1024
KEY = re.compile(r"^[0-9a-f]{32}$")
S3_PREFIX = "attachments/"
S3_PART = 8 * 1024 * 1024  # files above this go up in parts of this size, read from the temporary file

UNAVAILABLE = "The file storage is not answering right now. Nothing was lost: try again in a moment."

log = logging.getLogger("zarts.storage")


class StorageError(RuntimeError):
    """The storage did not take or give a file (a server down, a bucket missing, access refused)."""


class Pending(Protocol):
    key: str

    def write(self, chunk: bytes) -> None: ...

    def readback(self) -> BinaryIO: ...

    def commit(self) -> str: ...

    def discard(self) -> None: ...


class Storage(Protocol):
    def writer(self) -> Pending: ...

    def open(self, key: str) -> BinaryIO: ...

    def exists(self, key: str) -> bool: ...

    def remove(self, key: str) -> None: ...


def _path(folder: str, key: str) -> str:
    if not KEY.match(key or ""):
        raise FileNotFoundError("not a storage key")  # never a path built from anything else
    return os.path.join(folder, key[:2], key)


# --------------------------------------------------------------------------- local disk


class PendingFile:
    """A file being written: `write` chunks, then `commit()` (gives its key) or `discard()`. Written
    to a `.part` file beside its final place and renamed there when complete."""

    def __init__(self, folder: str):
        self.key = uuid.uuid4().hex
        self._final = _path(folder, self.key)
        os.makedirs(os.path.dirname(self._final), exist_ok=True)
        self._open(self._final + ".part", open(self._final + ".part", "wb"))

    def _open(self, tmp: str, out: BinaryIO) -> None:
        self._tmp, self._out = tmp, out

    def write(self, chunk: bytes) -> None:
        self._out.write(chunk)

    def readback(self) -> BinaryIO:
        """What was written so far, to read (e.g. a zip's member list) before it is committed."""
        self._out.flush()
        return open(self._tmp, "rb")

    def commit(self) -> str:
        self._out.close()
        os.replace(self._tmp, self._final)
        return self.key

    def discard(self) -> None:
        self._out.close()
        if os.path.exists(self._tmp):
            os.remove(self._tmp)


class LocalStorage:
    def __init__(self, folder: str):
        self.folder = folder

    def writer(self) -> PendingFile:
        return PendingFile(self.folder)

    def open(self, key: str) -> BinaryIO:
        return open(_path(self.folder, key), "rb")

    def exists(self, key: str) -> bool:
        return os.path.exists(_path(self.folder, key))

    def remove(self, key: str) -> None:
        """Only for a file whose row was never committed (the upload was refused or rolled back)."""
        path = _path(self.folder, key)
        if os.path.exists(path):
            os.remove(path)


# --------------------------------------------------------------------------- S3-compatible


class S3PendingFile(PendingFile):
    """An upload on its way to the bucket: spooled to a temporary file, sent on `commit()`."""

    def __init__(self, store: S3Storage):
        self.key = uuid.uuid4().hex
        self._store = store
        fd, tmp = tempfile.mkstemp(prefix="zarts-upload-", suffix=".part")
        self._open(tmp, os.fdopen(fd, "wb"))

    def commit(self) -> str:
        self._out.close()
        try:
            self._store.upload(self._tmp, self.key)
        finally:
            os.remove(self._tmp)
        return self.key


class S3Storage:
    """Objects `attachments/<key>` in one bucket of an S3-compatible server (AWS, MinIO, Ceph, …)."""

    def __init__(self, client, bucket: str):
        self.client, self.bucket = client, bucket

    def _object(self, key: str) -> str:
        if not KEY.match(key or ""):
            raise FileNotFoundError("not a storage key")
        return S3_PREFIX + key

    def writer(self) -> S3PendingFile:
        return S3PendingFile(self)

    def upload(self, path: str, key: str) -> None:
        from boto3.s3.transfer import TransferConfig

        # upload_file reads each part from the file on disk: a big file is never held in memory.
        transfer = TransferConfig(multipart_threshold=S3_PART, multipart_chunksize=S3_PART, max_concurrency=4)
        try:
            self.client.upload_file(
                path,
                self.bucket,
                self._object(key),
                Config=transfer,
                ExtraArgs={"ContentType": "application/octet-stream"},
            )
        except Exception as exc:
            raise StorageError(_why(exc)) from exc

    def open(self, key: str) -> BinaryIO:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._object(key))["Body"]
        except Exception as exc:
            if _missing(exc):
                raise FileNotFoundError(key) from None
            raise StorageError(_why(exc)) from exc

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._object(key))
        except Exception as exc:
            if _missing(exc):
                return False
            raise StorageError(_why(exc)) from exc
        return True

    def remove(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._object(key))
        except Exception as exc:
            raise StorageError(_why(exc)) from exc


def _missing(exc: Exception) -> bool:
    code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
    return code in ("NoSuchKey", "404", "NotFound")


def _why(exc: Exception) -> str:
    """A short reason for the log and the operator (never shown with secrets: boto3 puts none here)."""
    error = getattr(exc, "response", {}).get("Error", {})
    if error:
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


_clients_lock = threading.Lock()


def s3_client(config):
    """One boto3 client per app and settings (clients are thread-safe and slow to make)."""
    import boto3
    from botocore.config import Config

    settings = tuple(
        config.get(name)
        for name in ("S3_ENDPOINT_URL", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY")
    )
    cache = current_app.extensions.setdefault("zarts.s3_clients", {})
    with _clients_lock:
        if settings not in cache:
            endpoint, region, key_id, secret = settings
            cache[settings] = boto3.session.Session().client(
                "s3",
                endpoint_url=endpoint or None,
                region_name=region or None,
                aws_access_key_id=key_id or None,
                aws_secret_access_key=secret or None,
                config=Config(
                    # Servers other than AWS (MinIO, Ceph, …) want path-style addresses and plain checksums.
                    s3={"addressing_style": "path" if endpoint else "auto"},
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                    connect_timeout=5,
                    read_timeout=60,
                    retries={"max_attempts": 3, "mode": "standard"},
                ),
            )
        return cache[settings]


def storage() -> Storage:
    config = current_app.config
    kind = config.get("ATTACHMENT_STORAGE", "local")
    if kind == "s3":
        if not config.get("S3_BUCKET"):
            raise StorageError("ATTACHMENT_STORAGE=s3 needs S3_BUCKET")
        return S3Storage(s3_client(config), config["S3_BUCKET"])
    if kind != "local":
        raise StorageError(f"ATTACHMENT_STORAGE={kind!r} is not a storage: use 'local' or 's3'")
    return LocalStorage(config["ATTACHMENT_FOLDER"])


def chunks(stream: BinaryIO, size: int = CHUNK) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(size):
            yield chunk


# --------------------------------------------------------------------------- no orphan files

_KEPT = "zarts.stored_files"


def keep_until_commit(session: Session, store: Storage, key: str) -> None:
    """Remove `key` from `store` unless the session's transaction (as of now) commits."""
    if isinstance(session, scoped_session):
        session = session()
    if not session.in_transaction():
        session.begin()
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_KEPT, []).append((transaction, store, key))


def remove_quietly(store: Storage, key: str) -> None:
    try:
        store.remove(key)
    except Exception:  # the rollback goes on; the operator finds the key in the log
        log.exception("could not remove the stored file %s of a rolled-back upload", key)


def _within(transaction, ended) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


def _remove_where(session: Session, keep) -> None:
    entries = session.info.get(_KEPT)
    if not entries:
        return
    session.info[_KEPT] = [entry for entry in entries if keep(entry)]
    for entry in entries:
        if not keep(entry):
            remove_quietly(entry[1], entry[2])


def _after_commit(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_KEPT, None)  # the rows are committed: their files stay


def _after_soft_rollback(session: Session, previous_transaction) -> None:
    _remove_where(session, lambda entry: not _within(entry[0], previous_transaction))


def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:  # closed without a commit (a commit cleared the list first)
        _remove_where(session, lambda entry: False)


sa.event.listen(Session, "after_commit", _after_commit)
sa.event.listen(Session, "after_soft_rollback", _after_soft_rollback)
sa.event.listen(Session, "after_transaction_end", _after_transaction_end)
