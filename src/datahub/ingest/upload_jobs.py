"""Uploads as jobs: ``POST /datasets/{id}/versions`` with ``Prefer: respond-async``.

Large files need not hold a request open while they are validated and stored. The received body
is staged in the instance's storage (``staging/<random>/<file>``), so a ``datahub worker`` on
another host can read it; the job then stores the version exactly as a synchronous upload does,
in one transaction that also marks the job succeeded, and discards the staged copy whatever the
outcome. A staged copy whose job was interrupted (its process died) is discarded by
:func:`sweep`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from datahub import observability
from datahub.accounts.caller import RequestContext
from datahub.audit import service as audit
from datahub.catalog import uploads
from datahub.db.models import DatasetVersion
from datahub.errors import DatahubError
from datahub.ingest import jobs, queue, repository
from datahub.ingest.runner import ProgressCallback, RunnerRuntime
from datahub.storage import scratch

log = logging.getLogger(__name__)

UPLOAD = "upload"
STAGING_PREFIX = "staging"


def submit_upload(
    runtime: RunnerRuntime, ctx: RequestContext, dataset_id: str, upload: uploads.Upload
) -> jobs.JobRead:
    """Stage the received file and queue its ingest (``DATAHUB_JOB_QUEUE``: on this process's
    job thread, or for a worker); returns the queued job at once."""
    staged = f"{STAGING_PREFIX}/{uuid.uuid4().hex}/{uploads.safe_filename(upload.filename)}"
    runtime.storage.put_file(staged, upload.path)
    params = {
        "dataset": dataset_id,
        "staged": staged,
        "filename": upload.filename,
        "media_type": upload.media_type,
        "size": upload.size,
        "sha256": upload.sha256,
    }
    inline = runtime.settings.job_queue == "inline"
    try:
        job = jobs.create(runtime, UPLOAD, dataset_id, params, ctx, owned=inline)
    except BaseException:
        runtime.storage.delete(staged)
        raise
    if inline:
        jobs.executor().submit(execute_upload, runtime, job.id, params, ctx)
    return job


@contextmanager
def counted_upload() -> Iterator[Callable[[uploads.Outcome], None]]:
    """Counts one upload where it happens (``datahub_uploads_total``): stored or unchanged as
    the outcome handed to the yielded callback says, refused for a 4xx refusal, failed for any
    other error. An upload handed over to a job is not counted here: the job counts it."""
    outcomes: list[uploads.Outcome] = []
    try:
        yield outcomes.append
    except DatahubError as exc:
        observability.record_upload("refused" if 400 <= exc.status < 500 else "failed")
        raise
    except BaseException:
        observability.record_upload("failed")
        raise
    for outcome in outcomes:
        version = outcome.version
        observability.record_upload(
            "stored" if outcome.created else "unchanged",
            size=version.size or 0,
            rows=version.row_count,
        )


def execute_upload(
    runtime: RunnerRuntime, job_id: str, params: Mapping[str, Any], ctx: RequestContext
) -> jobs.JobRead:
    """Store a staged upload as the dataset's new version; the job ends with the version."""

    def work() -> None:
        try:
            outcome = _store(runtime, job_id, params, ctx)
        except DatahubError as exc:
            observability.record_upload("refused" if 400 <= exc.status < 500 else "failed")
            raise
        except Exception:
            observability.record_upload("failed")
            raise
        version = outcome.version
        observability.record_upload(
            "stored" if outcome.created else "unchanged",
            size=params["size"],
            rows=version.row_count,
        )

    try:
        jobs.run_job(runtime, job_id, f"upload to {params['dataset']}", work)
    finally:
        discard_staged(runtime, params)
    return jobs.read_any(runtime, job_id)


class _RowsRead:
    """Reports the rows read so far as the job's progress (their total is known at the end)."""

    def __init__(self, report: ProgressCallback) -> None:
        self.report = report

    def add(self, batch: Any, first_row: int) -> None:
        done = first_row + batch.num_rows - 1
        self.report(done, None, f"{done} rows read")

    def finish(self, version: DatasetVersion) -> None:
        self.report(version.row_count, version.row_count, f"{version.row_count} rows stored")


def _store(
    runtime: RunnerRuntime, job_id: str, params: Mapping[str, Any], ctx: RequestContext
) -> uploads.Outcome:
    # As for a synchronous upload: a refused attempt is audited on its own. The local copy is
    # removed before the transaction commits, so a job seen as succeeded has left nothing.
    with audit.audited_transaction(runtime.transaction) as session:
        with scratch.scratch_dir(runtime.temp_dir, "job") as folder:
            path = folder / "upload"
            runtime.storage.download_to(params["staged"], path)
            upload = uploads.Upload(
                path, params["filename"], params["media_type"], params["size"], params["sha256"]
            )
            progress = _RowsRead(jobs.progress_reporter(runtime, job_id))
            outcome = uploads.add_version(
                session,
                runtime.licences,
                runtime.storage,
                ctx,
                params["dataset"],
                upload,
                hooks=[*runtime.version_hooks, lambda _s, _d: progress],
            )
        version = outcome.version
        result = {
            "dataset": params["dataset"],
            "version": version.number,
            "created": outcome.created,
            "rows": version.row_count,
        }
        message = (
            f"version {version.number} stored ({version.row_count} rows)"
            if outcome.created
            else f"same bytes as version {version.number}: nothing new stored"
        )
        jobs.succeed(session, job_id, result, message)
    return outcome


def discard_staged(runtime: RunnerRuntime, params: Mapping[str, Any]) -> None:
    try:
        runtime.storage.delete(params["staged"])
    except Exception:  # the sweep tries again when the job is found interrupted
        log.exception("could not delete the staged upload %s", params["staged"])


def sweep(runtime: RunnerRuntime) -> list[str]:
    """:func:`queue.sweep_quietly`, then discard the staged files of interrupted uploads."""
    swept = queue.sweep_quietly(runtime)
    if swept:
        with runtime.read_session() as session:
            for job in repository.jobs_of_kind(session, swept, UPLOAD):
                discard_staged(runtime, job.params)
    return swept
