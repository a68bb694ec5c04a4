"""Connector runs through the API: 202 and a job, polled until it ends, with live progress.

Upstream is replayed (runner_replays.py) by monkeypatching the runner's default transport, the
hook the API and the CLI use; the job runs on the in-process worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona, on_postgres
from tests.ingest.job_polling import poll
from tests.ingest.runner_replays import EPCI, la_rochelle_answers, snapshot, wfs_handler

from datahub.db.models import Job
from datahub.ingest import runner
from datahub.runtime import Runtime

RUNS = "/api/v1/connectors/ign-territories/runs"
BODY = {"params": {"territory": f"epci:{EPCI}"}}


def replay(
    monkeypatch: pytest.MonkeyPatch, handler: Callable[[httpx.Request], httpx.Response]
) -> None:
    monkeypatch.setattr(runner, "default_transport", lambda: httpx.MockTransport(handler))


@pytest.fixture
def producer(make_user: Callable[..., Persona]) -> Persona:
    return make_user("producer", "cda-lr", member=True)


def test_list_connectors(client: TestClient) -> None:
    response = client.get("/api/v1/connectors")
    assert response.status_code == 200
    data = {c["name"]: c for c in response.json()["data"]}
    assert sorted(data) == [
        "datagouv-dataset",
        "geo-api",
        "ign-land-cover",
        "ign-territories",
        "meteofrance-climate",
        "sirene",
    ]
    ign = data["ign-territories"]
    assert ign["licence"] == "etalab-2.0"
    assert ign["parameters"]["required"] == ["territory"]
    assert ign["parameters"]["properties"]["layers"]["default"] == "ADMINEXPRESS-COG.LATEST"


def test_run_is_a_job_with_live_progress_and_the_territories_it_made(
    client: TestClient,
    runtime: Runtime,
    producer: Persona,
    admin: Persona,
    make_user: Callable[..., Persona],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reached, release = threading.Event(), threading.Event()
    inner = wfs_handler(la_rochelle_answers())

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["typeName"].endswith(":epci"):
            reached.set()  # régions and départements are read: hold the run here
            assert release.wait(30)
        return inner(request)

    replay(monkeypatch, handler)
    response = client.post(RUNS, json=BODY, headers=producer.headers)
    assert response.status_code == 202, response.text
    body = response.json()
    url = body["links"]["self"]
    assert url == f"/api/v1/jobs/{body['job']}"
    assert response.headers["location"] == url
    assert body["state"] == "queued"

    try:
        assert reached.wait(30)
        running = client.get(url, headers=producer.headers).json()
        assert running["state"] == "running"
        # Total = 28 communes + 1 EPCI + 2 × 1 département→région pair + 1 = 32; the région
        # and the département are done.
        assert running["progress"] == {
            "done": 2,
            "total": 32,
            "message": "régions and départements read",
        }
        if on_postgres():
            # On PostgreSQL progress also reaches the row (throttled: at least the first report).
            with runtime.transaction() as session:
                row = session.get(Job, body["job"])
                assert row is not None
                assert row.message in (
                    f"reading the communes of epci:{EPCI}",
                    "régions and départements read",
                )
        # Someone else's job does not exist for them; an admin sees it.
        other = make_user("producer", "other-org")
        assert client.get(url, headers=other.headers).status_code == 404
        assert client.get(url, headers=admin.headers).status_code == 200
    finally:
        release.set()

    job = poll(client, url, producer)
    assert job["state"] == "succeeded", job
    assert job["error"] is None
    assert job["result"]["territories"] == 32
    assert job["result"]["versions"] == []
    assert job["progress"] == {"done": 32, "total": 32, "message": job["progress"]["message"]}
    assert job["progress"]["message"].startswith("0 version(s) (0 new), 32 territories")
    assert job["params"]["territory"] == f"epci:{EPCI}"
    assert job["started_at"] is not None
    assert job["finished_at"] is not None
    territory = client.get("/api/v1/territories/commune:17300").json()
    assert set(territory["parents"]) == {f"epci:{EPCI}", "departement:17"}


def test_failed_run_is_a_failed_job_and_changes_nothing(
    client: TestClient, runtime: Runtime, producer: Persona, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fatal (non-retried) upstream error on the EPCI layer, after régions and départements.
    report = (
        b'<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/1.1" version="2.0.0">'
        b"<ows:Exception><ows:ExceptionText>Illegal property name: code_siren"
        b"</ows:ExceptionText></ows:Exception></ows:ExceptionReport>"
    )
    bad = httpx.Response(400, headers={"content-type": "application/xml"}, content=report)
    replay(monkeypatch, wfs_handler(la_rochelle_answers(), {"epci": bad}))
    before = snapshot(runtime)
    response = client.post(RUNS, json=BODY, headers=producer.headers)
    assert response.status_code == 202
    job = poll(client, response.json()["links"]["self"], producer)
    assert job["state"] == "failed"
    assert (
        job["error"]
        == "Connector failed: WFS ADMINEXPRESS-COG.LATEST:epci: Illegal property name: code_siren"
    )
    assert job["result"] == {}
    assert snapshot(runtime) == before


def test_who_may_run_and_bad_parameters(
    client: TestClient, producer: Persona, make_user: Callable[..., Persona]
) -> None:
    analyst = make_user("analyst", "cda-lr")
    assert client.post(RUNS, json=BODY, headers=analyst.headers).status_code == 403
    assert client.post(RUNS, json=BODY).status_code == 401
    bad = client.post(RUNS, json={"params": {"territory": "epci:LR"}}, headers=producer.headers)
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["params.territory"]
    missing = client.post(
        "/api/v1/connectors/nope/runs", json={"params": {}}, headers=producer.headers
    )
    assert missing.status_code == 404
    assert client.get("/api/v1/jobs/no-such-job", headers=producer.headers).status_code == 404
