"""Jobs: connector runs tracked as ``queued → running → succeeded | failed`` with progress.

Each state change is written in a short transaction of its own, never in the run's.

Progress while a job runs:

- on **PostgreSQL** it is written to the job row (at most every :data:`PERSIST_EVERY` seconds,
  in its own transaction), so any API process can report it;
- on **SQLite** the run's store transaction holds the database's single write lock, so progress
  cannot be written until the run ends. It is kept in :data:`board`, a dictionary of this
  process, and :func:`read` merges it in. The embedded SQLite setup runs one API process, so
  every ``GET /jobs/{id}`` sees it; the final state is persisted when the job ends.

A process that dies mid-run leaves its job ``running``; nothing restarts it.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel
from sqlalchemy.orm import Session

from datahub import observability
from datahub.accounts.caller import Caller, RequestContext
from datahub.db.models import Job
from datahub.errors import DatahubError, NotFound
from datahub.ingest import registry
from datahub.ingest.runner import (
    ProgressCallback,
    RunnerRuntime,
    RunResult,
    check_caller,
    run_connector,
    validate_params,
)

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "succeeded", "failed"]
CONNECTOR_RUN = "connector-run"
PERSIST_EVERY = 0.5  # seconds between progress writes on PostgreSQL


class JobProgress(BaseModel):
    done: int
    total: int | None
    message: str


class JobRead(BaseModel):
    id: str
    kind: str
    name: str
    state: JobState
    params: dict[str, Any]
    progress: JobProgress
    result: dict[str, Any]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ProgressBoard:
    """Live progress of the jobs running in this process, by job id (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._progress: dict[str, JobProgress] = {}

    def set(self, job_id: str, progress: JobProgress) -> None:
        with self._lock:
            self._progress[job_id] = progress

    def get(self, job_id: str) -> JobProgress | None:
        with self._lock:
            return self._progress.get(job_id)

    def drop(self, job_id: str) -> None:
        with self._lock:
            self._progress.pop(job_id, None)


board = ProgressBoard()


def _now() -> datetime:
    return datetime.now(UTC)


def _job(session: Session, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id!r}")
    return job


def _read(job: Job) -> JobRead:
    progress = JobProgress(done=job.progress_done, total=job.progress_total, message=job.message)
    if job.state == "running":
        progress = board.get(job.id) or progress
    return JobRead(
        id=job.id,
        kind=job.kind,
        name=job.name,
        state=job.state,
        params=dict(job.params),
        progress=progress,
        result=dict(job.result),
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


# --- lifecycle --------------------------------------------------------------------------------


def create(
    runtime: RunnerRuntime, kind: str, name: str, params: Mapping[str, Any], ctx: RequestContext
) -> JobRead:
    with runtime.transaction() as session:
        job = Job(
            id=str(uuid.uuid4()),
            kind=kind,
            name=name,
            params=dict(params),
            state="queued",
            progress_done=0,
            progress_total=None,
            message="queued",
            result={},
            created_by=ctx.caller.user_id,
            created_at=_now(),
        )
        session.add(job)
        session.flush()
        return _read(job)


def read(runtime: RunnerRuntime, job_id: str, caller: Caller) -> JobRead:
    """The job as its creator or an admin sees it; 404 for anybody else."""
    with runtime.read_session() as session:
        job = session.get(Job, job_id)
        if job is None or not (caller.is_admin or job.created_by == caller.user_id):
            raise NotFound(f"no job {job_id!r}")
        return _read(job)


def start(runtime: RunnerRuntime, job_id: str) -> None:
    with runtime.transaction() as session:
        job = _job(session, job_id)
        job.state, job.started_at, job.message = "running", _now(), "started"


def progress_reporter(runtime: RunnerRuntime, job_id: str) -> ProgressCallback:
    """A progress callback for the job: to :data:`board`, and to the row on PostgreSQL."""
    in_database = runtime.engine.dialect.name != "sqlite"
    last_write = 0.0

    def report(done: int, total: int | None, message: str) -> None:
        nonlocal last_write
        board.set(job_id, JobProgress(done=done, total=total, message=message[:500]))
        if not in_database or time.monotonic() - last_write < PERSIST_EVERY:
            return
        last_write = time.monotonic()
        try:
            with runtime.transaction() as session:
                job = _job(session, job_id)
                job.progress_done, job.progress_total, job.message = done, total, message[:500]
        except Exception:  # progress is informative: never fail the run for it
            log.exception("could not record the progress of job %s", job_id)

    return report


def _summary(result: RunResult) -> str:
    created = sum(v.created for v in result.versions)
    text = (
        f"{len(result.versions)} version(s) ({created} new), "
        f"{result.territories} territories, {result.actors} actors"
    )
    if result.warnings:
        shown = "; ".join(result.warnings[:20])
        more = len(result.warnings) - 20
        text += f". Warnings: {shown}" + (f" (and {more} more)" if more > 0 else "")
    return text


def finish(runtime: RunnerRuntime, job_id: str, result: RunResult) -> None:
    live = board.get(job_id)
    with runtime.transaction() as session:
        job = _job(session, job_id)
        job.state, job.finished_at = "succeeded", _now()
        job.result = result.as_dict()
        job.message = _summary(result)
        if live is not None:
            job.progress_done, job.progress_total = live.done, live.total
    board.drop(job_id)


def error_text(exc: BaseException) -> str:
    if isinstance(exc, DatahubError):
        text = f"{exc.title}: {exc.detail}" if exc.detail else exc.title
        fields = "; ".join(f"{e.field}: {e.message}" for e in exc.errors[:5] if e.field)
        return f"{text} ({fields})" if fields and fields not in text else text
    return f"internal error ({type(exc).__name__}); see the server log"


def fail(runtime: RunnerRuntime, job_id: str, exc: BaseException) -> None:
    live = board.get(job_id)
    try:
        with runtime.transaction() as session:
            job = _job(session, job_id)
            job.state, job.finished_at = "failed", _now()
            job.error = error_text(exc)[:5000]
            job.message = "failed; nothing was stored"
            if live is not None:
                job.progress_done, job.progress_total = live.done, live.total
    finally:
        board.drop(job_id)


# --- running ----------------------------------------------------------------------------------


def execute_connector_run(
    runtime: RunnerRuntime,
    job_id: str,
    name: str,
    params: Mapping[str, Any],
    ctx: RequestContext,
    progress: ProgressCallback | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
) -> JobRead:
    """Run a queued connector job to its end and return it; never raises for the run's errors.

    ``progress`` (the CLI's progress bar) is called as well as the job's own reporter.
    """
    try:
        start(runtime, job_id)
        reporter = progress_reporter(runtime, job_id)

        def both(done: int, total: int | None, message: str) -> None:
            reporter(done, total, message)
            if progress is not None:
                progress(done, total, message)

        result = run_connector(runtime, name, params, ctx, both, transport=transport)
    except Exception as exc:
        if isinstance(exc, DatahubError):
            log.warning("job %s (%s) failed: %s", job_id, name, error_text(exc))
        else:
            log.exception("job %s (%s) failed", job_id, name)
        observability.record_connector_run(name, "failed")
        try:
            fail(runtime, job_id, exc)
        except Exception:
            log.exception("could not record the failure of job %s", job_id)
    else:
        observability.record_connector_run(name, "succeeded")
        finish(runtime, job_id, result)
    return read_any(runtime, job_id)


def read_any(runtime: RunnerRuntime, job_id: str) -> JobRead:
    with runtime.read_session() as session:
        return _read(_job(session, job_id))


def prepare_connector_run(
    runtime: RunnerRuntime, name: str, raw_params: Mapping[str, Any], ctx: RequestContext
) -> JobRead:
    """Check the connector, the parameters (422) and the caller, then record a queued job."""
    connector = registry.get(name)
    params = validate_params(connector, raw_params)
    check_caller(ctx)
    return create(runtime, CONNECTOR_RUN, connector.name, params.model_dump(mode="json"), ctx)


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def executor() -> ThreadPoolExecutor:
    """The process's job worker: one thread, so runs never compete for the database."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="datahub-job")
        return _executor


def submit_connector_run(
    runtime: RunnerRuntime, name: str, raw_params: Mapping[str, Any], ctx: RequestContext
) -> tuple[JobRead, Future[JobRead]]:
    """Queue a run on the worker thread; returns the queued job at once."""
    job = prepare_connector_run(runtime, name, raw_params, ctx)
    future = executor().submit(execute_connector_run, runtime, job.id, job.name, job.params, ctx)
    return job, future
