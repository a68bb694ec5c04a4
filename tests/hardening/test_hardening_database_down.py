"""A database out of reach is the server's problem, not the client's: 503 with Retry-After."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from datahub.app import create_app
from datahub.runtime import build_runtime
from datahub.settings import Settings
from tests.deployment.server import free_port


def test_unreachable_database_gives_503_problem_with_retry_after(tmp_path: Path) -> None:
    # A PostgreSQL URL on a port nobody listens on: every query fails to connect
    # (psycopg OperationalError), as when the database restarts or the network drops.
    port = free_port()
    settings = Settings(
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/nowhere",
        storage_url=f"file://{tmp_path / 'files'}",
        _env_file=None,  # type: ignore[call-arg]
    )
    runtime = build_runtime(settings)
    try:
        # No lifespan (no `with`): the start-up sweep would need the database too.
        client = TestClient(create_app(runtime=runtime), raise_server_exceptions=False)
        response = client.get("/api/v1/datasets")
    finally:
        runtime.close()
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["type"].endswith("/service-unavailable")
    # No connection string or driver message (the instance's own base URL, in the problem
    # type, is 127.0.0.1:8000 here: the database's port is what must not show).
    assert f":{port}" not in response.text
    assert "nowhere" not in response.text
    assert "psycopg" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
