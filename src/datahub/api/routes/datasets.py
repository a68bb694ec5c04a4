"""Datasets: metadata, versions, original files and rows — every path through the access policy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from datahub.accounts.caller import RequestContext
from datahub.api import conditional
from datahub.api.deps import (
    ContextDep,
    LicencesDep,
    RuntimeDep,
    SessionDep,
    StorageDep,
    audited_transaction,
)
from datahub.api.formats import Negotiated, formats
from datahub.api.header_values import content_disposition
from datahub.api.licence_headers import licence_headers
from datahub.api.pagination import Listing, Page, PageDep, PageLinks, envelope
from datahub.api.query_names import COLUMN_FILTERS
from datahub.catalog import datapackage, rows, xlsx_writer
from datahub.catalog import service as catalog
from datahub.catalog import uploads as versions
from datahub.catalog.csv_writer import iter_csv_rows
from datahub.catalog.schemas import DatasetCreate, DatasetRead, DatasetUpdate, VersionRead
from datahub.edge.uploads import receive
from datahub.ingest import upload_jobs
from datahub.licensing.levels import AccessLevel
from datahub.runtime import Runtime
from datahub.storage import scratch

router = APIRouter(prefix="/datasets", tags=["datasets"])


class RowsMeta(BaseModel):
    total: int
    licence: str
    licence_url: str
    attribution: str
    version: int
    sha256: str
    page_size: int
    page: int | None = None


class RowsPage(BaseModel):
    """The JSON rows envelope: rows as objects keyed by column name."""

    data: list[dict[str, Any]]
    links: PageLinks
    meta: RowsMeta


DATA_PARAMS = {"format", "dialect", "page_size", "page", "after", "sort", "columns", "version"}
MAX_JSON_PAGE = 10_000
DEFAULT_JSON_PAGE = 100


@router.get("", summary="Search the datasets you may see", response_model=Page[DatasetRead])
def list_datasets(
    request: Request,
    session: SessionDep,
    licences: LicencesDep,
    ctx: ContextDep,
    page: PageDep,
    q: Annotated[
        str | None, Query(max_length=200, description="Words in title, description, tags")
    ] = None,
    licence: Annotated[str | None, Query(max_length=300)] = None,
    level: AccessLevel | None = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    producer: Annotated[str | None, Query(max_length=64)] = None,
    territory: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    filters = catalog.SearchFilters(q, licence, level, kind, producer, territory)
    found, total = catalog.search(
        session, licences, ctx.caller, filters, page=page.page, page_size=page.page_size
    )
    return envelope(request, found, total, page)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a dataset (producer)")
def create_dataset(
    data: DatasetCreate, session: SessionDep, licences: LicencesDep, ctx: ContextDep
) -> DatasetRead:
    return catalog.create(session, licences, ctx, data)


@router.get("/{dataset_id}", summary="One dataset's metadata")
def get_dataset(
    dataset_id: str, session: SessionDep, licences: LicencesDep, ctx: ContextDep
) -> DatasetRead:
    return catalog.read_one(session, catalog.resolve(session, licences, ctx.caller, dataset_id))


@router.patch("/{dataset_id}", summary="Change a dataset's metadata or licence (producer)")
def update_dataset(
    dataset_id: str,
    data: DatasetUpdate,
    session: SessionDep,
    licences: LicencesDep,
    ctx: ContextDep,
) -> DatasetRead:
    return catalog.update(session, licences, ctx, dataset_id, data)


@router.delete(
    "/{dataset_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a dataset (producer)"
)
def delete_dataset(dataset_id: str, runtime: RuntimeDep, ctx: ContextDep) -> Response:
    with audited_transaction(runtime) as session:
        keys = catalog.delete(
            session, runtime.licences, ctx, dataset_id, hooks=runtime.deletion_hooks
        )
    for key in keys:  # after commit: a failed delete leaves an orphan, never a dangling version
        runtime.storage.delete(key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _ingest(
    runtime: Runtime, ctx: RequestContext, dataset_id: str, upload: versions.Upload
) -> versions.Outcome:
    with audited_transaction(runtime) as session:
        return versions.add_version(
            session,
            runtime.licences,
            runtime.storage,
            ctx,
            dataset_id,
            upload,
            hooks=runtime.version_hooks,
        )


@router.post(
    "/{dataset_id}/versions",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a new version (multipart field `file`, or the raw body)",
    openapi_extra={
        "parameters": [
            {
                "name": "filename",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "Name of the file sent as the raw body (or `X-Filename`).",
            }
        ],
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
                "text/csv": {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"schema": {}},
                "application/geo+json": {"schema": {}},
                "application/vnd.apache.parquet": {
                    "schema": {"type": "string", "format": "binary"}
                },
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                },
            }
        },
    },
    responses={
        200: {"description": "Same bytes as the current version: nothing new stored"},
        202: {
            "description": "With `Prefer: respond-async`: the upload is a job, polled at its "
            "`Location` (`/jobs/{id}`), whose result names the version",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
    },
)
async def upload_version(
    dataset_id: str, request: Request, runtime: RuntimeDep, ctx: ContextDep
) -> JSONResponse:
    with upload_jobs.counted_upload() as counted:
        # Refuse early (before reading the body) when the caller may not publish here.
        await run_in_threadpool(_check_manager, runtime, ctx, dataset_id)
        limit = runtime.settings.max_upload_mb << 20
        with scratch.scratch_dir(runtime.temp_dir, "upload") as folder:
            upload = await receive(request, folder, limit)
            if _prefers_async(request):
                job = await run_in_threadpool(
                    upload_jobs.submit_upload, runtime, ctx, dataset_id, upload
                )
                url = str(request.url_for("get_job", job_id=job.id).path)
                return JSONResponse(
                    {**job.model_dump(mode="json"), "links": {"self": url}},
                    status_code=status.HTTP_202_ACCEPTED,
                    headers={"Location": url, "Preference-Applied": "respond-async"},
                )
            outcome = await run_in_threadpool(_ingest, runtime, ctx, dataset_id, upload)
        counted(outcome)
    return JSONResponse(
        outcome.version.model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK,
        headers={"Location": f"{request.url.path}/{outcome.version.number}"},
    )


def _prefers_async(request: Request) -> bool:
    """RFC 7240 ``Prefer: respond-async`` (among other preferences, parameters ignored)."""
    preferences = ",".join(request.headers.getlist("prefer"))
    names = (p.split(";")[0].split("=")[0].strip().lower() for p in preferences.split(","))
    return "respond-async" in names


def _check_manager(runtime: Runtime, ctx: RequestContext, dataset_id: str) -> None:
    with audited_transaction(runtime) as session:
        catalog.authorize_management(session, runtime.licences, ctx, dataset_id, "dataset.upload")


@router.get(
    "/{dataset_id}/versions", summary="Versions of a dataset", response_model=Listing[VersionRead]
)
def list_versions(
    dataset_id: str, session: SessionDep, licences: LicencesDep, ctx: ContextDep
) -> dict[str, Any]:
    resolved = catalog.resolve(session, licences, ctx.caller, dataset_id)
    found = catalog.list_versions(session, resolved)
    return {"data": found, "meta": {"total": len(found)}}


@router.get(
    "/{dataset_id}/datapackage.json",
    summary="The version as a Frictionless Data Package (resources, Table Schema, licence)",
    response_class=JSONResponse,
    responses={200: {"content": {"application/json": {"schema": {"type": "object"}}}}},
)
def get_data_package(
    dataset_id: str,
    session: SessionDep,
    licences: LicencesDep,
    ctx: ContextDep,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> JSONResponse:
    # Sizes, checksums and dialects are the data's: the caller must be able to read it.
    resolved = catalog.authorize_data(session, licences, ctx, dataset_id, "dataset.read_package")
    found = catalog.get_version(session, resolved, version)
    body = datapackage.data_package(resolved.dataset, found, resolved.licence)
    return JSONResponse(body, headers=licence_headers(resolved))


@router.get(
    "/{dataset_id}/versions/{number}/file",
    summary="The original bytes of a version, with their SHA-256",
    response_class=StreamingResponse,
    responses={200: {"content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}},
)
def download_file(
    dataset_id: str,
    number: int,
    request: Request,
    session: SessionDep,
    licences: LicencesDep,
    storage: StorageDep,
    ctx: ContextDep,
) -> Response:
    resolved = catalog.authorize_data(session, licences, ctx, dataset_id, "dataset.read_file")
    version = catalog.get_version(session, resolved, number)
    headers = {
        **licence_headers(resolved),
        **conditional.validators(f'"{version.sha256}"', version.created_at),
        "Content-Disposition": content_disposition(version.filename),
        "X-Checksum-SHA256": version.sha256,
        "Repr-Digest": f"sha-256=:{_b64(version.sha256)}:",
    }
    if (unchanged := conditional.not_modified(request, headers)) is not None:
        return unchanged
    chunks = storage.open_stream(version.storage_key)
    catalog.record_read(session, ctx, resolved, version, "dataset.read_file", version.row_count)
    headers["Content-Length"] = str(version.size)
    return StreamingResponse(
        chunks, media_type=catalog.original_media_type(version), headers=headers
    )


def _b64(hex_digest: str) -> str:
    import base64

    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


@router.get(
    "/{dataset_id}/data",
    summary="Rows of a version, filtered, sorted and paginated (JSON, CSV or XLSX)",
    description=(
        "Parameters as data.gouv.fr's api-tabular. Filters: `<column>__<op>=<value>` with op in "
        + ", ".join(rows.OPERATORS)
        + " (`greater`/`less` are inclusive, `strictly_*` are not; `in`/`notin` take "
        "comma-separated values; `isnull`/`isnotnull` need no value). "
        "Sort: `<column>__sort=asc|desc` or `sort=[-]col`. Projection: `columns=a,b`. "
        'Pages: `page=` (by number) or follow `links.next` / the `Link: rel="next"` header '
        "(a keyset cursor, constant cost at any depth). "
        "CSV and XLSX without `page_size` carry every matching row. "
        "`ETag`/`Last-Modified` answer `If-None-Match`/`If-Modified-Since` with 304."
    ),
    responses={
        200: {"model": RowsPage, "content": {"text/csv": {}, xlsx_writer.MEDIA_TYPE: {}}},
        304: {"description": "Not modified since the copy the client holds"},
    },
    openapi_extra={COLUMN_FILTERS: True},
)
def read_rows(
    dataset_id: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    ctx: ContextDep,
    fmt: Annotated[Negotiated, Depends(formats("json", "csv", "xlsx"))],
    dialect: Literal["default", "fr"] = "default",
    page_size: Annotated[int | None, Query(ge=1, le=MAX_JSON_PAGE)] = None,
    page: Annotated[int | None, Query(ge=1, le=1_000_000, description="Page number")] = None,
    after: Annotated[str | None, Query(max_length=2000)] = None,
    sort: Annotated[str | None, Query(max_length=200)] = None,
    columns: Annotated[
        str | None, Query(max_length=2000, description="Comma-separated columns to return")
    ] = None,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Any:
    licences = runtime.licences
    resolved = catalog.authorize_data(session, licences, ctx, dataset_id, "dataset.read_rows")
    found = catalog.get_version(session, resolved, version)
    sort, filters = rows.parse_sort(sort, rows.parse_filters(request.query_params, DATA_PARAMS))
    size = page_size or (DEFAULT_JSON_PAGE if fmt.name == "json" or page else None)
    query = rows.RowQuery(filters, sort, after, size, rows.parse_columns(columns), page)
    prepared = rows.prepare(found, query)
    cache = conditional.validators(
        conditional.etag(found.sha256, resolved.licence.id, fmt.name, str(request.url.query)),
        found.created_at,
    )
    headers = {**licence_headers(resolved), **cache, "Vary": "Accept"}
    if (unchanged := conditional.not_modified(request, headers)) is not None:
        return unchanged
    if fmt.name == "json":
        return _json_page(request, session, ctx, resolved, found, prepared, size or 0, headers)
    total = rows.count(session, prepared)
    served = max(0, min(total - prepared.offset, size)) if size else total
    catalog.record_read(session, ctx, resolved, found, "dataset.read_rows", served)
    names = [c.name for c in prepared.columns]
    stem = f"{dataset_id}-v{found.number}"
    limited = prepared.limited(size)
    if fmt.name == "xlsx":
        return StreamingResponse(
            _xlsx_stream(runtime, limited, names, stem),
            media_type=xlsx_writer.MEDIA_TYPE,
            headers={**headers, "Content-Disposition": content_disposition(f"{stem}.xlsx")},
        )
    return StreamingResponse(
        _csv_stream(runtime, limited, names, dialect),
        media_type="text/csv; charset=utf-8",
        headers={**headers, "Content-Disposition": content_disposition(f"{stem}.csv")},
    )


def _json_page(
    request: Request,
    session: Any,
    ctx: Any,
    resolved: catalog.Resolved,
    found: Any,
    prepared: rows.Prepared,
    size: int,
    headers: dict[str, str],
) -> JSONResponse:
    page = rows.fetch_page(session, prepared, size)
    catalog.record_read(session, ctx, resolved, found, "dataset.read_rows", len(page.rows))
    next_link = None
    if page.has_more:
        number = request.query_params.get("page")
        step = {"page": int(number) + 1} if number else {"after": page.next_cursor}
        next_link = str(request.url.include_query_params(**step))
        headers = {**headers, "Link": f'{headers["Link"]}, <{next_link}>; rel="next"'}
    meta = {
        "total": page.total,
        "licence": resolved.licence.id,
        "licence_url": resolved.licence.url,
        "attribution": catalog.attribution(resolved),
        "version": found.number,
        "sha256": found.sha256,
        "page_size": size,
    }
    if request.query_params.get("page"):
        meta["page"] = int(request.query_params["page"])
    return JSONResponse(
        {"data": page.rows, "links": {"next": next_link}, "meta": meta}, headers=headers
    )


def _csv_stream(
    runtime: Runtime, prepared: rows.Prepared, columns: list[str], dialect: str
) -> Iterator[bytes]:
    """Rows streamed from a snapshot read session (the request's transaction is over by now)."""
    with runtime.read_session() as session:
        yield from iter_csv_rows(rows.stream(session, prepared), columns, dialect=dialect)


def _xlsx_stream(
    runtime: Runtime, prepared: rows.Prepared, columns: list[str], title: str
) -> Iterator[bytes]:
    with runtime.read_session() as session:
        yield from xlsx_writer.iter_xlsx(rows.stream(session, prepared), columns, title)
