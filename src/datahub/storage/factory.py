"""Build a :class:`Storage` from ``Settings.storage_url``."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from datahub.storage.base import Storage
from datahub.storage.local import LocalStorage


class StorageConfigError(ValueError):
    """A storage URL that names no usable backend (an operator error, not a client's)."""


def storage_from_url(url: str, *, s3_endpoint_url: str | None = None) -> Storage:
    """``file://./relative`` (to the working directory), ``file:///absolute`` or
    ``s3://bucket/prefix``. Percent-escapes are decoded (``file:///srv/my%20files``)."""
    if url.startswith("file://"):
        rest = url[len("file://") :]
        if rest.startswith("localhost/"):  # RFC 8089: file://localhost/x is file:///x
            rest = rest[len("localhost") :]
        rest = unquote(rest)
        if not rest:
            raise StorageConfigError(f"Storage URL {url!r} names no folder.")
        return LocalStorage(Path(rest))
    if url.startswith("s3://"):
        parts = urlsplit(url)
        if not parts.netloc:
            raise StorageConfigError(f"Storage URL {url!r} names no bucket.")
        from datahub.storage.s3 import S3Storage  # boto3 is only imported when S3 is used

        return S3Storage(parts.netloc, unquote(parts.path).strip("/"), endpoint_url=s3_endpoint_url)
    raise StorageConfigError(
        f"Unsupported storage URL {url!r}: use file://<folder> or s3://<bucket>."
    )
