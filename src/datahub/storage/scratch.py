"""Scratch space for files on their way in: uploads being received, staged jobs, connector spools.

They live under the instance's own folder — ``DATAHUB_TEMP_DIR``, by default a ``<storage>-tmp``
folder beside local storage — not in the system's temp folder, where a killed process would
leave a full copy of a confidential upload for anyone on the host. Each entry is named after
the process that made it (``<prefix>-<pid>-<random>``); :func:`sweep` removes those whose
process is gone, so a restart leaves nothing of an interrupted upload or job.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from datahub.settings import Settings
from datahub.storage.base import Storage
from datahub.storage.local import LocalStorage

_OWNER: Final = re.compile(r"^[a-z0-9_.]+-(\d+)-")


def root_for(settings: Settings, storage: Storage) -> Path:
    """The instance's scratch folder (created)."""
    if settings.temp_dir:
        root = Path(settings.temp_dir)
    elif isinstance(storage, LocalStorage):
        root = storage.root.with_name(f"{storage.root.name}-tmp")
    else:
        root = Path(tempfile.gettempdir()) / f"{settings.instance_name}-tmp"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


@contextmanager
def scratch_dir(root: Path, prefix: str) -> Iterator[Path]:
    """A private folder under ``root``, removed with everything in it when the block ends."""
    with tempfile.TemporaryDirectory(prefix=f"{prefix}-{os.getpid()}-", dir=root) as folder:
        yield Path(folder)


def sweep(root: Path) -> list[str]:
    """Remove the entries of processes that are no longer running; returns their names."""
    removed = []
    for entry in root.iterdir() if root.is_dir() else ():
        owner = _OWNER.match(entry.name)
        if owner is not None and _alive(int(owner[1])):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry.name)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True
