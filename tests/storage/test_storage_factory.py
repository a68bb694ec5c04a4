"""storage_from_url: the storage URL setting to a backend."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from datahub.storage import storage_from_url
from datahub.storage.factory import StorageConfigError
from datahub.storage.local import LocalStorage
from datahub.storage.s3 import S3Storage

if TYPE_CHECKING:
    from tests.storage.conftest import S3Server


@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("file://./datahub-files", Path("datahub-files")),
        ("file://./data/files", Path("data/files")),
        ("file:///srv/datahub", Path("/srv/datahub")),
        ("file://localhost/srv/datahub", Path("/srv/datahub")),
        ("file:///srv/my%20files", Path("/srv/my files")),
    ],
)
def test_storage_file_urls(url: str, root: Path) -> None:
    storage = storage_from_url(url)
    assert isinstance(storage, LocalStorage)
    assert storage.root == root


def test_storage_relative_file_url_is_relative_to_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    storage = storage_from_url("file://./datahub-files")
    assert not (tmp_path / "datahub-files").exists()  # created on first use, not before
    storage.put_stream("a/b.txt", [b"abc"])
    assert (tmp_path / "datahub-files" / "a" / "b.txt").read_bytes() == b"abc"


def test_storage_s3_url(s3_server: S3Server) -> None:
    storage = storage_from_url(
        f"s3://{s3_server.bucket}/instances/demo/", s3_endpoint_url=s3_server.endpoint_url
    )
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix) == (s3_server.bucket, "instances/demo")
    assert storage.client.meta.endpoint_url == s3_server.endpoint_url
    # Really usable, and really under the prefix in the bucket.
    storage.put_stream("x.txt", [b"abc"])
    raw = s3_server.client().get_object(Bucket=s3_server.bucket, Key="instances/demo/x.txt")
    assert raw["Body"].read() == b"abc"
    assert list(storage.list_keys()) == ["x.txt"]
    storage.delete("x.txt")


def test_storage_s3_url_without_prefix(s3_server: S3Server) -> None:
    storage = storage_from_url("s3://some-bucket", s3_endpoint_url=s3_server.endpoint_url)
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix) == ("some-bucket", "")


@pytest.mark.parametrize(
    "url", ["ftp://host/x", "datahub-files", "file://", "s3:///no-bucket", "s3://b/../up"]
)
def test_storage_bad_urls(url: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        storage_from_url(url)


def test_storage_bad_url_error_type() -> None:
    with pytest.raises(StorageConfigError, match="Unsupported storage URL"):
        storage_from_url("gs://bucket/prefix")
