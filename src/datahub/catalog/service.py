"""Datasets: metadata, visibility and the access decision for each caller (contract §2).

Every route that touches a dataset starts with :func:`resolve`, which applies the access policy:
a caller who may not know the dataset exists gets the same 404 as for a dataset that does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import pyarrow as pa
from slugify import slugify
from sqlalchemy.orm import Session

from datahub.accounts import service as accounts
from datahub.accounts.caller import Caller, RequestContext
from datahub.audit import service as audit
from datahub.catalog import kinds, repository
from datahub.catalog.schemas import (
    Access,
    DatasetCreate,
    DatasetRead,
    DatasetUpdate,
    LicenceRef,
    TemporalCoverage,
    VersionRead,
)
from datahub.db.models import Dataset, DatasetVersion
from datahub.errors import (
    Conflict,
    DatahubError,
    FieldError,
    Forbidden,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from datahub.licensing import policy
from datahub.licensing import service as grants
from datahub.licensing.registry import Licence, LicenceRegistry
from datahub.suggest import did_you_mean
from datahub.territories import service as territories


@dataclass(frozen=True)
class Resolved:
    """A dataset as one caller sees it."""

    dataset: Dataset
    licence: Licence
    decision: policy.Decision


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[FieldError(None, field, message)])


def _licence(licences: LicenceRegistry, value: str, field: str = "licence") -> Licence:
    licence = licences.resolve(value)
    if licence is None:
        guess = licences.suggest(value)
        raise _invalid(
            field,
            f"unknown licence {value[:80]!r}{did_you_mean(guess.id if guess else None)} "
            "(every licence: /api/v1/licenses)",
        )
    return licence


def _facts(dataset: Dataset, active: Mapping[str, tuple[int, ...]]) -> policy.DatasetFacts:
    return policy.DatasetFacts(
        id=dataset.id,
        level=dataset.level,
        producer=dataset.organization_id,
        active_grants=active.get(dataset.id, ()),
    )


def facts(session: Session, caller: Caller, dataset: Dataset) -> policy.DatasetFacts:
    return _facts(dataset, grants.active_grants(session, caller, [dataset.id]))


def decisions(
    session: Session, caller: Caller, datasets: Sequence[Dataset]
) -> dict[str, policy.Decision]:
    """The caller's rights on each dataset, with one read of the caller's grants."""
    active = grants.active_grants(session, caller, [d.id for d in datasets])
    return {d.id: policy.decide(caller, _facts(d, active)) for d in datasets}


def resolve(
    session: Session, licences: LicenceRegistry, caller: Caller, dataset_id: str
) -> Resolved:
    """The dataset and the caller's rights on it; 404 if the caller may not see it."""
    dataset = repository.get(session, dataset_id)
    if dataset is None:
        raise NotFound("no dataset with this id")
    decision = policy.decide(caller, facts(session, caller, dataset))
    if not decision.metadata:
        raise NotFound("no dataset with this id")
    return Resolved(dataset, licences.get(dataset.licence_id), decision)


def to_read(resolved: Resolved, territory_codes: list[str]) -> DatasetRead:
    dataset, licence = resolved.dataset, resolved.licence
    coverage = None
    if dataset.temporal_start or dataset.temporal_end:
        coverage = TemporalCoverage(start=dataset.temporal_start, end=dataset.temporal_end)
    return DatasetRead(
        id=dataset.id,
        title=dataset.title,
        description=dataset.description,
        producer=dataset.organization_id,
        licence=LicenceRef(
            id=licence.id, title=licence.title, url=licence.url, level=licence.level
        ),
        level=dataset.level,
        kind=dataset.kind,
        approach=dataset.approach,
        tags=list(dataset.tags),
        territories=territory_codes,
        temporal_coverage=coverage,
        provenance=(
            dict(dataset.provenance)
            if resolved.decision.data
            else without_fingerprints(dict(dataset.provenance))
        ),
        current_version=dataset.current_version,
        created_at=dataset.created_at,
        updated_at=dataset.updated_at,
        access=Access(data=resolved.decision.data, basis=resolved.decision.basis),
    )


def read_one(session: Session, resolved: Resolved) -> DatasetRead:
    codes = repository.territories_of(session, [resolved.dataset.id])[resolved.dataset.id]
    return to_read(resolved, codes)


def _check_territories(session: Session, codes: list[str]) -> None:
    missing = territories.unknown(session, codes)
    if missing:
        raise _invalid("territories", f"unknown territory: {', '.join(missing[:5])}")


