"""Connector runs as jobs across real processes: the database queue and `datahub worker`, and
SIGKILL in the middle of a run (of the worker, or of an inline API) — the job ends ``failed`` as
interrupted, nothing of the run is stored, the audit chain is intact, and running it again works.

Upstream is a udata portal on 127.0.0.1 replaying data.gouv.fr's recorded answers (upstream.py),
reached through the connector's ``portal`` parameter.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import httpx

from tests.deployment.server import ROOT, Server, cli, environment, token_for
from tests.deployment.upstream import Portal

RUNS = "/api/v1/connectors/datagouv-dataset/runs"
DATASET = "catalogue-des-donnees-de-data-gouv-fr"
INTERRUPTED = "interrupted: the process running it stopped; nothing was stored, run it again"

#: The local portal is on loopback, which connectors refuse unless the operator allows it.
LOCAL = {"DATAHUB_CONNECTOR_ALLOWED_HOSTS": '["127.0.0.1"]'}


def _producer(env: dict[str, str]) -> dict[str, str]:
    token = token_for(env, "cda-lr", "ana@cda.example.org", "producer")
    return {"Authorization": f"Bearer {token}"}


def _background_worker(env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "datahub.cli", "worker", "--poll-interval", "0.2"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def _job(server: Server, job_url: str, auth: dict[str, str]) -> dict[str, Any]:
    response = httpx.get(f"{server.base}{job_url}", headers=auth)
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def _wait_for(server: Server, job_url: str, auth: dict[str, str], *states: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        job = _job(server, job_url, auth)
        if job["state"] in states or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def _start_run(server: Server, portal: Portal, auth: dict[str, str]) -> str:
    response = httpx.post(f"{server.base}{RUNS}", json={"params": portal.params()}, headers=auth)
    assert response.status_code == 202, response.text
    assert response.json()["state"] == "queued"
    url: str = response.json()["links"]["self"]
    return url


def _nothing_stored(server: Server, auth: dict[str, str], files: Path) -> None:
    assert httpx.get(f"{server.base}/api/v1/datasets/{DATASET}", headers=auth).status_code == 404
    assert not [p for p in files.rglob("*") if p.is_file()]


def _audit_chain_valid(env: dict[str, str]) -> None:
    verdict = cli(env, "audit", "verify")
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert verdict.stdout.startswith("audit chain valid")


def _succeeded_with_the_version(
    server: Server, job: dict[str, Any], auth: dict[str, str], portal: Portal
) -> None:
    assert job["state"] == "succeeded", job
    assert job["result"]["versions"] == [{"dataset": DATASET, "version": 1, "created": True}]
    stored = httpx.get(f"{server.base}/api/v1/datasets/{DATASET}/versions/1/file", headers=auth)
    assert stored.status_code == 200
    assert stored.content == portal.content


def test_database_queue_waits_for_a_worker_which_runs_the_job(
    tmp_path: Path, database_url: str
) -> None:
    env = environment(database_url, tmp_path / "files", DATAHUB_JOB_QUEUE="database", **LOCAL)
    auth = _producer(env)
    server = Server(env, tmp_path / "server.log")
    with Portal() as portal:
        try:
            server.wait_ready()
            job_url = _start_run(server, portal, auth)
            time.sleep(1.5)  # an inline API would have run it by now
            job = _job(server, job_url, auth)
            assert (job["state"], job["started_at"]) == ("queued", None)
            assert portal.requests == []  # nobody fetched anything

            worker = cli(env, "worker", "--once")
            assert worker.returncode == 0, worker.stderr
            assert f"job {job['id']} (datagouv-dataset) succeeded" in worker.stderr, worker.stderr
            assert "worker stopped after 1 job(s)" in worker.stderr

            done = _job(server, job_url, auth)
            _succeeded_with_the_version(server, done, auth, portal)
            # The worker ran it as the producer who started it: their organisation owns it.
            meta = httpx.get(f"{server.base}/api/v1/datasets/{DATASET}", headers=auth).json()
            assert meta["producer"] == "cda-lr"
            # An empty queue: --once exits at once.
            idle = cli(env, "worker", "--once")
            assert idle.returncode == 0, idle.stderr
            assert "worker stopped after 0 job(s)" in idle.stderr
        finally:
            server.stop()
    _audit_chain_valid(env)


def test_sigkill_of_a_worker_mid_run_fails_the_job_and_stores_nothing(
    tmp_path: Path, database_url: str
) -> None:
    files = tmp_path / "files"
    env = environment(database_url, files, DATAHUB_JOB_QUEUE="database", **LOCAL)
    auth = _producer(env)
    server = Server(env, tmp_path / "server.log")
    with Portal() as portal, (tmp_path / "worker.log").open("ab") as log:
        worker = _background_worker(env, log)
        try:
            server.wait_ready()
            portal.hold()
            job_url = _start_run(server, portal, auth)
            assert portal.download_started.wait(60), (tmp_path / "worker.log").read_text()
            assert _job(server, job_url, auth)["state"] == "running"
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
            portal.release()

            # The next worker finds the owner gone (same host, no such process) and fails it.
            again = cli(env, "worker", "--once")
            assert again.returncode == 0, again.stderr
            job = _job(server, job_url, auth)
            assert job["state"] == "failed", job
            assert job["error"] == INTERRUPTED
            assert job["finished_at"] is not None
            _nothing_stored(server, auth, files)
            _audit_chain_valid(env)

            # Run it again, as the message says: it works.
            retry_url = _start_run(server, portal, auth)
            assert cli(env, "worker", "--once").returncode == 0
            _succeeded_with_the_version(server, _job(server, retry_url, auth), auth, portal)
        finally:
            _kill(worker)
            server.stop()
    _audit_chain_valid(env)


def test_sigterm_lets_the_worker_finish_its_job_then_exit_0(
    tmp_path: Path, database_url: str
) -> None:
    env = environment(database_url, tmp_path / "files", DATAHUB_JOB_QUEUE="database", **LOCAL)
    auth = _producer(env)
    server = Server(env, tmp_path / "server.log")
    with Portal() as portal, (tmp_path / "worker.log").open("ab") as log:
        worker = _background_worker(env, log)
        try:
            server.wait_ready()
            portal.hold()
            job_url = _start_run(server, portal, auth)
            assert portal.download_started.wait(60), (tmp_path / "worker.log").read_text()
            worker.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            assert worker.poll() is None  # still finishing the job
            portal.release()
            assert worker.wait(timeout=60) == 0
            _succeeded_with_the_version(server, _job(server, job_url, auth), auth, portal)
        finally:
            _kill(worker)
            server.stop()
    assert "worker stopped after 1 job(s)" in (tmp_path / "worker.log").read_text()


def test_sigkill_of_an_inline_api_mid_run_is_failed_at_restart(
    tmp_path: Path, database_url: str
) -> None:
    files = tmp_path / "files"
    env = environment(database_url, files, **LOCAL)  # DATAHUB_JOB_QUEUE defaults to inline
    auth = _producer(env)
    with Portal() as portal:
        server = Server(env, tmp_path / "server-1.log")
        try:
            server.wait_ready()
            portal.hold()
            job_url = _start_run(server, portal, auth)
            assert portal.download_started.wait(60), server.output()
            assert _job(server, job_url, auth)["state"] == "running"
            os.kill(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=10)
        finally:
            server.stop()
        portal.release()

        again = Server(env, tmp_path / "server-2.log")
        try:
            again.wait_ready()
            # Failed at start-up: its process is gone, no need to wait for the heartbeat to age.
            job = _job(again, job_url, auth)
            assert job["state"] == "failed", job
            assert job["error"] == INTERRUPTED
            _nothing_stored(again, auth, files)
            retry = _wait_for(again, _start_run(again, portal, auth), auth, "succeeded", "failed")
            _succeeded_with_the_version(again, retry, auth, portal)
        finally:
            again.stop()
    _audit_chain_valid(env)
