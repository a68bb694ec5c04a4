"""Jobs: connector runs and uploads (:mod:`datahub.ingest.upload_jobs`) tracked as
``queued → running → succeeded | failed`` with progress.

Where a job runs is ``DATAHUB_JOB_QUEUE``:

- ``inline`` (default): the process that records the job owns it and runs it on its one job
  thread (:func:`executor`) — the API process that accepted ``POST /connectors/{name}/runs``,
  or the CLI for ``datahub connectors run``;
- ``database``: the API only records the job; ``datahub worker`` processes claim and run it
  (:mod:`datahub.ingest.worker`, :mod:`datahub.ingest.queue`), as its creator with that user's
  current role.

Each state change is written in a short transaction of its own, never in the run's — except
the end of a successful run, written in the run's store transaction, so a job is ``succeeded``
exactly when its data is committed. Every change is fenced on the owner (``job.worker``): a job
the recovery sweep has failed as interrupted (:mod:`datahub.ingest.queue`) stays failed, and a
run that finds its job taken away rolls its data back.

Progress while a job runs:

- on **PostgreSQL** it is written to the job row (at most every :data:`PERSIST_EVERY` seconds,
  in its own transaction), so any API process can report it;
- on **SQLite** the run's store transaction holds the database's single write lock, so progress
  cannot be written until the run ends. It is kept in :data:`board`, a dictionary of this
  process, and :func:`read` merges it in. The embedded SQLite setup runs one API process, so
  every ``GET /jobs/{id}`` sees it; the final state is persisted when the job ends.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel
from sqlalchemy.orm import Session

from datahub import observability
from datahub.accounts.caller import Caller, RequestContext
from datahub.db.models import Job
from datahub.errors import DatahubError, FieldError, NotFound
from datahub.ingest import queue, registry, repository
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


class JobTakenAway(Exception):
    """The job is no longer this process's (the sweep failed it as interrupted)."""


def create(
    runtime: RunnerRuntime,
    kind: str,
    name: str,
    params: Mapping[str, Any],
    ctx: RequestContext,
    *,
    owned: bool,
) -> JobRead:
    """Record a queued job: owned by this process (which must run it) or left for a worker."""
    now = _now()
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
            created_at=now,
            worker=queue.worker_id() if owned else None,
            heartbeat_at=now if owned else None,
        )
        session.add(job)
        session.flush()
        created = _read(job)
    if owned:
        queue.heartbeats.hold(runtime, created.id)
    return created


def read(runtime: RunnerRuntime, job_id: str, caller: Caller) -> JobRead:
    """The job as its creator or an admin sees it; 404 for anybody else."""
    with runtime.read_session() as session:
        job = session.get(Job, job_id)
        if job is None or not (caller.is_admin or job.created_by == caller.user_id):
            raise NotFound(f"no job {job_id!r}")
        return _read(job)


def list_runs(runtime: RunnerRuntime, caller: Caller, limit: int = 50) -> list[JobRead]:
    """The newest connector runs with their progress: all of them for an admin, a caller's own
    otherwise (as :func:`read` shows one)."""
    mine = None if caller.is_admin else caller.user_id
    with runtime.read_session() as session:
        return [_read(job) for job in repository.recent_jobs(session, CONNECTOR_RUN, limit, mine)]


def read_any(runtime: RunnerRuntime, job_id: str) -> JobRead:
    with runtime.read_session() as session:
        return _read(_job(session, job_id))


def _mine(session: Session, job_id: str, *states: str, **values: Any) -> bool:
    """Update the job if this process owns it and it is in one of ``states``."""
    return repository.update_if_owned(session, job_id, queue.worker_id(), states, values)


def start(runtime: RunnerRuntime, job_id: str) -> None:
    now = _now()
    with runtime.transaction() as session:
        values = {"state": "running", "started_at": now, "heartbeat_at": now, "message": "started"}
        if not _mine(session, job_id, "queued", **values):
            raise JobTakenAway(job_id)


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
                _mine(
                    session,
                    job_id,
                    "running",
                    progress_done=done,
                    progress_total=total,
                    message=message[:500],
                )
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


def _final_progress(job_id: str) -> dict[str, Any]:
    live = board.get(job_id)
    return {} if live is None else {"progress_done": live.done, "progress_total": live.total}


