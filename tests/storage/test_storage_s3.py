"""S3-only behaviour, against a real S3-compatible server (moto in server mode)."""

from __future__ import annotations

import uuid

from tests.s3server import S3Server

from datahub.storage.s3 import S3Storage


def test_s3_ensure_ready_creates_a_missing_bucket(s3_server: S3Server) -> None:
    # What `datahub init` does on a new deployment: the bucket is created once, then found.
    bucket = f"fresh-{uuid.uuid4().hex[:12]}"
    storage = S3Storage(bucket, "prod", client=s3_server.client())
    assert storage.ensure_ready() is True
    assert storage.ensure_ready() is False
    storage.put_stream("a.txt", [b"abc"])
    assert bucket in [b["Name"] for b in s3_server.client().list_buckets()["Buckets"]]
    assert b"".join(storage.open_stream("a.txt")) == b"abc"
