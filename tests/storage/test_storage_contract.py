"""The Storage contract, run against LocalStorage and S3Storage (moto server) alike."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from datahub.errors import BadRequest, NotFound
from datahub.storage.base import InvalidKey, ObjectNotFound, Storage, validate_key
from datahub.storage.local import LocalStorage
from datahub.storage.s3 import MIN_PART_SIZE

if TYPE_CHECKING:
    from tests.storage.conftest import Backend

MiB = 1024 * 1024

# FIPS 180-2, appendix B.1 and the well-known digest of the empty string.
SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
SHA256_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def pattern_chunks(total: int, chunk: int) -> Iterator[bytes]:
    """Deterministic, non-repeating-per-chunk bytes: chunk i is filled with byte (i*7+1) % 256
    so a part written twice or out of order changes the digest."""
    sent = 0
    i = 0
    while sent < total:
        n = min(chunk, total - sent)
        yield bytes([(i * 7 + 1) % 256]) * n
        sent += n
        i += 1


class Boom(RuntimeError):
    pass


def failing_after(chunks: Iterator[bytes], limit: int) -> Iterator[bytes]:
    """Pass chunks through until ``limit`` bytes went by, then raise mid-stream."""
    sent = 0
    for c in chunks:
        yield c
        sent += len(c)
        if sent >= limit:
            raise Boom("source failed mid-stream")


def test_storage_satisfies_protocol(backend: Backend) -> None:
    assert isinstance(backend.storage, Storage)


def test_storage_small_object_known_digest(backend: Backend) -> None:
    stored = backend.storage.put_stream("docs/abc.txt", [b"a", b"", b"bc"])
    assert (stored.key, stored.size, stored.sha256) == ("docs/abc.txt", 3, SHA256_ABC)
    assert b"".join(backend.storage.open_stream("docs/abc.txt")) == b"abc"
    assert backend.storage.size("docs/abc.txt") == 3
    assert backend.storage.exists("docs/abc.txt")


def test_storage_empty_object(backend: Backend) -> None:
    stored = backend.storage.put_stream("empty.bin", iter(()))
    assert (stored.size, stored.sha256) == (0, SHA256_EMPTY)
    assert b"".join(backend.storage.open_stream("empty.bin")) == b""
    assert backend.storage.size("empty.bin") == 0


def test_storage_multi_mib_round_trip(backend: Backend, tmp_path: Path) -> None:
    # 12 MiB + 5 bytes in 1 MiB + 3 chunks: on S3 with 5 MiB parts that is two full parts and a
    # short last one (12 MiB + 5 = 2 * 5 MiB + 2 MiB + 5), so part boundaries fall mid-chunk.
    total = 12 * MiB + 5
    expected = hashlib.sha256(b"".join(pattern_chunks(total, MiB + 3))).hexdigest()

    stored = backend.storage.put_stream(
        "datasets/42/v1/original.csv", pattern_chunks(total, MiB + 3)
    )
    assert stored.size == 12_582_917  # 12 * 1_048_576 + 5
    assert stored.sha256 == expected
    assert backend.storage.size("datasets/42/v1/original.csv") == 12_582_917

    digest = hashlib.sha256()
    sizes = []
    for chunk in backend.storage.open_stream("datasets/42/v1/original.csv", chunk_size=256 * 1024):
        digest.update(chunk)
        sizes.append(len(chunk))
    assert digest.hexdigest() == expected
    assert sum(sizes) == total
    assert max(sizes) <= 256 * 1024

    target = tmp_path / "out" / "copy.csv"
    downloaded = backend.storage.download_to("datasets/42/v1/original.csv", target)
    assert (downloaded.size, downloaded.sha256) == (total, expected)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == expected
    assert [p.name for p in target.parent.iterdir()] == ["copy.csv"]  # no temp file left


def test_storage_put_file(backend: Backend, tmp_path: Path) -> None:
    source = tmp_path / "source.csv"
    source.write_bytes(b"abc")
    stored = backend.storage.put_file("in/source.csv", source)
    assert (stored.size, stored.sha256) == (3, SHA256_ABC)
    assert b"".join(backend.storage.open_stream("in/source.csv")) == b"abc"


def test_storage_unicode_key(backend: Backend) -> None:
    key = "territoires/épci 241700434/données (2022).csv"
    backend.storage.put_stream(key, [b"abc"])
    assert list(backend.storage.list_keys("territoires/")) == [key]
    assert backend.storage.size(key) == 3


def test_storage_overwrite_replaces(backend: Backend) -> None:
    backend.storage.put_stream("k", [b"first version"])
    stored = backend.storage.put_stream("k", [b"abc"])
    assert stored.sha256 == SHA256_ABC
    assert b"".join(backend.storage.open_stream("k")) == b"abc"


def test_storage_delete_is_idempotent(backend: Backend) -> None:
    backend.storage.put_stream("a/b.txt", [b"abc"])
    backend.storage.delete("a/b.txt")
    backend.storage.delete("a/b.txt")  # second time: no error
    backend.storage.delete("never/written.txt")
    assert not backend.storage.exists("a/b.txt")
    assert list(backend.storage.list_keys()) == []


def test_storage_missing_object(backend: Backend) -> None:
    assert not backend.storage.exists("nope.txt")
    with pytest.raises(ObjectNotFound) as info:
        backend.storage.size("nope.txt")
    assert isinstance(info.value, NotFound)
    assert info.value.status == 404
    # Raised when the stream is opened, before any iteration, so a caller can answer 404 first.
    with pytest.raises(ObjectNotFound):
        backend.storage.open_stream("nope.txt")
    with pytest.raises(ObjectNotFound):
        backend.storage.download_to("nope.txt", Path("/nonexistent/never-written"))


def test_storage_list_by_prefix(backend: Backend) -> None:
    for key in ["b/1", "a/2", "ab/c", "a/1", "a-b", "a/deep/er/x"]:
        backend.storage.put_stream(key, [key.encode()])
    s = backend.storage
    # S3 order is by UTF-8 bytes: "-" (0x2D) < "/" (0x2F) < "b" (0x62).
    assert list(s.list_keys()) == ["a-b", "a/1", "a/2", "a/deep/er/x", "ab/c", "b/1"]
    assert list(s.list_keys("a/")) == ["a/1", "a/2", "a/deep/er/x"]
    assert list(s.list_keys("a")) == ["a-b", "a/1", "a/2", "a/deep/er/x", "ab/c"]
    assert list(s.list_keys("a/de")) == ["a/deep/er/x"]
    assert list(s.list_keys("a/1")) == ["a/1"]
    assert list(s.list_keys("zzz/")) == []


BAD_KEYS = {
    "empty": "",
    "absolute": "/etc/passwd",
    "dotdot": "../outside",
    "dotdot-inner": "a/../../b",
    "dot-segment": "a/./b",
    "empty-segment": "a//b",
    "trailing-slash": "a/",
    "nul": "nul\x00byte",
    "newline": "new\nline",
    "del": "del\x7f",
    "c1-control": "c1\x85control",
    "backslash": "back\\slash",
    "temp-prefix": "a/.datahub-tmp-x.part",
    "1025-bytes": "x" * 1025,
    "1026-utf8-bytes": "é" * 513,
}


@pytest.mark.parametrize("key", list(BAD_KEYS.values()), ids=list(BAD_KEYS))
def test_storage_rejects_bad_keys(backend: Backend, key: str) -> None:
    s = backend.storage
    calls: list[Callable[[], object]] = [
        lambda: s.put_stream(key, [b"abc"]),
        lambda: s.open_stream(key),
        lambda: s.size(key),
        lambda: s.exists(key),
        lambda: s.delete(key),
    ]
    for call in calls:
        with pytest.raises(InvalidKey) as info:
            call()
        assert isinstance(info.value, ValueError)
        assert isinstance(info.value, BadRequest)
        assert info.value.status == 400
    assert backend.leftovers() == []


@pytest.mark.parametrize("prefix", ["/abs", "../up", "a/../b/", "ctl\x01"])
def test_storage_rejects_bad_prefixes(backend: Backend, prefix: str) -> None:
    with pytest.raises(InvalidKey):
        list(backend.storage.list_keys(prefix))


def test_storage_longest_key_accepted(tmp_path: Path) -> None:
    # 1024 UTF-8 bytes is the limit (S3's). Local file names cap at 255 bytes per segment, so:
    # 5 segments of 204 bytes + 4 slashes = 1020 + 4 = 1024.
    key = "/".join(["x" * 204] * 5)
    assert len(key.encode()) == 1024
    assert validate_key(key) == key
    storage = LocalStorage(tmp_path)
    storage.put_stream(key, [b"abc"])
    assert storage.size(key) == 3


def test_storage_failed_small_stream_leaves_nothing(backend: Backend) -> None:
    with pytest.raises(Boom):
        backend.storage.put_stream("f/small.bin", failing_after(pattern_chunks(MiB, 1024), 3000))
    assert not backend.storage.exists("f/small.bin")
    assert backend.leftovers() == []


def test_storage_failed_multipart_stream_leaves_nothing(backend: Backend) -> None:
    # 11 MiB before the failure: on S3 (5 MiB parts) two parts were already uploaded, so this
    # checks that the multipart upload is aborted, not merely never completed.
    source = failing_after(pattern_chunks(20 * MiB, MiB), 11 * MiB)
    with pytest.raises(Boom):
        backend.storage.put_stream("f/large.bin", source)
    assert not backend.storage.exists("f/large.bin")
    assert backend.leftovers() == []


def test_storage_failed_overwrite_keeps_previous(backend: Backend) -> None:
    backend.storage.put_stream("keep.txt", [b"abc"])
    with pytest.raises(Boom):
        backend.storage.put_stream(
            "keep.txt", failing_after(pattern_chunks(MIN_PART_SIZE * 2, MiB), 6 * MiB)
        )
    assert b"".join(backend.storage.open_stream("keep.txt")) == b"abc"
    assert len(backend.leftovers()) == 1


def test_storage_ensure_ready_is_idempotent(backend: Backend) -> None:
    # The local fixture's folder does not exist yet; the S3 fixture's bucket already does.
    assert backend.storage.ensure_ready() is (backend.name == "local")
    assert backend.storage.ensure_ready() is False
    backend.storage.put_stream("after/ready.txt", [b"ok"])
    assert backend.storage.exists("after/ready.txt")
