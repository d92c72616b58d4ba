"""Where attachment bytes live: a small interface and its local-disk backend.

A file is written once under a key the app chose (never a name from the browser) and read back as a
stream. The local backend keeps `<folder>/<2 hex>/<key>` under the instance folder by default
(ATTACHMENT_FOLDER); a write goes to a temporary file in the same folder and is renamed into place
only when complete, so a half-written file never has a key. S3-compatible storage is not built yet
(ATTACHMENT_STORAGE=s3 is refused at start of use, not silently ignored).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from typing import BinaryIO, Protocol

from flask import current_app

CHUNK = 64 * 1024
KEY = re.compile(r"^[0-9a-f]{32}$")


class Storage(Protocol):
    def writer(self) -> PendingFile: ...

    def open(self, key: str) -> BinaryIO: ...

    def exists(self, key: str) -> bool: ...


class PendingFile:
    """A file being written: `write` chunks, then `commit()` (gives its key) or `discard()`."""

    def __init__(self, folder: str):
        self.key = uuid.uuid4().hex
        self._final = _path(folder, self.key)
        os.makedirs(os.path.dirname(self._final), exist_ok=True)
        self._tmp = self._final + ".part"
        self._out = open(self._tmp, "wb")

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


def _path(folder: str, key: str) -> str:
    if not KEY.match(key or ""):
        raise FileNotFoundError("not a storage key")  # never a path built from anything else
    return os.path.join(folder, key[:2], key)


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


def storage() -> LocalStorage:
    kind = current_app.config.get("ATTACHMENT_STORAGE", "local")
    if kind != "local":
        raise RuntimeError(f"ATTACHMENT_STORAGE={kind!r} is not supported: only 'local' is built")
    return LocalStorage(current_app.config["ATTACHMENT_FOLDER"])


def chunks(stream: BinaryIO, size: int = CHUNK) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(size):
            yield chunk
