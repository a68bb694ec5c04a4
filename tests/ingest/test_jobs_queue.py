"""The job table as a queue: claims, recovery sweeps, fenced endings and the worker loop.

Upstream is the replayed data.gouv.fr of runner_replays.py (the runner's default transport is
monkeypatched). The cross-process behaviour (SIGKILL, SIGTERM) is in tests/deployment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.ingest.runner_replays import (
    HUB_DATASET,
    DataGouv,
    context,
    datagouv_params,
    snapshot,
)

from datahub.accounts import service as accounts
from datahub.app import create_app
from datahub.db.models import Job
from datahub.ingest import jobs, queue, runner, worker
from datahub.runtime import Runtime

INTERRUPTED = "interrupted: the process running it stopped; nothing was stored, run it again"


@pytest.fixture
def producer(make_user: Callable[..., Persona]) -> Persona:
    return make_user("producer", "cda-lr", member=True)


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> DataGouv:
    portal = DataGouv()
    monkeypatch.setattr(runner, "default_transport", lambda: httpx.MockTransport(portal.handler))
    return portal


@pytest.fixture
def database_queue(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setattr(
        runtime, "settings", runtime.settings.model_copy(update={"job_queue": "database"})
    )
    return runtime


def _queue(runtime: Runtime, persona: Persona, count: int) -> list[str]:
    ctx = context(runtime, persona)
    return [
        jobs.prepare_connector_run(
            runtime, "datagouv-dataset", datagouv_params(), ctx, owned=False
        ).id
        for _ in range(count)
    ]


def _row(runtime: Runtime, job_id: str) -> Job:
    with runtime.transaction() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def test_concurrent_claims_take_each_job_once_oldest_first(
    runtime: Runtime, producer: Persona
) -> None:
    queued = _queue(runtime, producer, 12)
    first = queue.claim(runtime)
    assert first is not None
    assert first.id == queued[0]  # oldest first
    assert (first.state, first.worker) == ("queued", queue.worker_id())  # owned, not started
    claimed = [first.id]
    lock = threading.Lock()

    def claim_all() -> None:
        while (job := queue.claim(runtime)) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=claim_all) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for job_id in claimed:
        queue.heartbeats.release(job_id)
    assert sorted(claimed) == sorted(queued)  # every job once: none lost, none twice


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_sweep_fails_only_the_jobs_whose_process_is_gone(runtime: Runtime) -> None:
    now = datetime.now(UTC)
    here = queue.worker_id().split(":")[0]
    rows = {
        # (state, worker, heartbeat age in seconds) → failed by the sweep?
        "live-elsewhere": ("running", "other-host:12:aa", 1, False),
        "stale-elsewhere": ("running", "other-host:12:bb", 120, True),
        "dead-pid-here": ("running", f"{here}:{_dead_pid()}:cc", 1, True),
        "my-pid-before-restart": ("queued", f"{here}:{os.getpid()}:dd", 1, True),
        "waiting-for-a-worker": ("queued", None, None, False),
        "mine": ("running", queue.worker_id(), 1, False),
        "finished-long-ago": ("succeeded", "other-host:12:ee", 999, False),
    }
    with runtime.transaction() as session:
        for job_id, (state, worker, age, _failed) in rows.items():
            session.add(
                Job(
                    id=job_id,
                    kind=jobs.CONNECTOR_RUN,
                    name="datagouv-dataset",
                    params={},
                    state=state,
                    message=state,
                    result={},
                    worker=worker,
                    heartbeat_at=None if age is None else now - timedelta(seconds=age),
                )
            )
    swept = queue.sweep(runtime)
    assert sorted(swept) == sorted(k for k, row in rows.items() if row[3])
    for job_id, (state, *_rest, failed) in rows.items():
        job = _row(runtime, job_id)
        if failed:
            assert (job.state, job.error) == ("failed", INTERRUPTED)
            assert job.finished_at is not None
        else:
            assert (job.state, job.error) == (state, None)
    assert queue.sweep(runtime) == []  # nothing left to recover


def test_a_run_whose_job_was_swept_meanwhile_stores_nothing(
    runtime: Runtime, producer: Persona, upstream: DataGouv
) -> None:
    before = snapshot(runtime)
    ctx = context(runtime, producer)
    job = jobs.prepare_connector_run(runtime, "datagouv-dataset", datagouv_params(), ctx)
    inner = upstream.handler

    def sweep_during_the_download(request: httpx.Request) -> httpx.Response:
        if "static.data.gouv.fr" in str(request.url):
            # Another process believes this one dead (e.g. heartbeats lost to a network split).
            assert queue.sweep(runtime, stale_after=timedelta(0)) == [job.id]
        return inner(request)

    upstream.handler = sweep_during_the_download  # type: ignore[method-assign]
    done = jobs.execute_connector_run(runtime, job.id, job.name, job.params, ctx)
    assert upstream.downloads == 1  # the run went on to store, then found its job taken away
    assert (done.state, done.error) == ("failed", INTERRUPTED)
    assert snapshot(runtime) == before  # rolled back: the message is true


def test_database_queue_api_records_and_the_worker_runs_as_the_creator(
    database_queue: Runtime,
    producer: Persona,
    make_user: Callable[..., Persona],
    upstream: DataGouv,
) -> None:
    runtime = database_queue
    demoted = make_user("producer", "cda-lr")
    with TestClient(create_app(runtime=runtime)) as client:
        urls = []
        for persona in (producer, demoted):
            response = client.post(
                "/api/v1/connectors/datagouv-dataset/runs",
                json={"params": datagouv_params()},
                headers=persona.headers,
            )
            assert response.status_code == 202, response.text
            urls.append(response.json()["links"]["self"])
        for url, persona in zip(urls, (producer, demoted), strict=True):
            job = client.get(url, headers=persona.headers).json()
            assert job["state"] == "queued"
            assert _row(runtime, job["id"]).worker is None  # nobody's yet: for a worker
        assert upstream.downloads == 0

        # The second user loses the producer role before a worker gets to their job.
        with runtime.transaction() as session:
            user = accounts.repository.get_user_by_email(session, demoted.email)
            assert user is not None
            accounts.set_role(session, user.id, "analyst")

        finished: list[jobs.JobRead] = []
        ran = worker.work(runtime, threading.Event(), once=True, on_done=finished.append)
        assert ran == 2
        assert [job.state for job in finished] == ["succeeded", "failed"]
        assert finished[0].result["versions"] == [
            {"dataset": HUB_DATASET, "version": 1, "created": True}
        ]
        assert finished[1].error == "Forbidden: only admins and producers run connectors"
        # Stored as the producer who started it.
        meta = client.get(f"/api/v1/datasets/{HUB_DATASET}", headers=producer.headers).json()
        assert meta["producer"] == "cda-lr"
        assert client.get(urls[0], headers=producer.headers).json()["state"] == "succeeded"
