"""Producers' upload pages: a new version from the browser, large files as jobs, the report.

The body is streamed to disk by the API's own receiver (:mod:`datahub.edge.uploads`, bounded
memory whatever the size) and stored by the catalogue's ``add_version`` exactly as
``POST /api/v1/datasets/{id}/versions``: same caller, same validation, same audit events. A file
over :data:`JOB_ABOVE` (or when the producer asks) becomes an upload job, as the API's
``Prefer: respond-async``; its page follows the job's progress.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from datahub.accounts.caller import Caller, RequestContext
from datahub.catalog import readers
from datahub.catalog import service as catalog
from datahub.catalog import uploads as versions
from datahub.edge.uploads import receive_form
from datahub.errors import DatahubError, FieldError, NotFound, ValidationFailed
from datahub.ingest import jobs, upload_jobs
from datahub.licensing import policy
from datahub.runtime import Runtime
from datahub.storage import scratch
from datahub.web import forms
from datahub.web.deps import context, page_caller, runtime_of, unit_of_work
from datahub.web.manage import MANAGE_REFUSED, managed, refused
from datahub.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute)
#: Files larger than this are stored by a job, so the page need not wait for their validation.
JOB_ABOVE: Final = 16 << 20
#: Rows of a refused file shown beside its report.
PREVIEW_ROWS: Final = 10
#: Errors listed in the report (the API's 422 holds at most as many).
REPORT_ERRORS: Final = 100
CSRF_HEADER: Final = "x-csrf-token"


@router.get("/datasets/{dataset_id}/upload", name="web_upload")
def upload_form(
    request: Request,
    dataset_id: str,
    cree: Annotated[str | None, Query(pattern="^1$")] = None,
) -> Response:
    caller = page_caller(request)
    found = managed(request, caller, dataset_id)
    if isinstance(found, Response):
        return found
    limit = runtime_of(request).settings.max_upload_mb
    return render(
        request,
        caller,
        "upload.html",
        {
            "dataset": found,
            "created": cree is not None,
            "limit_mb": limit,
            "job_above_mb": JOB_ABOVE >> 20,
            "report": None,
        },
    )


def _check_manager(runtime: Runtime, ctx: RequestContext, dataset_id: str) -> None:
    """The API's early refusal, before the body is read (audited as the API's)."""
    with unit_of_work(runtime) as session:
        catalog.authorize_management(session, runtime.licences, ctx, dataset_id, "dataset.upload")


def _ingest(
    runtime: Runtime, ctx: RequestContext, dataset_id: str, upload: versions.Upload
) -> versions.Outcome:
    with unit_of_work(runtime) as session:
        return versions.add_version(
            session,
            runtime.licences,
            runtime.storage,
            ctx,
            dataset_id,
            upload,
            hooks=runtime.version_hooks,
        )


def _report(exc: DatahubError, upload: versions.Upload | None) -> dict[str, Any]:
    """The refusal as the page shows it: the errors and, beside them, the file's first rows."""
    errors: list[FieldError] = exc.errors or [FieldError(None, None, exc.detail or exc.title)]
    preview = None
    if upload is not None:
        preview = readers.first_rows(
            upload.path,
            filename=versions.safe_filename(upload.filename),
            media_type=upload.media_type,
            limit=PREVIEW_ROWS,
        )
    marked = {(e.row, e.field) for e in errors}
    return {
        "detail": exc.detail,
        "status": exc.status,
        "errors": errors[:REPORT_ERRORS],
        "more": max(0, len(errors) - REPORT_ERRORS),
        "preview": preview,
        "bad_rows": {row for row, _field in marked if row is not None},
        "bad_cells": marked,
        "filename": upload.filename if upload else None,
    }


#: What the page says when the file itself is refused before it is read (French, by status).
RECEIPT_REFUSALS: Final = {
    400: "Aucun fichier reçu, ou un fichier vide : choisissez un fichier non vide.",
    413: "Le fichier dépasse la taille maximale acceptée par la plateforme ({limit} Mo).",
    415: "Format de fichier non reconnu : déposez un fichier CSV, JSON, GeoJSON, Parquet ou XLSX.",
}


