"""The job table is the job queue: ownership, claims, heartbeats and crash recovery.

We keep the queue in the ``job`` table (the pattern procrastinate uses) rather than adopting
procrastinate itself, because procrastinate brings its own schema outside Alembic and would be a
second source of truth for job state; here state, progress and ownership are one row.

- **Ownership.** ``job.worker`` names the process that owns a job: ``host:pid:nonce``
  (:func:`worker_id`). With ``DATAHUB_JOB_QUEUE=inline`` the API process that records a job owns
  it at once; with ``database`` the job waits unowned until a ``datahub worker`` claims it.
- **Claims** (:func:`claim`) take the oldest unowned queued job with
  ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers never wait on each other nor
  take the same job; on SQLite every transaction begins with ``BEGIN IMMEDIATE``, and that
  write lock serialises claims.
- **Heartbeats** (:data:`heartbeats`): while a process holds jobs, a thread refreshes their
  ``heartbeat_at`` every :data:`HEARTBEAT_EVERY` seconds.
- **Recovery** (:func:`sweep`): a queued or running job is failed as interrupted when its
  heartbeat is older than :data:`STALE_AFTER`, or at once when its owner ran on this host and
  that process no longer exists (a restart after a crash). A live sibling's jobs — another API
  process or worker, on this host or another — keep beating and are never touched. API
  processes sweep at start-up and every :data:`SWEEP_EVERY` seconds; workers in their loop.

On SQLite a run's store transaction holds the database's only write lock, so heartbeats (and
sweeps) wait until it ends and the heartbeat may grow older than :data:`STALE_AFTER`. That is
safe: nobody else can write either, and the run's final state is committed in the store
transaction itself, so once the lock is free the job is already ``succeeded``. The embedded
SQLite set-up is meant to run ``inline``.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from datahub.db.models import Job
from datahub.ingest import repository
from datahub.ingest.runner import RunnerRuntime

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running")
HEARTBEAT_EVERY = 5.0  # seconds
STALE_AFTER = timedelta(seconds=60)
SWEEP_EVERY = 30.0  # seconds
INTERRUPTED = "interrupted: the process running it stopped; nothing was stored, run it again"

_identity: tuple[int, str] | None = None


def worker_id() -> str:
    """This process's id in ``job.worker``: ``host:pid:nonce`` (the nonce tells a restarted
    process, which may get the same pid in a container, from the one that crashed)."""
    global _identity
    pid = os.getpid()
    if _identity is None or _identity[0] != pid:
        _identity = (pid, f"{socket.gethostname()}:{pid}:{secrets.token_hex(4)}")
    return _identity[1]


def _now() -> datetime:
    return datetime.now(UTC)


def process_gone(worker: str) -> bool:
    """True when ``worker`` ran on this host and its process is certainly gone.

    A worker of another host, or a live pid (perhaps reused by an unrelated process), is not
    known to be gone: its heartbeat decides.
    """
    host, _, rest = worker.partition(":")
    pid_text, _, _nonce = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return worker != worker_id()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # somebody else's live process
        return False
    return False


# --- claims -----------------------------------------------------------------------------------


def claim(runtime: RunnerRuntime) -> Job | None:
    """Take the oldest queued job nobody owns, for this process; None when there is none.

    The job stays ``queued`` (owned) until :func:`datahub.ingest.jobs.start` runs it.
    """
    with runtime.transaction() as session:
        job = repository.oldest_unowned_queued(session)
        if job is None:
            return None
        job.worker, job.heartbeat_at = worker_id(), _now()
    heartbeats.hold(runtime, job.id)
    return job


# --- heartbeats -------------------------------------------------------------------------------


def beat(runtime: RunnerRuntime, job_ids: Sequence[str]) -> None:
    with runtime.transaction() as session:
        repository.refresh_heartbeats(session, job_ids, worker_id(), ACTIVE, _now())


class Heartbeats:
    """Keeps ``heartbeat_at`` fresh for the jobs this process holds.

    One daemon thread, alive only while some job is held.
    """

    def __init__(self, every: float = HEARTBEAT_EVERY) -> None:
        self.every = every
        self._lock = threading.Lock()
        self._held: dict[str, RunnerRuntime] = {}
        self._thread: threading.Thread | None = None

    def hold(self, runtime: RunnerRuntime, job_id: str) -> None:
        with self._lock:
            self._held[job_id] = runtime
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="datahub-heartbeat", daemon=True
                )
                self._thread.start()

    def release(self, job_id: str) -> None:
        with self._lock:
            self._held.pop(job_id, None)

    def _run(self) -> None:
        stop = threading.Event()  # never set: an interruptible sleep
        while True:
            stop.wait(self.every)
            with self._lock:
                if not self._held:
                    self._thread = None
                    return
                by_runtime: dict[int, tuple[RunnerRuntime, list[str]]] = {}
                for job_id, runtime in self._held.items():
                    by_runtime.setdefault(id(runtime), (runtime, []))[1].append(job_id)
            for runtime, job_ids in by_runtime.values():
                try:
                    beat(runtime, job_ids)
                except Exception:  # e.g. SQLite busy while a run stores: try again next beat
                    log.debug("could not record the heartbeat of %s", job_ids, exc_info=True)


heartbeats = Heartbeats()


# --- recovery ---------------------------------------------------------------------------------


def _interrupted(session: Session, stale_after: timedelta, *, lock: bool) -> list[Job]:
    # With lock, rows a finishing run has locked are skipped: it is alive, and about to end the
    # job itself.
    cutoff = _now() - stale_after
    return [
        job
        for job in repository.owned_in_states(session, ACTIVE, lock=lock)
        if job.heartbeat_at is None or job.heartbeat_at < cutoff or process_gone(job.worker or "")
    ]


def sweep(runtime: RunnerRuntime, stale_after: timedelta = STALE_AFTER) -> list[str]:
    """Fail the queued or running jobs whose process is gone; returns their ids.

    Reads first, so an instance with nothing to recover takes no write lock.
    """
    with runtime.read_session() as session:
        if not _interrupted(session, stale_after, lock=False):
            return []
    with runtime.transaction() as session:
        jobs = _interrupted(session, stale_after, lock=True)
        for job in jobs:
            log.warning("job %s (%s) interrupted: %s stopped", job.id, job.name, job.worker)
            job.state, job.finished_at = "failed", _now()
            job.error, job.message = INTERRUPTED, "interrupted; nothing was stored"
        return [job.id for job in jobs]


def sweep_quietly(runtime: RunnerRuntime) -> list[str]:
    """:func:`sweep`, logging instead of raising (a busy database must not stop a process)."""
    try:
        return sweep(runtime)
    except Exception as exc:  # e.g. SQLite busy past its timeout while a long run stores
        log.warning("could not look for interrupted jobs: %s", exc)
        return []


class Sweeper:
    """Sweeps at :meth:`start`, then every ``every`` seconds in a thread until :meth:`stop`."""

    def __init__(
        self,
        runtime: RunnerRuntime,
        every: float = SWEEP_EVERY,
        sweep: Callable[[RunnerRuntime], list[str]] = sweep_quietly,
    ) -> None:
        self.runtime = runtime
        self.every = every
        self._sweep = sweep
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="datahub-sweeper", daemon=True)

    def start(self) -> list[str]:
        swept = self._sweep(self.runtime)
        self._thread.start()
        return swept

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sweep(self.runtime)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
