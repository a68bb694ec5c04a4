"""Objects as files under one folder: ``<root>/<key>``, written to a temp file then renamed."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from datahub.storage.base import (
    DEFAULT_CHUNK_SIZE,
    TEMP_PREFIX,
    ObjectNotFound,
    StoredObject,
    iter_file,
    validate_key,
    validate_prefix,
    write_atomically,
)


class LocalStorage:
    """A :class:`~datahub.storage.base.Storage` on the local file system.

    The root folder is created on first write. Temp files (``.datahub-tmp-*.part``) live beside
    their target so the final rename is atomic; listings never show them.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def ensure_ready(self) -> bool:
        if self.root.is_dir():
            return False
        self.root.mkdir(parents=True)
        return True

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> StoredObject:
        path = self._path(key)
        size, sha256 = write_atomically(path, chunks)
        return StoredObject(key=key, size=size, sha256=sha256)

    def put_file(self, key: str, path: Path) -> StoredObject:
        return self.put_stream(key, iter_file(Path(path)))

    def open_stream(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        path = self._path(key)
        try:
            fh = path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(f"No stored object {key!r}.") from None
        return _read_chunks(fh, chunk_size)

    def download_to(self, key: str, path: Path) -> StoredObject:
        size, sha256 = write_atomically(Path(path), self.open_stream(key))
        return StoredObject(key=key, size=size, sha256=sha256)

    def size(self, key: str) -> int:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(f"No stored object {key!r}.")
        return path.stat().st_size

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        if path.is_file():
            path.unlink(missing_ok=True)

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix)
        # Walk only the folder the prefix points into; filter the rest by plain string prefix.
        folder = self.root.joinpath(*prefix.split("/")[:-1])
        if not folder.is_dir():
            return iter(())
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if not d.startswith(TEMP_PREFIX)]
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                if name.startswith(TEMP_PREFIX):
                    continue
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        # Sorted as S3 sorts (code-point order equals UTF-8 byte order).
        return iter(sorted(keys))


def _read_chunks(fh: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    with fh:
        while chunk := fh.read(chunk_size):
            yield chunk
