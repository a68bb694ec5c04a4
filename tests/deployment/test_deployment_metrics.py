"""Prometheus metrics: requests by route template, uploads by outcome, /metrics protection, and
one set of figures across several worker processes."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from datahub import observability
from datahub.app import create_app
from datahub.runtime import Runtime
from tests.api.world import build_world
from tests.conftest import Persona
from tests.deployment.server import Server, environment

DATASET_ROUTE = "/api/v1/datasets/{dataset_id}"
UPLOAD_ROUTE = "/api/v1/datasets/{dataset_id}/versions"


def scrape(text: str, name: str, **labels: str) -> float:
    """The value of one sample (0 when absent, as Prometheus treats a counter not yet seen)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def metric(client: TestClient, name: str, **labels: str) -> float:
    response = client.get("/metrics")
    assert response.status_code == 200
    return scrape(response.text, name, **labels)


def test_requests_are_counted_by_route_template_never_by_raw_path(client: TestClient) -> None:
    labels = {"method": "GET", "route": DATASET_ROUTE}
    count_before = metric(client, "datahub_http_requests_total", status="404", **labels)
    timed_before = metric(client, "datahub_http_request_duration_seconds_count", **labels)
    unmatched_before = metric(
        client, "datahub_http_requests_total", method="GET", route="unmatched", status="404"
    )
    for number in range(3):
        assert client.get(f"/api/v1/datasets/no-such-{number}").status_code == 404
    assert client.get("/no/such/path").status_code == 404

    exposition = client.get("/metrics")
    assert exposition.headers["content-type"].startswith("text/plain")
    text = exposition.text
    # Three unknown datasets: three requests under one template, each timed once.
    assert scrape(text, "datahub_http_requests_total", status="404", **labels) == count_before + 3
    assert scrape(text, "datahub_http_request_duration_seconds_count", **labels) == timed_before + 3
    assert (
        scrape(text, "datahub_http_requests_total", method="GET", route="unmatched", status="404")
        == unmatched_before + 1
    )
    assert "no-such-" not in text
    assert "/no/such/path" not in text
    # Every route label is a template or "unmatched": bounded cardinality.
    routes = set(re.findall(r'route="([^"]*)"', text))
    assert all(r == "unmatched" or r.startswith("/") for r in routes)
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_uploads_are_counted_by_outcome_with_bytes_and_rows(
    client: TestClient, make_user: Callable[..., Persona], admin: Persona
) -> None:
    def uploads(outcome: str) -> float:
        return metric(client, "datahub_uploads_total", outcome=outcome)

    before = {o: uploads(o) for o in observability.UPLOAD_OUTCOMES}
    bytes_before = metric(client, "datahub_upload_bytes_total")
    rows_before = metric(client, "datahub_upload_rows_total")

    world = build_world(client, make_user, admin)
    # world.create_dataset uploads "site;kwh\nA;1,5\nB;2,5\n": 9 + 6 + 6 = 21 bytes, 2 rows.
    dataset_id = world.create_dataset("open")
    producer = world.headers("producer")
    same = client.post(
        f"/api/v1/datasets/{dataset_id}/versions",
        content=b"site;kwh\nA;1,5\nB;2,5\n",
        headers={**producer, "Content-Type": "text/csv"},
    )
    assert same.status_code == 200  # the same bytes again: nothing new stored
    anonymous = client.post(
        f"/api/v1/datasets/{dataset_id}/versions",
        content=b"site;kwh\nC;1\n",
        headers={"Content-Type": "text/csv"},
    )
    assert anonymous.status_code == 401
    empty = client.post(
        f"/api/v1/datasets/{dataset_id}/versions",
        content=b"",
        headers={**producer, "Content-Type": "text/csv"},
    )
    assert empty.status_code == 400

    after = {o: uploads(o) for o in observability.UPLOAD_OUTCOMES}
    assert {o: after[o] - before[o] for o in after} == {
        "stored": 1,
        "unchanged": 1,
        "refused": 2,
        "failed": 0,
    }
    assert metric(client, "datahub_upload_bytes_total") == bytes_before + 21
    assert metric(client, "datahub_upload_rows_total") == rows_before + 2
    assert (
        metric(
            client, "datahub_http_requests_total", method="POST", route=UPLOAD_ROUTE, status="201"
        )
        >= 1
    )