def _unique_id(session: Session, title: str) -> str:
    base = slugify(title, max_length=90, word_boundary=True) or "dataset"
    candidate, n = base, 1
    while repository.exists(session, candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def authorize_create(caller: Caller) -> None:
    """Who may publish a new dataset: producers and admins of an organisation (the demo loader
    and connectors act as such a caller without a user)."""
    if caller.role is None:  # anonymous
        raise Unauthenticated("this operation needs an API token")
    if caller.role not in ("producer", "admin") or caller.organization_id is None:
        raise Forbidden("only producers and admins publish datasets")


def create(
    session: Session, licences: LicenceRegistry, ctx: RequestContext, data: DatasetCreate
) -> DatasetRead:
    caller = ctx.caller
    authorize_create(caller)
    assert caller.organization_id is not None
    producer = caller.organization_id
    if data.producer is not None and data.producer != producer:
        if not caller.is_admin:
            raise Forbidden("producers publish for their own organisation only")
        accounts.get_organization(session, data.producer)
        producer = data.producer
    if not kinds.is_kind(data.kind):
        raise _invalid("kind", f"unknown kind {data.kind!r}; one of {', '.join(kinds.KINDS)}")
    licence = _licence(licences, data.licence)
    _check_territories(session, data.territories)
    dataset_id = data.id or _unique_id(session, data.title)
    if repository.exists(session, dataset_id):
        raise Conflict(f"dataset {dataset_id!r} already exists")
    coverage = data.temporal_coverage
    dataset = Dataset(
        id=dataset_id,
        title=data.title,
        description=data.description,
        organization_id=producer,
        licence_id=licence.id,
        level=licence.level,
        kind=data.kind,
        approach=data.approach,
        tags=data.tags,
        temporal_start=coverage.start if coverage else None,
        temporal_end=coverage.end if coverage else None,
        provenance={},
        search_text=repository.search_text(data.title, data.description, data.tags),
        created_by=caller.user_id,
    )
    repository.add(session, dataset)
    repository.set_territories(session, dataset.id, data.territories)
    audit.record(
        session,
        audit.event_for(ctx, "dataset.create", dataset_id=dataset.id, licence=licence.id),
    )
    decision = policy.decide(caller, facts(session, caller, dataset))
    return to_read(Resolved(dataset, licence, decision), data.territories)


def update(
    session: Session,
    licences: LicenceRegistry,
    ctx: RequestContext,
    dataset_id: str,
    data: DatasetUpdate,
) -> DatasetRead:
    resolved = authorize_management(session, licences, ctx, dataset_id, "dataset.update")
    dataset = resolved.dataset
    changes = data.model_dump(exclude_unset=True)
    if "licence" in changes and data.licence is not None:
        licence = _licence(licences, data.licence)
        if licence.id != dataset.licence_id:
            audit.record(
                session,
                audit.event_for(
                    ctx,
                    "dataset.licence_change",
                    dataset_id=dataset.id,
                    licence=licence.id,
                    detail={"from": dataset.licence_id, "to": licence.id},
                ),
            )
            dataset.licence_id, dataset.level = licence.id, licence.level
    for name in ("title", "description", "approach", "tags"):
        if name in changes and changes[name] is not None:
            setattr(dataset, name, getattr(data, name))
    if "temporal_coverage" in changes:
        coverage = data.temporal_coverage
        dataset.temporal_start = coverage.start if coverage else None
        dataset.temporal_end = coverage.end if coverage else None
    if data.territories is not None:
        _check_territories(session, data.territories)
        repository.set_territories(session, dataset.id, data.territories)
    dataset.search_text = repository.search_text(dataset.title, dataset.description, dataset.tags)
    dataset.updated_at = datetime.now(UTC)
    session.flush()
    return read_one(session, resolve(session, licences, ctx.caller, dataset_id))


#: Called in a dataset deletion's transaction with the ids of the versions going away, for what
#: other modules derived from them (the carbon engine's facts).
VersionsDeletedHook = Callable[[Session, Sequence[int]], None]


def delete(
    session: Session,
    licences: LicenceRegistry,
    ctx: RequestContext,
    dataset_id: str,
    hooks: Sequence[VersionsDeletedHook] = (),
) -> list[str]:
    """Delete a dataset and its versions; returns the storage keys to remove after commit."""
    resolved = authorize_management(session, licences, ctx, dataset_id, "dataset.delete")
    versions = repository.versions(session, dataset_id)
    keys = [v.storage_key for v in versions]
    repository.drop_rows_tables(session, versions)
    for hook in hooks:
        hook(session, [v.id for v in versions])
    audit.record(
        session,
        audit.event_for(
            ctx, "dataset.delete", dataset_id=dataset_id, licence=resolved.dataset.licence_id
        ),
    )
    repository.delete_dataset(session, resolved.dataset)
    return keys


@dataclass(frozen=True)
class SearchFilters:
    q: str | None = None
    licence: str | None = None
    level: str | None = None
    kind: str | None = None
    producer: str | None = None
    territory: str | None = None


def search(
    session: Session,
    licences: LicenceRegistry,
    caller: Caller,
    filters: SearchFilters,
    *,
    page: int,
    page_size: int,
) -> tuple[list[DatasetRead], int]:
    """Datasets the caller may see; anonymous callers never learn restricted ones exist."""
    licence_id = None
    if filters.licence is not None:
        licence = licences.resolve(filters.licence)
        licence_id = licence.id if licence else filters.licence
    scope = None
    if filters.territory is not None:
        scope = territories.inside(session, filters.territory)
    query = repository.search_query(
        q=filters.q,
        licence=licence_id,
        level=filters.level,
        kind=filters.kind,
        producer=filters.producer,
        territories=scope,
        hide_restricted=not caller.authenticated,
    )
    rows, total = repository.page(session, query, (page - 1) * page_size, page_size)
    return reads(session, licences, caller, rows), total


def reads(
    session: Session, licences: LicenceRegistry, caller: Caller, datasets: Sequence[Dataset]
) -> list[DatasetRead]:
    allowed = decisions(session, caller, datasets)
    codes = repository.territories_of(session, [d.id for d in datasets])
    result = []
    for dataset in datasets:
        decision = allowed[dataset.id]
        if decision.metadata:
            resolved = Resolved(dataset, licences.get(dataset.licence_id), decision)
            result.append(to_read(resolved, codes[dataset.id]))
    return result


@dataclass(frozen=True)
class CatalogueEntry:
    """A dataset as a catalogue describes it: who publishes it, where, and its current file."""

    dataset: DatasetRead
    licence: Licence
    publisher: str
    version: VersionRead | None
    places: list[territories.Footprint]


def harvestable(
    session: Session, licences: LicenceRegistry, caller: Caller
) -> list[CatalogueEntry]:
    """The datasets whose data the caller may read, for the DCAT catalogue.

    Only those: data.gouv.fr's harvester (anonymous) maps ``dct:accessRights`` to nothing, so a
    shared dataset it listed would be republished as open data with resources answering 401.
    A member's own (authenticated) harvest lists what the member may read.
    """
    query = repository.search_query(
        q=None,
        licence=None,
        level=None,
        kind=None,
        producer=None,
        territories=None,
        hide_restricted=not caller.authenticated,
    )
    readable = [
        d
        for d in reads(session, licences, caller, repository.all_matching(session, query))
        if d.access.data
    ]
    names = {o.id: o.name for o in accounts.list_organizations(session)}
    places = territories.footprints(session, [c for d in readable for c in d.territories])
    entries = []
    for item in readable:
        version = None
        if item.current_version is not None:
            found = repository.version(session, item.id, item.current_version)
            dataset = repository.get(session, item.id)
            if found is not None and dataset is not None:
                version = version_read(dataset, found)
        entries.append(
            CatalogueEntry(
                item,
                licences.get(item.licence.id),
                names.get(item.producer, item.producer),
                version,
                [places[c] for c in item.territories if c in places],
            )
        )
    return entries


#: Parts of a version's report that describe the file's bytes (contract §5b).
_BYTES_REPORT: Final = ("dialect", "stored_sha256")
#: Provenance fields that fingerprint the bytes too (a connector's upstream checksum).
_BYTES_PROVENANCE: Final = ("upstream_checksum",)


def version_read(dataset: Dataset, version: DatasetVersion, *, data: bool = True) -> VersionRead:
    """A version as the caller may see it: without ``data`` (the caller may see the dataset but
    not read its data) its SHA-256, exact size and dialect are left out — with them a small
    file could be guessed and checked offline (contract §5b)."""
    report = dict(version.report)
    provenance = dict(version.provenance)
    if not data:
        report = {k: v for k, v in report.items() if k not in _BYTES_REPORT}
        provenance = without_fingerprints(provenance)
    return VersionRead(
        number=version.number,
        filename=version.filename,
        media_type=version.media_type,
        format=version.format,
        size=version.size if data else None,
        sha256=version.sha256 if data else None,
        row_count=version.row_count,
        columns=list(version.columns),
        report=report,
        provenance=provenance,
        created_at=version.created_at,
        current=version.number == dataset.current_version,
    )


def without_fingerprints(provenance: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in provenance.items() if k not in _BYTES_PROVENANCE}


def exists(session: Session, dataset_id: str) -> bool:
    return repository.exists(session, dataset_id)


def all_versions(session: Session) -> Sequence[DatasetVersion]:
    """Every version of every dataset, in creation order (instance export and import)."""
    return repository.all_versions(session)


def load_rows(session: Session, version: DatasetVersion, batches: Iterable[pa.RecordBatch]) -> None:
    """Create the version's rows table and fill it with ``batches`` (instance import)."""
    repository.create_rows_table(session, version)
    with repository.rows_loader(session, version) as loader:
        for batch in batches:
            loader.add(batch)
    repository.finish_rows_table(session, version)


def list_versions(session: Session, resolved: Resolved) -> list[VersionRead]:
    data = resolved.decision.data
    return [
        version_read(resolved.dataset, v, data=data)
        for v in repository.versions(session, resolved.dataset.id)
    ]


#: Python codec names as IANA charset names (what HTTP's ``charset`` parameter takes).
_IANA_CHARSETS = {
    "cp1252": "windows-1252",
    "iso8859-1": "iso-8859-1",
    "iso8859-15": "iso-8859-15",
    "mac-roman": "macintosh",
    "cp850": "ibm850",
}


def original_media_type(version: DatasetVersion) -> str:
    """The stored file's media type, with the charset it was read in for a CSV (a Windows-1252
    file served as UTF-8 would show mojibake to whoever opens it)."""
    encoding = (version.report.get("dialect") or {}).get("encoding")
    if version.format != "csv" or not encoding:
        return version.media_type
    charset = _IANA_CHARSETS.get(encoding, encoding)
    return f"text/csv; charset={charset}"


def get_version(session: Session, resolved: Resolved, number: int | None) -> DatasetVersion:
    """A version by number, or the current one; 404 when there is none."""
    wanted = number if number is not None else resolved.dataset.current_version
    if wanted is None:
        raise NotFound("this dataset has no version yet")
    version = repository.version(session, resolved.dataset.id, wanted)
    if version is None:
        raise NotFound(f"this dataset has no version {wanted}")
    return version


def attribution(resolved: Resolved) -> str:
    """Attribution text: producer, title, licence."""
    dataset = resolved.dataset
    return f"{dataset.organization_id} — {dataset.title} — {resolved.licence.title}"


def authorize_data(
    session: Session, licences: LicenceRegistry, ctx: RequestContext, dataset_id: str, action: str
) -> Resolved:
    """The dataset if the caller may read its data; otherwise a denial that is audited."""
    dataset = repository.get(session, dataset_id)
    if dataset is None:
        raise NotFound("no dataset with this id")
    decision = policy.decide(ctx.caller, facts(session, ctx.caller, dataset))
    if not decision.data:
        error = (
            decision.denial(dataset_id=dataset.id)
            if decision.metadata
            else NotFound("no dataset with this id")
        )
        error.audit_event = audit.event_for(
            ctx,
            action,
            outcome="denied",
            dataset_id=dataset.id,
            licence=dataset.licence_id,
            detail={"status": error.status},
        )
        raise error
    return Resolved(dataset, licences.get(dataset.licence_id), decision)


def managed_ids(session: Session, caller: Caller) -> list[str]:
    """The datasets whose access the caller decides: its organisation's, for a producer; for an
    admin, every dataset with a grant or an access request (the rest need no decision)."""
    if caller.is_admin:
        return grants.datasets_with_access_records(session)
    if caller.role == "producer" and caller.organization_id is not None:
        return list(repository.ids_of_producer(session, caller.organization_id))
    return []


def authorize_management(
    session: Session, licences: LicenceRegistry, ctx: RequestContext, dataset_id: str, action: str
) -> Resolved:
    """The dataset if the caller manages it (producer or admin); otherwise an audited denial."""
    resolved = resolve(session, licences, ctx.caller, dataset_id)
    if not policy.may_manage(ctx.caller, resolved.dataset.organization_id):
        error: DatahubError = (
            Forbidden("only the producing organisation's producers or an admin may do this")
            if ctx.caller.authenticated
            else Unauthenticated("this operation needs an API token")
        )
        error.audit_event = audit.event_for(
            ctx,
            action,
            outcome="denied",
            dataset_id=resolved.dataset.id,
            licence=resolved.dataset.licence_id,
            detail={"status": error.status},
        )
        raise error
    return resolved


def record_read(
    session: Session,
    ctx: RequestContext,
    resolved: Resolved,
    version: DatasetVersion,
    action: str,
    rows: int | None,
) -> None:
    """Audit a read of shared or restricted data; count reads of open data."""
    dataset = resolved.dataset
    if dataset.level == "open":
        audit.count_open_read(session, dataset.id, rows or 0)
        return
    audit.record(
        session,
        audit.event_for(
            ctx,
            action,
            dataset_id=dataset.id,
            version=version.number,
            licence=dataset.licence_id,
            basis=resolved.decision.basis,
            row_count=rows,
        ),
    )
