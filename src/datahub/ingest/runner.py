"""Run one connector and store what it yields: datasets' versions, territories, actors.

A run has two phases:

1. **fetch**: the connector runs against upstream and everything it yields is spooled to a
   temporary folder (version contents as files, records as JSON lines). No database transaction
   is open while the network is slow or retrying, so a 500 upstream cannot leave anything behind
   and, on SQLite, the single write lock is not held during downloads.
2. **store**: one transaction (``runtime.transaction()``) applies the spool in order. Any error
   rolls it back; the files already put in storage for this run's new versions are then deleted,
   so a failed run leaves the catalogue (rows and files) as it was.

Idempotence: a version whose bytes equal the dataset's current version is not stored again
(``uploads.add_version`` compares SHA-256), and connectors skip an unchanged upstream through
``previous_checksum`` (the ``upstream_checksum`` recorded with the current version).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from datahub import __version__
from datahub.accounts.caller import RequestContext
from datahub.audit import service as audit
from datahub.catalog import service as catalog
from datahub.catalog import uploads
from datahub.catalog.schemas import DatasetCreate
from datahub.errors import FieldError, Forbidden, NotFound, ValidationFailed
from datahub.ingest import registry
from datahub.ingest.contract import (
    ActorRecord,
    Connector,
    ConnectorContext,
    FatalConnectorError,
    ProducedVersion,
    TerritoryRecord,
)
from datahub.ingest.http import Sleep, build_http_client
from datahub.licensing.registry import LicenceRegistry
from datahub.settings import Settings
from datahub.storage import Storage, scratch
from datahub.territories import service as territories
from datahub.territories.codes import LEVELS
from datahub.territories.schemas import ActorCreate, TerritoryCreate

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
ProgressCallback = Callable[[int, int | None, str], None]
RUN_ROLES = ("admin", "producer")


class RunnerRuntime(Protocol):
    """The parts of :class:`datahub.runtime.Runtime` a run needs (ingest sits below runtime)."""

    settings: Settings
    engine: Engine
    licences: LicenceRegistry
    storage: Storage
    temp_dir: Path

    @property
    def version_hooks(self) -> Sequence[uploads.VersionHook]: ...

    def transaction(self) -> AbstractContextManager[Session]: ...

    def read_session(self) -> AbstractContextManager[Session]: ...


@dataclass(frozen=True)
class VersionOutcome:
    dataset: str
    version: int
    created: bool


@dataclass
class RunResult:
    versions: list[VersionOutcome] = field(default_factory=list)
    territories: int = 0
    actors: int = 0
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "versions": [
                {"dataset": v.dataset, "version": v.version, "created": v.created}
                for v in self.versions
            ],
            "territories": self.territories,
            "actors": self.actors,
            "warnings": list(self.warnings),
        }


#: Called inside the store transaction once everything is applied (the job records its end).
StoredCallback = Callable[[Session, RunResult], None]


def default_transport() -> httpx.BaseTransport | None:
    """The transport of runs started without one; None means the network.

    The API and the CLI start runs without a transport; tests monkeypatch this function to
    replay recorded answers through an ``httpx.MockTransport``.
    """
    return None


def user_agent(settings: Settings) -> str:
    """Names the software and, as the contact upstream operators can reach, this instance."""
    return f"datahub/{__version__} (+{settings.base_url}; {settings.instance_name})"


def _ignore(done: int, total: int | None, message: str) -> None:
    return None


# --- parameters -------------------------------------------------------------------------------


def validate_params(connector: Connector[Any], raw: Mapping[str, Any]) -> BaseModel:
    """The connector's parameters, or a 422 naming each bad field (``params.<name>``)."""
    model: type[BaseModel] = connector.params_model
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        errors = [
            FieldError(
                None,
                "params." + ".".join(str(p) for p in error["loc"]) if error["loc"] else "params",
                error["msg"],
            )
            for error in exc.errors()
        ]
        summary = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
        raise ValidationFailed(
            f"bad parameters for connector {connector.name!r}: {summary}", errors=errors
        ) from None


def check_caller(ctx: RequestContext) -> None:
    caller = ctx.caller
    if caller.role not in RUN_ROLES or caller.organization_id is None:
        raise Forbidden("only admins and producers run connectors")


def licence_aliases(licences: LicenceRegistry) -> dict[str, str]:
    """Every id, URL and alias of every licence (also lower-cased) → the licence id."""
    aliases: dict[str, str] = {}
    for licence in licences.all():
        for key in (licence.id, licence.url, *licence.aliases):
            aliases.setdefault(key, licence.id)
            aliases.setdefault(key.lower(), licence.id)
    return aliases


# --- phase 1: fetch into a spool --------------------------------------------------------------


@dataclass(frozen=True)
class _SpooledVersion:
    meta: ProducedVersion  # content emptied: the bytes are in ``path``
    path: Path
    sha256: str
    size: int


_Item = _SpooledVersion | TerritoryRecord | ActorRecord


