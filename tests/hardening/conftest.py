"""Hardening test fixtures: a producer's dataset, catalogue snapshots, a live server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient

from datahub.runtime import Runtime
from tests.conftest import Persona

#: Words that betray an internal error leaking into a response body.
LEAKS = ("Traceback", "sqlalchemy", "psycopg", "SELECT ", 'File "', "sqlite3")
FIRST_VERSION = b"site;kwh\nA;1,5\nB;2,5\n"


@pytest.fixture
def producer(make_user: Callable[..., Persona]) -> Persona:
    return make_user("producer", "port-atlantique", member=True)


@pytest.fixture
def dataset(client: TestClient, producer: Persona) -> str:
    """A generic open dataset with one CSV version of two rows."""
    created = client.post(
        "/api/v1/datasets",
        json={"id": "compteurs", "title": "Compteurs", "licence": "etalab-2.0", "kind": "generic"},
        headers=producer.headers,
    )
    assert created.status_code == 201, created.text
    uploaded = client.post(
        "/api/v1/datasets/compteurs/versions",
        content=FIRST_VERSION,
        headers={**producer.headers, "Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 201, uploaded.text
    return "compteurs"


@dataclass(frozen=True)
class Snapshot:
    current_version: int | None
    versions: list[int]
    total_rows: int
    keys: list[str]


def snapshot(client: TestClient, runtime: Runtime, dataset_id: str) -> Snapshot:
    """What an upload may change: the current version, the versions, the rows, the stored files."""
    meta = client.get(f"/api/v1/datasets/{dataset_id}")
    assert meta.status_code == 200, meta.text
    versions = client.get(f"/api/v1/datasets/{dataset_id}/versions").json()["data"]
    rows = client.get(f"/api/v1/datasets/{dataset_id}/data").json()["meta"]["total"]
    return Snapshot(
        current_version=meta.json()["current_version"],
        versions=[v["number"] for v in versions],
        total_rows=rows,
        keys=sorted(runtime.storage.list_keys("")),
    )


def assert_clean_problem(
    response: httpx.Response, status: int | tuple[int, ...], echoed: str = ""
) -> None:
    """A problem+json error of the expected status, with nothing internal in its body.

    ``echoed`` is what the client sent and the detail may quote (an SQL-looking filter value):
    words it contains are not counted as leaks.
    """
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == response.status_code
    # Under the instance's base URL (issue 16): the test instance's is http://127.0.0.1:8000.
    assert body["type"].startswith(("https://", "http://127.0.0.1:8000/problems/"))
    for leak in LEAKS:
        if leak in echoed:
            continue
        assert leak not in response.text, (leak, response.text[:500])
