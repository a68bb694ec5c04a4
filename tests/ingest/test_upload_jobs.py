"""Uploads as jobs (``Prefer: respond-async``): 202 and a job whose result names the version,
the staged copy discarded whatever the outcome, on the in-process thread or a worker."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from tests.conftest import Persona
from tests.ingest.job_polling import poll

from datahub.app import create_app
from datahub.db.models import Job
from datahub.ingest import upload_jobs, worker
from datahub.runtime import Runtime, build_runtime
from datahub.settings import Settings

ASYNC = {"Prefer": "respond-async", "Content-Type": "text/csv"}
GOOD = "year;territory;sector;value;unit\n2019;commune:17300;industry;12,5;tCO2e\n" + "".join(
    f"{2000 + i};commune:17300;waste;{i},25;tCO2e\n" for i in range(1, 20)
)
# Data row 3 (line 4 of the file) holds a value that is not a number.
BROKEN = GOOD.replace("2002;commune:17300;waste;2,25", "2002;commune:17300;waste;deux")


def upload_async(client: TestClient, persona: Persona, body: str) -> Any:
    return client.post(
        "/api/v1/datasets/inventaire/versions",
        content=body.encode(),
        headers=ASYNC | persona.headers,
    )


def new_dataset(client: TestClient, producer: Persona, dataset_id: str) -> None:
    body = {"id": dataset_id, "title": dataset_id, "licence": "etalab-2.0", "kind": "emissions"}
    created = client.post("/api/v1/datasets", json=body, headers=producer.headers)
    assert created.status_code == 201, created.text


def staged(runtime: Runtime) -> list[str]:
    return list(runtime.storage.list_keys(f"{upload_jobs.STAGING_PREFIX}/"))


@pytest.fixture
def producer(make_user: Callable[..., Persona]) -> Persona:
    return make_user("producer", "cda-lr", member=True)


def test_async_upload_is_a_job_that_ends_with_the_version(
    client: TestClient, runtime: Runtime, producer: Persona
) -> None:
    new_dataset(client, producer, "inventaire")
    accepted = upload_async(client, producer, GOOD)
    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["preference-applied"] == "respond-async"
    assert accepted.headers["location"] == f"/api/v1/jobs/{accepted.json()['id']}"
    assert accepted.json()["kind"] == "upload"
    job = poll(client, accepted.headers["location"], producer)
    assert job["state"] == "succeeded", job
    # 20 data rows; the job's result names version 1, the first of the dataset.
    assert job["result"] == {"dataset": "inventaire", "version": 1, "created": True, "rows": 20}
    rows = client.get("/api/v1/datasets/inventaire/data", headers=producer.headers)
    assert [r["value"] for r in rows.json()["data"]][:2] == [12.5, 1.25]
    assert staged(runtime) == []


def test_a_refused_async_upload_names_the_row_stores_nothing_and_discards_the_file(
    client: TestClient, runtime: Runtime, producer: Persona
) -> None:
    new_dataset(client, producer, "inventaire")
    accepted = upload_async(client, producer, BROKEN)
    assert accepted.status_code == 202, accepted.text
    job = poll(client, accepted.headers["location"], producer)
    assert job["state"] == "failed"
    # Data row 3 (2019, 2001, then 2002): the same {row, field, message} as a synchronous 422.
    assert job["result"]["errors"] == [
        {"row": 3, "field": "value", "message": "not a number: 'deux'"}
    ]
    assert "row 3, value: not a number" in job["error"]
    dataset = client.get("/api/v1/datasets/inventaire", headers=producer.headers).json()
    assert dataset["current_version"] is None
    assert staged(runtime) == []


def test_async_upload_needs_the_same_rights_before_the_body_is_read(
    client: TestClient, producer: Persona, make_user: Callable[..., Persona]
) -> None:
    new_dataset(client, producer, "inventaire")
    analyst = make_user("analyst", "cda-lr", member=True)
    refused = upload_async(client, analyst, GOOD)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"


@pytest.fixture
def queued_runtime(settings: Settings) -> Iterator[Runtime]:
    rt = build_runtime(settings.model_copy(update={"job_queue": "database"}))
    yield rt
    rt.close()


@pytest.fixture
def queued_client(queued_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=queued_runtime)) as client:
        yield client


def test_with_a_database_queue_a_worker_stores_the_upload(
    queued_runtime: Runtime, queued_client: TestClient, producer: Persona
) -> None:
    new_dataset(queued_client, producer, "inventaire")
    accepted = upload_async(queued_client, producer, GOOD)
    assert accepted.status_code == 202, accepted.text
    url = accepted.headers["location"]
    time.sleep(0.3)
    assert queued_client.get(url, headers=producer.headers).json()["state"] == "queued"
    assert len(staged(queued_runtime)) == 1  # waiting in storage for any worker's host
    finished: list[Any] = []
    ran = worker.work(queued_runtime, threading.Event(), once=True, on_done=finished.append)
    assert ran == 1
    assert finished[0].state == "succeeded", finished[0]
    assert finished[0].result["rows"] == 20
    versions = queued_client.get("/api/v1/datasets/inventaire/versions", headers=producer.headers)
    assert versions.status_code == 200
    assert [(v["number"], v["row_count"]) for v in versions.json()["data"]] == [(1, 20)]
    assert staged(queued_runtime) == []


def test_an_interrupted_upload_job_is_failed_and_its_staged_file_discarded(
    queued_runtime: Runtime, queued_client: TestClient, producer: Persona
) -> None:
    new_dataset(queued_client, producer, "inventaire")
    job_id = upload_async(queued_client, producer, GOOD).json()["id"]
    # A worker on this host claimed it, then died (no such pid): the sweep recognises it.
    with queued_runtime.transaction() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(state="running", worker=f"{socket.gethostname()}:4194001:dead")
        )
    assert upload_jobs.sweep(queued_runtime) == [job_id]
    with queued_runtime.read_session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        assert (job.state, job.error) == ("failed", upload_jobs.queue.INTERRUPTED)
    assert staged(queued_runtime) == []
