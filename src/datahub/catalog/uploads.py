"""New versions of a dataset: parse, validate, store rows and the original file, atomically.

The caller's transaction covers everything: a version that fails validation leaves no row, no
version and the current version current. The file goes to storage in a thread while the rows are
read (an upload to S3 takes as long as the parse), and is deleted again if they fail; if the
transaction fails after that, the stored object is an orphan that :func:`sweep_orphans` removes.
The next batch is parsed and validated in a thread while the current one is stored.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from datahub.accounts.caller import RequestContext
from datahub.audit import service as audit
from datahub.catalog import repository
from datahub.catalog.prefetch import prefetched
from datahub.catalog.readers import open_table
from datahub.catalog.schemas import VersionRead
from datahub.catalog.service import Resolved, authorize_management, version_read
from datahub.db.models import Dataset, DatasetVersion
from datahub.licensing.registry import LicenceRegistry
from datahub.storage.base import Storage, StoredObject

KEY_PREFIX = "datasets"
_KEY_TIME = "%Y%m%dT%H%M%S"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Upload:
    """A received file, already on local disk, with its size and SHA-256."""

    path: Path
    filename: str
    media_type: str | None
    size: int
    sha256: str
    provenance: dict[str, Any] = field(default_factory=dict)


class VersionWatcher(Protocol):
    """Follows one upload: sees each batch, then finishes in the upload's transaction."""

    def add(self, batch: Any, first_row: int) -> None:
        """A valid batch of typed rows, numbered from ``first_row``; called in the thread that
        reads the file, so it must not use the session."""

    def finish(self, version: DatasetVersion) -> None:
        """Called once every row is stored, before commit. Raising aborts the upload."""


#: Called in the upload's transaction before its rows are read; may return a watcher (the carbon
#: engine pre-aggregates standard kinds this way, while the rows stream by).
VersionHook = Callable[[Session, Dataset], VersionWatcher | None]


@dataclass(frozen=True)
class Outcome:
    version: VersionRead
    created: bool
    resolved: Resolved
    version_id: int


def safe_filename(name: str | None) -> str:
    """A file name with no path, no control characters, no surprises."""
    base = (name or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE_NAME.sub("_", base).strip("._") or "upload"
    return cleaned[:120]


def storage_key(dataset_id: str, filename: str) -> str:
    stamp = datetime.now(UTC).strftime(_KEY_TIME)
    return f"{KEY_PREFIX}/{dataset_id}/{stamp}-{uuid.uuid4().hex[:12]}/{filename}"


def add_version(
    session: Session,
    licences: LicenceRegistry,
    storage: Storage,
    ctx: RequestContext,
    dataset_id: str,
    upload: Upload,
    hooks: Sequence[VersionHook] = (),
) -> Outcome:
    """Store ``upload`` as the dataset's new current version.

    Uploading the same bytes as the current version is idempotent: no new version is made.
    """
    resolved = authorize_management(session, licences, ctx, dataset_id, "dataset.upload")
    dataset = repository.get(session, dataset_id, for_update=True)
    assert dataset is not None
    if dataset.current_version is not None:
        current = repository.version(session, dataset_id, dataset.current_version)
        if current is not None and current.sha256 == upload.sha256:
            return Outcome(version_read(dataset, current), False, resolved, current.id)

    filename = safe_filename(upload.filename)
    parsed = open_table(
        upload.path,
        filename=filename,
        media_type=upload.media_type,
        kind=None if dataset.kind == "generic" else dataset.kind,
    )
    version = DatasetVersion(
        dataset_id=dataset_id,
        number=repository.next_version_number(session, dataset_id),
        storage_key=storage_key(dataset_id, filename),
        filename=filename,
        media_type=upload.media_type or "application/octet-stream",
        format=parsed.format,
        size=upload.size,
        sha256=upload.sha256,
        row_count=0,
        columns=[{"name": c.name, "type": c.type} for c in parsed.columns],
        report={},
        provenance=upload.provenance,
        created_by=ctx.caller.user_id,
    )
    repository.add(session, version)
    repository.create_rows_table(session, version)
    watchers = [w for hook in hooks if (w := hook(session, dataset)) is not None]
    with _stored_meanwhile(storage, version.storage_key, upload.path) as storing:
        with (
            repository.rows_loader(session, version) as loader,
            closing(prefetched(_watched(parsed.batches(), watchers))) as batches,
        ):
            for batch in batches:
                loader.add(batch)
        repository.finish_rows_table(session, version)
        stored = storing()
    rows = loader.count
    version.row_count = rows
    version.report = {
        "valid": True,
        "errors": [],
        "rows": rows,
        "format": parsed.format,
        "dialect": parsed.dialect.as_dict(),
        "table_schema": parsed.table_schema,
        "stored_sha256": stored.sha256,
    }
    dataset.current_version = version.number
    dataset.updated_at = datetime.now(UTC)
    if upload.provenance:
        dataset.provenance = upload.provenance
    session.flush()
    for watcher in watchers:
        watcher.finish(version)
    audit.record(
        session,
        audit.event_for(
            ctx,
            "dataset.upload",
            dataset_id=dataset_id,
            version=version.number,
            licence=dataset.licence_id,
            row_count=rows,
            detail={"sha256": upload.sha256, "size": upload.size, "format": parsed.format},
        ),
    )
    return Outcome(version_read(dataset, version), True, resolved, version.id)


def _watched(batches: Iterator[Any], watchers: Sequence[VersionWatcher]) -> Iterator[Any]:
    """The batches, shown to the watchers in the reading thread (the writing one is busier)."""
    first_row = 1
    for batch in batches:
        for watcher in watchers:
            watcher.add(batch, first_row)
        yield batch
        first_row += batch.num_rows


@contextmanager
def _stored_meanwhile(
    storage: Storage, key: str, path: Path
) -> Iterator[Callable[[], StoredObject]]:
    """Store ``path`` under ``key`` in a thread; the context yields the wait for it.

    If the block raises, the thread is waited for and the stored object deleted, so a refused
    upload leaves nothing behind (a crash in between leaves an orphan for the sweep).
    """
    with ThreadPoolExecutor(1, thread_name_prefix="datahub-store") as pool:
        storing = pool.submit(storage.put_file, key, path)
        try:
            yield storing.result
        except BaseException:
            if storing.exception() is None:
                storage.delete(key)
            raise


def sweep_orphans(session: Session, storage: Storage, *, older_than: timedelta) -> list[str]:
    """Delete stored files no version points to (left by a crash between store and commit).

    Only files older than ``older_than`` (by the time in their key) are touched, so uploads in
    flight on other workers are safe.
    """
    known = repository.storage_keys(session)
    limit = datetime.now(UTC) - older_than
    removed = []
    for key in storage.list_keys(f"{KEY_PREFIX}/"):
        if key in known:
            continue
        parts = key.split("/")
        stamp = parts[2].split("-", 1)[0] if len(parts) > 3 else ""
        try:
            made = datetime.strptime(stamp, _KEY_TIME).replace(tzinfo=UTC)
        except ValueError:
            continue
        if made < limit:
            storage.delete(key)
            removed.append(key)
    return removed