def succeed(session: Session, job_id: str, result: Mapping[str, Any], message: str) -> None:
    """Mark the job succeeded, in the transaction that stores its work (see the docstring)."""
    done = _mine(
        session,
        job_id,
        "running",
        state="succeeded",
        finished_at=_now(),
        result=dict(result),
        message=message,
        **_final_progress(job_id),
    )
    if not done:
        raise JobTakenAway(job_id)


def finisher(job_id: str) -> Callable[[Session, RunResult], None]:
    """Marks a connector run's job succeeded inside the run's store transaction."""

    def finish(session: Session, result: RunResult) -> None:
        succeed(session, job_id, result.as_dict(), _summary(result))

    return finish


def _place(error: FieldError) -> str:
    where = ", ".join(
        part
        for part in (f"row {error.row}" if error.row is not None else None, error.field)
        if part
    )
    return f"{where}: {error.message}" if where else error.message


def error_text(exc: BaseException) -> str:
    if isinstance(exc, DatahubError):
        text = f"{exc.title}: {exc.detail}" if exc.detail else exc.title
        fields = "; ".join(_place(e) for e in exc.errors[:5] if e.field or e.row is not None)
        return f"{text} ({fields})" if fields and fields not in text else text
    return f"internal error ({type(exc).__name__}); see the server log"


def fail(runtime: RunnerRuntime, job_id: str, exc: BaseException) -> None:
    """Record why the job failed. A job the sweep failed meanwhile (SQLite: it may take the
    lock between a long run's rollback and this write) gets the real reason instead."""
    with runtime.transaction() as session:
        _mine(
            session,
            job_id,
            "queued",
            "running",
            "failed",
            state="failed",
            finished_at=_now(),
            error=error_text(exc)[:5000],
            # The {row, field, message} list a synchronous request would get in its 422.
            result={"errors": [e.as_dict() for e in exc.errors[:100]]}
            if isinstance(exc, DatahubError) and exc.errors
            else {},
            message="failed; nothing was stored",
            **_final_progress(job_id),
        )


# --- running ----------------------------------------------------------------------------------


def run_job(runtime: RunnerRuntime, job_id: str, label: str, work: Callable[[], None]) -> bool:
    """Start a queued job this process owns and run ``work``, which stores its result and calls
    :func:`succeed` in the same transaction; record a failure instead. Never raises for the
    job's own errors; returns True when it succeeded."""
    try:
        start(runtime, job_id)
        work()
    except JobTakenAway:
        log.warning("job %s (%s) was failed as interrupted while it ran; dropped", job_id, label)
        return False
    except Exception as exc:
        if isinstance(exc, DatahubError):
            log.warning("job %s (%s) failed: %s", job_id, label, error_text(exc))
        else:
            log.exception("job %s (%s) failed", job_id, label)
        try:
            fail(runtime, job_id, exc)
        except Exception:
            log.exception("could not record the failure of job %s", job_id)
        return False
    finally:
        board.drop(job_id)
        queue.heartbeats.release(job_id)
    return True


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
    """Run a queued connector job this process owns to its end and return it. ``progress``
    (the CLI's progress bar) is called as well as the job's own reporter."""
    reporter = progress_reporter(runtime, job_id)

    def both(done: int, total: int | None, message: str) -> None:
        reporter(done, total, message)
        if progress is not None:
            progress(done, total, message)

    def work() -> None:
        run_connector(
            runtime, name, params, ctx, both, transport=transport, on_stored=finisher(job_id)
        )

    succeeded = run_job(runtime, job_id, name, work)
    observability.record_connector_run(name, "succeeded" if succeeded else "failed")
    return read_any(runtime, job_id)


def prepare_connector_run(
    runtime: RunnerRuntime,
    name: str,
    raw_params: Mapping[str, Any],
    ctx: RequestContext,
    *,
    owned: bool = True,
) -> JobRead:
    """Check the connector, the parameters (422) and the caller, then record a queued job:
    ``owned`` by this process, which must then run it, or left for ``datahub worker``."""
    connector = registry.get(name)
    params = validate_params(connector, raw_params)
    check_caller(ctx)
    return create(
        runtime, CONNECTOR_RUN, connector.name, params.model_dump(mode="json"), ctx, owned=owned
    )


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
) -> JobRead:
    """Queue a run (``DATAHUB_JOB_QUEUE``: on this process's job thread, or for a worker);
    returns the queued job at once."""
    inline = runtime.settings.job_queue == "inline"
    job = prepare_connector_run(runtime, name, raw_params, ctx, owned=inline)
    if inline:
        executor().submit(execute_connector_run, runtime, job.id, job.name, job.params, ctx)
    return job