class _Spool:
    """What a connector yielded, on disk: one JSON line per item, one file per version."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._lines = folder / "items.jsonl"
        self._out = self._lines.open("w", encoding="utf-8")
        self.count = 0

    def add(self, item: object) -> None:
        if isinstance(item, ProducedVersion):
            path = self._folder / f"{self.count:06d}.bin"
            path.write_bytes(item.content)
            meta = item.model_copy(update={"content": b""})
            line = {
                "type": "version",
                "path": str(path),
                "sha256": item.sha256,
                "size": len(item.content),
                "data": meta.model_dump(mode="json"),
            }
        elif isinstance(item, TerritoryRecord):
            line = {"type": "territory", "data": item.model_dump(mode="json")}
        elif isinstance(item, ActorRecord):
            line = {"type": "actor", "data": item.model_dump(mode="json")}
        else:
            raise FatalConnectorError(f"the connector yielded a {type(item).__name__}")
        self._out.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.count += 1

    def close(self) -> None:
        self._out.close()

    def __iter__(self) -> Iterator[_Item]:
        with self._lines.open(encoding="utf-8") as lines:
            for raw in lines:
                line = json.loads(raw)
                if line["type"] == "version":
                    yield _SpooledVersion(
                        ProducedVersion.model_validate(line["data"]),
                        Path(line["path"]),
                        line["sha256"],
                        line["size"],
                    )
                elif line["type"] == "territory":
                    yield TerritoryRecord.model_validate(line["data"])
                else:
                    yield ActorRecord.model_validate(line["data"])


def _previous_checksums(runtime: RunnerRuntime, ctx: RequestContext) -> Callable[[str], str | None]:
    """``previous_checksum`` for the context, read in short read-only sessions."""
    cache: dict[str, str | None] = {}

    def lookup(dataset_id: str) -> str | None:
        if dataset_id not in cache:
            with runtime.read_session() as session:
                try:
                    resolved = catalog.resolve(session, runtime.licences, ctx.caller, dataset_id)
                    current = catalog.get_version(session, resolved, None)
                except NotFound:
                    cache[dataset_id] = None
                else:
                    checksum = current.provenance.get("upstream_checksum")
                    cache[dataset_id] = str(checksum) if checksum else None
        return cache[dataset_id]

    return lookup


def _fetch(
    connector: Connector[Any],
    params: BaseModel,
    runtime: RunnerRuntime,
    ctx: RequestContext,
    spool: _Spool,
    progress: ProgressCallback,
    transport: httpx.BaseTransport | None,
    sleep: Sleep,
) -> None:
    with build_http_client(
        user_agent(runtime.settings),
        transport=transport,
        allowed_hosts=frozenset(runtime.settings.connector_allowed_hosts),
        sleep=sleep,
    ) as client:
        context = ConnectorContext(
            http=client,
            report_progress=progress,
            previous_checksum=_previous_checksums(runtime, ctx),
            licence_aliases=licence_aliases(runtime.licences),
        )
        try:
            for item in connector.run(params, context):
                spool.add(item)
        except ValidationError as exc:  # a connector built a bad record
            raise FatalConnectorError(f"connector {connector.name!r} yielded {exc}") from exc
        finally:
            spool.close()


# --- phase 2: store in one transaction --------------------------------------------------------


class _Store:
    """Applies spooled items inside the run's transaction; remembers what to undo in storage."""

    def __init__(
        self, session: Session, runtime: RunnerRuntime, ctx: RequestContext, connector: str
    ) -> None:
        self.session = session
        self.runtime = runtime
        self.ctx = ctx
        self.connector = connector
        self.result = RunResult()
        self.stored_keys: list[str] = []
        self._known: set[str] = set()

    def _territory_exists(self, code: str) -> bool:
        if code in self._known:
            return True
        try:
            territories.get(self.session, code)
        except NotFound:
            return False
        self._known.add(code)
        return True

    def warn(self, message: str) -> None:
        log.warning("connector %s: %s", self.connector, message)
        self.result.warnings.append(message)

    def territory(self, record: TerritoryRecord) -> None:
        if record.level not in LEVELS:
            self.warn(f"territory {record.code} skipped: level {record.level!r} is not stored")
            return
        parents = []
        for parent in record.parents:
            if self._territory_exists(parent):
                parents.append(parent)
            else:
                self.warn(f"territory {record.code}: unknown parent {parent} dropped")
        data = _model(
            TerritoryCreate,
            code=record.code,
            name=record.name,
            level=record.level,
            parent=parents,
            geometry=record.geometry,
            population=record.population,
        )
        territories.upsert(self.session, data, replace=True)
        self._known.add(record.code)
        self.result.territories += 1

    def actor(self, record: ActorRecord) -> None:
        if record.territory is None or not self._territory_exists(record.territory):
            where = record.territory or "no territory"
            self.warn(f"actor {record.id} skipped: {where} is not a known territory")
            return
        prefix, _, rest = record.id.partition(":")
        actor_id = rest if prefix in ("siren", "siret") and rest else record.id
        data = _model(
            ActorCreate,
            id=actor_id,
            siren=record.siren,
            siret=record.siret,
            name=record.name,
            naf=record.naf,
            sector=record.sector,
            territory=record.territory,
            lon=record.lon,
            lat=record.lat,
        )
        territories.upsert_actor(self.session, data)
        self.result.actors += 1

    def _ensure_dataset(self, meta: ProducedVersion) -> None:
        try:
            catalog.resolve(self.session, self.runtime.licences, self.ctx.caller, meta.dataset_id)
            return
        except NotFound:
            pass
        codes = []
        for code in meta.territories:
            if self._territory_exists(code):
                codes.append(code)
            else:
                self.warn(f"dataset {meta.dataset_id}: unknown territory {code} left out")
        data = _model(
            DatasetCreate,
            id=meta.dataset_id,
            title=meta.title[:300],
            description=meta.description[:20_000],
            licence=meta.licence,
            kind=meta.kind,
            approach=meta.approach or "territorial",
            tags=[t for t in meta.tags if 0 < len(t.strip()) <= 60][:50],
            territories=codes,
        )
        catalog.create(self.session, self.runtime.licences, self.ctx, data)

    def version(self, item: _SpooledVersion) -> None:
        meta = item.meta
        self._ensure_dataset(meta)
        provenance: dict[str, Any] = {
            "connector": self.connector,
            **meta.provenance.model_dump(mode="json", exclude_none=True),
        }
        if meta.attribution:
            provenance["attribution"] = meta.attribution
        upload = uploads.Upload(
            path=item.path,
            filename=meta.filename,
            media_type=meta.media_type,
            size=item.size,
            sha256=item.sha256,
            provenance=provenance,
        )
        outcome = uploads.add_version(
            self.session,
            self.runtime.licences,
            self.runtime.storage,
            self.ctx,
            meta.dataset_id,
            upload,
            hooks=self.runtime.version_hooks,
        )
        if outcome.created:
            stored = catalog.get_version(self.session, outcome.resolved, outcome.version.number)
            self.stored_keys.append(stored.storage_key)
        self.result.versions.append(
            VersionOutcome(meta.dataset_id, outcome.version.number, outcome.created)
        )