def test_every_audit_event_moves_the_audit_metric(
    client: TestClient, make_user: Callable[..., Persona], admin: Persona
) -> None:
    def events(action: str, outcome: str) -> float:
        return metric(client, "datahub_audit_events_total", action=action, outcome=outcome)

    world = build_world(client, make_user, admin)
    dataset_id = world.create_dataset("shared")  # dataset.create + dataset.upload, allowed
    before = {
        "read": events("dataset.read_rows", "allowed"),
        "denied": events("dataset.read_rows", "denied"),
        "token": events("token.create", "allowed"),
    }
    for _ in range(2):
        read = client.get(f"/api/v1/datasets/{dataset_id}/data", headers=world.headers("member"))
        assert read.status_code == 200
    refused = client.get(f"/api/v1/datasets/{dataset_id}/data", headers=world.headers("non_member"))
    assert refused.status_code == 403  # recorded after the rollback, in its own transaction
    assert client.post("/api/v1/users/1/tokens", headers=admin.headers).status_code == 201
    assert events("dataset.read_rows", "allowed") == before["read"] + 2
    assert events("dataset.read_rows", "denied") == before["denied"] + 1
    assert events("token.create", "allowed") == before["token"] + 1


def test_metrics_token_and_switch(runtime: Runtime) -> None:
    guarded = runtime.settings.model_copy(update={"metrics_token": SecretStr("s3cret-scrape")})
    with TestClient(create_app(guarded, runtime=runtime)) as client:
        missing = client.get("/metrics")
        assert missing.status_code == 401
        assert missing.headers["content-type"] == "application/problem+json"
        assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
        allowed = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
        assert allowed.status_code == 200
        assert "datahub_http_requests_total" in allowed.text
    off = runtime.settings.model_copy(update={"metrics_enabled": False})
    with TestClient(create_app(off, runtime=runtime)) as client:
        assert client.get("/metrics").status_code == 404


def test_connector_runs_and_bad_outcomes() -> None:
    before = observability.CONNECTOR_RUNS.labels("geo-api", "failed")._value.get()
    observability.record_connector_run("geo-api", "failed")
    text = observability.exposition()[0].decode()
    assert (
        scrape(text, "datahub_connector_runs_total", connector="geo-api", outcome="failed")
        == before + 1
    )
    with pytest.raises(ValueError, match="unknown upload outcome"):
        observability.record_upload("lost")


def test_metrics_add_up_across_worker_processes(tmp_path: Path) -> None:
    folder = tmp_path / "prometheus"
    folder.mkdir()
    (folder / "counter_999999.db").write_bytes(b"stale values of a previous run")
    env = environment(
        f"sqlite:///{tmp_path / 'hub.db'}",
        tmp_path / "files",
        PROMETHEUS_MULTIPROC_DIR=str(folder),
    )
    server = Server(env, tmp_path / "server.log", "--workers", "2")
    labels = {"method": "GET", "route": "/api/v1/licenses", "status": "200"}
    try:
        server.wait_ready()
        before = scrape(
            httpx.get(f"{server.base}/metrics").text, "datahub_http_requests_total", **labels
        )
        # 40 requests on fresh connections, spread by the kernel over both workers.
        for _ in range(40):
            assert httpx.get(f"{server.base}/api/v1/licenses").status_code == 200
        # Whichever worker answers the scrape, it reports the sum over both.
        for _ in range(4):
            text = httpx.get(f"{server.base}/metrics").text
            assert scrape(text, "datahub_http_requests_total", **labels) == before + 40
        assert not (folder / "counter_999999.db").exists()
        writers = {p.stem.rsplit("_", 1)[-1] for p in folder.glob("counter_*.db")}
        assert len(writers) == 2, writers
    finally:
        server.stop()
    assert server.wait(timeout=30) == 0, server.output()
