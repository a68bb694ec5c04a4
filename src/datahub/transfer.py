"""Export and import of a whole instance, to move e.g. from the embedded SQLite default to
PostgreSQL/S3 without losing anything.

An export folder holds ``manifest.json``, one JSON-lines file per table (``tables/``), the rows of
each dataset version (``rows/``) and the original files (``files/``, by storage key, with the
storage copies of the audit seals). Every table
of the schema travels — organisations, users with their token hashes, territories, actors,
datasets, versions, grants, targets, jobs, carbon facts and the audit chain, whose hashes survive
because every value round-trips exactly. Import requires an empty instance at the same schema
revision, runs in one transaction and checks each file's SHA-256 against its version.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Date, LargeBinary, Table
from sqlalchemy.orm import Session

from datahub.audit import seals
from datahub.catalog import rows as catalog_rows
from datahub.catalog import service as catalog
from datahub.db import migrate, snapshot
from datahub.db.models import DatasetVersion, Organization
from datahub.db.types import UTCDateTime
from datahub.errors import Conflict, ValidationFailed
from datahub.runtime import Runtime

FORMAT = "datahub-export/1"
CHUNK = 5000
Progress = Callable[[str, int], None]


def _quiet(_what: str, _count: int) -> None:
    return None


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, BaseGeometry):
        return shapely.to_wkb(value, hex=True)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _decoder(table: Table) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Turns a JSON record back into the Python values the table's column types expect."""
    converters: dict[str, Callable[[Any], Any]] = {}
    for column in table.columns:
        kind = column.type
        if isinstance(kind, UTCDateTime):
            converters[column.name] = datetime.fromisoformat
        elif isinstance(kind, Date):
            converters[column.name] = date.fromisoformat
        elif type(kind).__name__ == "Geometry":
            converters[column.name] = lambda v: shapely.from_wkb(bytes.fromhex(v))
        elif isinstance(kind, LargeBinary):
            converters[column.name] = base64.b64decode

    def decode(record: dict[str, Any]) -> dict[str, Any]:
        return {
            k: (converters[k](v) if v is not None and k in converters else v)
            for k, v in record.items()
        }

    return decode


def _write_lines(path: Path, records: Iterator[Any]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False, default=_encode))
            out.write("\n")
            count += 1
    return count


def _read_lines(path: Path) -> Iterator[Any]:
    with path.open(encoding="utf-8") as source:
        for line in source:
            if line.strip():
                yield json.loads(line)


def export_instance(runtime: Runtime, folder: Path, progress: Progress = _quiet) -> dict[str, Any]:
    """Write the whole instance to ``folder`` (created; must be empty)."""
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise Conflict(f"{folder} is not empty")
    for sub in ("tables", "rows", "files"):
        (folder / sub).mkdir()
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "revision": migrate.current_head(),
        "tables": {},
        "versions": 0,
        "files": 0,
    }
    with runtime.read_session() as session:
        for table in snapshot.tables():
            manifest["tables"][table.name] = _write_lines(
                folder / "tables" / f"{table.name}.jsonl", snapshot.records(session, table)
            )
            progress(table.name, manifest["tables"][table.name])
        for version in catalog.all_versions(session):
            _write_lines(
                folder / "rows" / f"{version.id}.jsonl",
                (
                    [number, *row.values()]
                    for number, row in catalog_rows.iter_version(session, version)
                ),
            )
            runtime.storage.download_to(
                version.storage_key, _file_path(folder, version.storage_key)
            )
            manifest["versions"] += 1
            manifest["files"] += 1
            progress("versions", manifest["versions"])
    # The storage copies of the audit seals travel too: verification compares them with the table.
    manifest["seal_copies"] = 0
    for key in runtime.storage.list_keys(seals.PREFIX):
        runtime.storage.download_to(key, _file_path(folder, key))
        manifest["seal_copies"] += 1
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def _file_path(folder: Path, key: str) -> Path:
    path = folder / "files" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _load_rows(session: Session, version: DatasetVersion, path: Path) -> None:
    names = [c["name"] for c in version.columns]

    def batches() -> Iterator[pa.RecordBatch]:
        chunk: list[list[Any]] = []
        for record in _read_lines(path):
            chunk.append(record)
            if len(chunk) >= CHUNK:
                yield _batch(chunk, names)
                chunk = []
        if chunk:
            yield _batch(chunk, names)

    catalog.load_rows(session, version, batches())


def _batch(chunk: list[list[Any]], names: list[str]) -> pa.RecordBatch:
    columns = list(zip(*chunk, strict=True))[1:]  # the row number is implied
    return pa.RecordBatch.from_arrays([pa.array(list(values)) for values in columns], names=names)


def import_instance(runtime: Runtime, folder: Path, progress: Progress = _quiet) -> dict[str, Any]:
    """Load an export into this (empty, migrated) instance, in one transaction."""
    manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise ValidationFailed(f"{folder} is not a datahub export ({manifest.get('format')})")
    if manifest["revision"] != migrate.current_head():
        raise ValidationFailed(
            f"export is at schema {manifest['revision']}, this instance at "
            f"{migrate.current_head()}: upgrade the older one first"
        )
    stored: list[str] = []
    try:
        with runtime.transaction() as session:
            if not snapshot.is_empty(session, Organization.__table__):
                raise Conflict("the target instance is not empty")
            for table in snapshot.tables():
                decode = _decoder(table)
                batch: list[dict[str, Any]] = []
                for record in _read_lines(folder / "tables" / f"{table.name}.jsonl"):
                    batch.append(decode(record))
                    if len(batch) >= CHUNK:
                        snapshot.insert_records(session, table, batch)
                        batch = []
                if batch:
                    snapshot.insert_records(session, table, batch)
                progress(table.name, manifest["tables"].get(table.name, 0))
            snapshot.reset_sequences(session)
            for version in catalog.all_versions(session):
                _load_rows(session, version, folder / "rows" / f"{version.id}.jsonl")
                source = folder / "files" / version.storage_key
                saved = runtime.storage.put_file(version.storage_key, source)
                stored.append(version.storage_key)
                if saved.sha256 != version.sha256:
                    raise ValidationFailed(
                        f"file of {version.dataset_id} v{version.number} does not match its SHA-256"
                    )
                progress("versions", len(stored))
            copies = folder / "files" / seals.PREFIX
            for source in sorted(copies.glob("*.json")) if copies.is_dir() else []:
                key = seals.PREFIX + source.name
                runtime.storage.put_file(key, source)
                stored.append(key)
    except Exception:
        for key in stored:
            runtime.storage.delete(key)
        raise
    return manifest