def _model(model: type[M], **values: Any) -> M:
    """Build a domain schema from a connector record; a mismatch is the connector's fault."""
    try:
        return model(**values)
    except ValidationError as exc:
        errors = [
            FieldError(None, ".".join(str(p) for p in e["loc"]) or None, e["msg"])
            for e in exc.errors()
        ]
        raise ValidationFailed(
            f"the connector produced an invalid {model.__name__}: {errors[0].message}",
            errors=errors,
        ) from None


def _store(
    runtime: RunnerRuntime,
    ctx: RequestContext,
    connector: str,
    spool: _Spool,
    progress: ProgressCallback,
    on_stored: StoredCallback | None,
) -> RunResult:
    total = spool.count
    stored_keys: list[str] = []
    try:
        with audit.audited_transaction(runtime.transaction) as session:
            store = _Store(session, runtime, ctx, connector)
            stored_keys = store.stored_keys
            for done, item in enumerate(spool, start=1):
                if isinstance(item, _SpooledVersion):
                    store.version(item)
                elif isinstance(item, TerritoryRecord):
                    store.territory(item)
                else:
                    store.actor(item)
                if done % 50 == 0 or done == total:
                    progress(done, total, f"stored {done} of {total} items")
            if on_stored is not None:
                on_stored(session, store.result)
        return store.result
    except BaseException:
        for key in stored_keys:
            try:
                runtime.storage.delete(key)
            except Exception:
                log.exception("could not delete %s after a failed run", key)
        raise


# --- the run ----------------------------------------------------------------------------------


def run_connector(
    runtime: RunnerRuntime,
    name: str,
    raw_params: Mapping[str, Any],
    ctx: RequestContext,
    progress: ProgressCallback = _ignore,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Sleep = time.sleep,
    on_stored: StoredCallback | None = None,
) -> RunResult:
    """Run connector ``name`` with ``raw_params`` as the caller of ``ctx`` and store the result.

    ``on_stored(session, result)`` runs last in the store transaction: what it writes commits
    with the run or not at all, and an exception from it rolls the run back.

    Raises :class:`~datahub.ingest.registry.ConnectorNotFound` (404), ``ValidationFailed`` (422,
    naming ``params.<field>``), ``Forbidden``, the connector errors, or whatever storing raised;
    in every failure case nothing was committed and no stored file is left behind.
    """
    connector = registry.get(name)
    params = validate_params(connector, raw_params)
    check_caller(ctx)
    if transport is None:
        transport = default_transport()
    with scratch.scratch_dir(runtime.temp_dir, "connector") as folder:
        spool = _Spool(folder)
        _fetch(connector, params, runtime, ctx, spool, progress, transport, sleep)
        progress(0, spool.count, f"storing {spool.count} items")
        return _store(runtime, ctx, connector.name, spool, progress, on_stored)
