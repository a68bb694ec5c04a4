"""``datahub worker``: claim queued jobs (:mod:`datahub.ingest.queue`) and run each as its
creator, whatever its kind (connector run or upload)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session

from datahub.accounts import service as accounts
from datahub.accounts.caller import Caller, RequestContext, Role
from datahub.db.models import Job
from datahub.errors import DatahubError, Forbidden
from datahub.ingest import jobs, queue, upload_jobs
from datahub.ingest.runner import RunnerRuntime

PURPOSES = {jobs.CONNECTOR_RUN: "connector run", upload_jobs.UPLOAD: "upload of"}


def creator_context(session: Session, job: Job) -> RequestContext:
    """The caller a queued job runs as: its creator, with the role they have now."""
    user = accounts.find_user(session, job.created_by) if job.created_by is not None else None
    organization = accounts.find_organization(session, user.organization_id) if user else None
    if user is None or organization is None:
        raise Forbidden("the user who started this job no longer exists")
    role: Role = user.role  # type: ignore[assignment]
    caller = Caller(
        user_id=user.id,
        email=user.email,
        organization_id=organization.id,
        organization_member=organization.member,
        role=role,
    )
    purpose = f"{PURPOSES.get(job.kind, job.kind)} {job.name}"
    return RequestContext(caller, request_id=f"job-{job.id}", purpose=purpose)


def run_claimed(runtime: RunnerRuntime, job: Job) -> jobs.JobRead:
    """Run a job :func:`queue.claim` gave this process, as its creator."""
    try:
        if job.kind not in PURPOSES:
            raise DatahubError(f"unknown job kind {job.kind!r}")
        with runtime.read_session() as session:
            ctx = creator_context(session, job)
    except DatahubError as exc:
        jobs.fail(runtime, job.id, exc)
        queue.heartbeats.release(job.id)
        if job.kind == upload_jobs.UPLOAD:
            upload_jobs.discard_staged(runtime, job.params)
        return jobs.read_any(runtime, job.id)
    if job.kind == upload_jobs.UPLOAD:
        return upload_jobs.execute_upload(runtime, job.id, job.params, ctx)
    return jobs.execute_connector_run(runtime, job.id, job.name, job.params, ctx)


def work(
    runtime: RunnerRuntime,
    stop: threading.Event,
    *,
    once: bool = False,
    poll_interval: float = 2.0,
    on_done: Callable[[jobs.JobRead], None] | None = None,
) -> int:
    """Claim and run queued jobs until ``stop`` is set (checked between jobs) or, with
    ``once``, until none is left; sweeps interrupted jobs on the way. Returns how many ran."""
    ran = 0
    next_sweep = 0.0
    while not stop.is_set():
        if time.monotonic() >= next_sweep:
            upload_jobs.sweep(runtime)
            next_sweep = time.monotonic() + queue.SWEEP_EVERY
        job = queue.claim(runtime)
        if job is None:
            if once:
                break
            stop.wait(poll_interval)
            continue
        done = run_claimed(runtime, job)
        ran += 1
        if on_done is not None:
            on_done(done)
    return ran
