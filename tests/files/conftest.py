"""Attachment storage fixtures: a real S3 endpoint (moto's standalone server over HTTP on 127.0.0.1)
and `store`, the backend a test runs on — local disk and S3 alike — with a look at what it holds."""

from __future__ import annotations

import io
import os
import socket
import uuid

import boto3
import pytest
from flask import current_app
from werkzeug.test import EnvironBuilder

from tests.conftest import csrf_token
from tests.workspace.conftest import sign_in  # noqa: F401  (the workspace's fixture: commit, then sign in)
from zarts.storage import S3_PREFIX

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_url():
    """An S3 server for this pytest process (moto's: MinIO is not on our package registries)."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_client(url: str):
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
    )


class LocalStore:
    kind = "local"

    def __init__(self, folder):
        self.folder = folder

    def keys(self) -> list[str]:
        return sorted(name for _, _, names in os.walk(self.folder) for name in names)

    def read(self, key: str) -> bytes:
        with open(os.path.join(self.folder, key[:2], key), "rb") as f:
            return f.read()


class S3Store:
    """The bucket, looked at with boto3 directly (not through the app)."""

    kind = "s3"

    def __init__(self, url: str, bucket: str):
        self.url, self.bucket, self.client = url, bucket, s3_client(url)

    def keys(self) -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.bucket)
        return sorted(item["Key"].removeprefix(S3_PREFIX) for item in listing.get("Contents", ()))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=S3_PREFIX + key)["Body"].read()

    def head(self, key: str) -> dict:
        return self.client.head_object(Bucket=self.bucket, Key=S3_PREFIX + key)


def use_s3(url: str) -> S3Store:
    """Point the current app at a new, empty bucket on the server at `url`."""
    bucket = f"zarts-{uuid.uuid4().hex[:12]}"
    s3_client(url).create_bucket(Bucket=bucket)
    current_app.config.update(
        ATTACHMENT_STORAGE="s3",
        S3_ENDPOINT_URL=url,
        S3_BUCKET=bucket,
        S3_REGION="us-east-1",
        S3_ACCESS_KEY_ID="test-key",
        S3_SECRET_ACCESS_KEY="test-secret",
    )
    return S3Store(url, bucket)


@pytest.fixture
def s3(app_context_any, s3_url) -> S3Store:
    return use_s3(s3_url)


@pytest.fixture(params=["local", "s3"])
def store(request, app_context_any, tmp_path):
    """Each test that takes `store` runs on the local disk and on S3."""
    if request.param == "s3":
        return use_s3(request.getfixturevalue("s3_url"))
    folder = tmp_path / "files"
    current_app.config.update(ATTACHMENT_STORAGE="local", ATTACHMENT_FOLDER=str(folder))
    return LocalStore(folder)


def upload_request(client, lead, data: bytes, name: str, target: str = "lead") -> dict:
    """The WSGI environ of the lead page's upload form (htmx) sending `data` as `name`."""
    return EnvironBuilder(
        path=f"/workspace/leads/{lead.id}/files",
        method="POST",
        headers={"HX-Request": "true"},
        data={"file": (io.BytesIO(data), name), "target": target, "csrf_token": csrf_token(client)},
    ).get_environ()


def send(client, environ: dict):
    # Werkzeug's test client spools a big body to a temporary file it never closes: close it here.
    try:
        return client.open(environ)
    finally:
        environ["wsgi.input"].close()


def upload(auth, lead, data: bytes, name: str, target: str = "lead"):
    return send(auth.client, upload_request(auth.client, lead, data, name, target))