@router.post("/datasets/{dataset_id}/upload")
async def upload(request: Request, dataset_id: str) -> Response:
    """Without JavaScript the CSRF token comes in the form, so after the body; the script sends
    it as ``X-CSRF-Token`` and a refusal then comes before a byte is read, as on the API."""
    caller = page_caller(request)
    runtime = runtime_of(request)
    ctx = context(request, caller)
    header = request.headers.get(CSRF_HEADER)
    if header is not None:
        forms.check_csrf(request, header)
    report: dict[str, Any] | None = None
    try:
        checked = header is not None or not caller.authenticated
        if checked:
            await run_in_threadpool(_check_manager, runtime, ctx, dataset_id)
        with upload_jobs.counted_upload() as counted:
            limit = runtime.settings.max_upload_mb << 20
            with scratch.scratch_dir(runtime.temp_dir, "upload") as folder:
                received = await receive_form(request, folder, limit)
                if header is None:
                    forms.check_csrf(request, received.fields.get("csrf"))
                file = received.upload
                if file.size > JOB_ABOVE or received.fields.get("tache") == "1":
                    if not checked:
                        await run_in_threadpool(_check_manager, runtime, ctx, dataset_id)
                    job = await run_in_threadpool(
                        upload_jobs.submit_upload, runtime, ctx, dataset_id, file
                    )
                    return RedirectResponse(f"/datasets/{dataset_id}/upload/jobs/{job.id}", 303)
                try:
                    outcome = await run_in_threadpool(_ingest, runtime, ctx, dataset_id, file)
                except ValidationFailed as exc:  # the file is still here: show its first rows
                    report = await run_in_threadpool(_report, exc, file)
                    raise
            counted(outcome)
    except forms.FormExpired:
        raise
    except DatahubError as exc:
        if exc.status in (401, 403):
            return refused(request, caller, MANAGE_REFUSED)
        if report is None and exc.status in RECEIPT_REFUSALS:
            message = RECEIPT_REFUSALS[exc.status].format(limit=runtime.settings.max_upload_mb)
            report = _report(
                ValidationFailed(message, errors=[FieldError(None, "file", message)]), None
            )
            report["status"] = exc.status
        if report is None:
            raise
        return _refused_page(request, caller, dataset_id, report)
    query = "nouvelle=1" if outcome.created else "inchangee=1"
    return RedirectResponse(
        f"/datasets/{dataset_id}/versions/{outcome.version.number}?{query}", 303
    )


def _refused_page(
    request: Request, caller: Caller, dataset_id: str, report: dict[str, Any]
) -> Response:
    with runtime_of(request).read_transaction() as session:
        resolved = catalog.resolve(session, runtime_of(request).licences, caller, dataset_id)
        dataset = catalog.read_one(session, resolved)
    return render(
        request,
        caller,
        "upload.html",
        {
            "dataset": dataset,
            "created": False,
            "limit_mb": runtime_of(request).settings.max_upload_mb,
            "job_above_mb": JOB_ABOVE >> 20,
            "report": report,
        },
        status_code=422 if report["status"] == 400 else report["status"],
    )


@router.get("/datasets/{dataset_id}/upload/jobs/{job_id}", name="web_upload_job")
def upload_job(request: Request, dataset_id: str, job_id: str) -> Response:
    """The job's state and progress: htmx asks for the fragment again while it runs; without
    JavaScript the page refreshes itself."""
    caller = page_caller(request)
    runtime = runtime_of(request)
    job = jobs.read(runtime, job_id, caller)  # 404 for anybody but its creator or an admin
    if job.kind != upload_jobs.UPLOAD or job.params.get("dataset") != dataset_id:
        raise NotFound(f"no job {job_id!r}")
    with runtime.read_transaction() as session:
        dataset = catalog.read_one(
            session, catalog.resolve(session, runtime.licences, caller, dataset_id)
        )
    errors = [
        FieldError(e.get("row"), e.get("field"), e.get("message", ""))
        for e in job.result.get("errors", [])
    ]
    page = {"dataset": dataset, "job": job, "errors": errors}
    fragment = request.headers.get("hx-request") == "true"
    return render(request, caller, "_upload_job.html" if fragment else "upload_job.html", page)


@router.get("/datasets/{dataset_id}/versions/{number}", name="web_version")
def version_page(
    request: Request,
    dataset_id: str,
    number: int,
    nouvelle: Annotated[str | None, Query(pattern="^1$")] = None,
    inchangee: Annotated[str | None, Query(pattern="^1$")] = None,
) -> Response:
    """One version: what was stored (its report), with a link to the dataset's page."""
    caller = page_caller(request)
    runtime = runtime_of(request)
    with runtime.read_transaction() as session:
        resolved = catalog.resolve(session, runtime.licences, caller, dataset_id)
        dataset = catalog.read_one(session, resolved)
        found = [v for v in catalog.list_versions(session, resolved) if v.number == number]
    if not found:
        raise NotFound(f"this dataset has no version {number}")
    return render(
        request,
        caller,
        "version.html",
        {
            "dataset": dataset,
            "version": found[0],
            "created": nouvelle is not None,
            "unchanged": inchangee is not None,
            "manages": policy.may_manage(caller, dataset.producer),
        },
    )
