"""The storage contract: bytes in and out by key, streamed, behind one Protocol.

Keys are ``/``-separated relative names such as ``datasets/42/v3/original.csv``. Every backend
validates them with :func:`validate_key` and raises :class:`InvalidKey` — a
:class:`~datahub.errors.BadRequest` that is also a :class:`ValueError`, so the API renders it as a
400 and plain code can catch it as a ``ValueError``. A missing object raises
:class:`ObjectNotFound` (a 404 :class:`~datahub.errors.NotFound`, also a ``LookupError``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from datahub.errors import BadRequest, NotFound

DEFAULT_CHUNK_SIZE = 1024 * 1024
MAX_KEY_BYTES = 1024  # the S3 limit, applied everywhere so that a key valid on one backend is
# valid on the other
TEMP_PREFIX = ".datahub-tmp-"  # local temp files; key segments may not start with it


class InvalidKey(BadRequest, ValueError):
    """A key that could escape the storage root or that a backend could not store faithfully."""

    code = "invalid-storage-key"
    title = "Invalid storage key"


class ObjectNotFound(NotFound, LookupError):
    """No object under that key."""

    code = "not-found"


@dataclass(frozen=True)
class StoredObject:
    """What was written: the key, its size in bytes and the hex SHA-256 of its bytes."""

    key: str
    size: int
    sha256: str


@runtime_checkable
class Storage(Protocol):
    """Bytes in and out by key. Implementations never hold a whole object in memory."""

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> StoredObject:
        """Store the concatenated chunks under ``key``, replacing any previous object.

        All or nothing: if ``chunks`` raises, the exception propagates, no new object is visible
        and any previous object under ``key`` is left untouched.
        """
        ...

    def put_file(self, key: str, path: Path) -> StoredObject:
        """Store the content of a local file under ``key``."""
        ...

    def open_stream(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """Iterate over the object's bytes. Raises :class:`ObjectNotFound` at call time, not
        on first ``next()``, so a caller can answer 404 before it starts a response."""
        ...

    def download_to(self, key: str, path: Path) -> StoredObject:
        """Copy the object to a local file (atomically replaced); returns its size and SHA-256."""
        ...

    def size(self, key: str) -> int:
        """Size in bytes; :class:`ObjectNotFound` when missing."""
        ...

    def exists(self, key: str) -> bool: ...

    def ensure_ready(self) -> bool:
        """Create the folder or bucket if it does not exist yet; True when it was created."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error."""
        ...

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with ``prefix`` (a plain string prefix, as on S3), in sorted order."""
        ...


def _has_control_char(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is a safe relative key, else raise :class:`InvalidKey`.

    Rejected: empty keys, keys over 1024 UTF-8 bytes, control characters, backslashes, a leading
    ``/`` (absolute path), empty segments (``a//b``, trailing ``/``), ``.`` and ``..`` segments,
    and segments starting with the local temp-file prefix.
    """
    if not isinstance(key, str) or not key:
        raise InvalidKey("Storage key must be a non-empty string.")
    if len(key.encode("utf-8", errors="surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidKey(f"Storage key is longer than {MAX_KEY_BYTES} bytes.")
    if _has_control_char(key):
        raise InvalidKey("Storage key contains a control character.")
    if "\\" in key:
        raise InvalidKey("Storage key contains a backslash.")
    if key.startswith("/"):
        raise InvalidKey("Storage key must be relative.")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidKey("Storage key has an empty, '.' or '..' segment.")
        if segment.startswith(TEMP_PREFIX):
            raise InvalidKey(f"Storage key segments may not start with {TEMP_PREFIX!r}.")
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix: empty, or a key, a key followed by ``/``, or the start of a key."""
    if prefix == "":
        return prefix
    validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


def iter_file(path: Path, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
    """Read a local file in chunks."""
    with path.open("rb") as fh:
        while chunk := fh.read(chunk_size):
            yield chunk


def write_atomically(path: Path, chunks: Iterable[bytes]) -> tuple[int, str]:
    """Write chunks to a temp file beside ``path``, fsync, then rename over ``path``.

    Returns ``(size, sha256)``. On any error the temp file is removed and ``path`` is untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return size, digest.hexdigest()
