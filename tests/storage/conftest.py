"""Fixtures for the storage tests: a real S3-compatible server (moto in server mode) and one
fixture that yields each backend, so the same contract tests run against both."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests.s3server import S3Server

from datahub.storage.base import Storage
from datahub.storage.local import LocalStorage
from datahub.storage.s3 import MIN_PART_SIZE, S3Storage

if TYPE_CHECKING:
    pass


@dataclass
class Backend:
    """A storage under test plus a way to see what it left behind, temp files included."""

    name: str
    storage: Storage
    root: Path | None = None
    s3: S3Server | None = None
    prefix: str = ""

    def leftovers(self) -> list[str]:
        """Every file (local, hidden ones too) or every object and unfinished multipart upload
        (S3) that this backend's area holds."""
        if self.root is not None:
            if not self.root.exists():
                return []
            return sorted(
                p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()
            )
        assert self.s3 is not None
        client = self.s3.client()
        objects = client.list_objects_v2(Bucket=self.s3.bucket, Prefix=self.prefix)
        uploads = client.list_multipart_uploads(Bucket=self.s3.bucket, Prefix=self.prefix)
        return sorted(
            [o["Key"] for o in objects.get("Contents", [])]
            + [f"upload:{u['Key']}" for u in uploads.get("Uploads", [])]
        )


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each implementation in turn; S3 tests get their own prefix in the shared bucket and the
    smallest legal part size, so a few MiB already exercise multipart uploads."""
    if request.param == "local":
        root = tmp_path / "files"  # not created: LocalStorage creates it on first write
        return Backend("local", LocalStorage(root), root=root)
    s3: S3Server = request.getfixturevalue("s3_server")
    prefix = f"t-{uuid.uuid4().hex}"
    storage = S3Storage(s3.bucket, prefix, client=s3.client(), part_size=MIN_PART_SIZE)
    return Backend("s3", storage, s3=s3, prefix=prefix + "/")
