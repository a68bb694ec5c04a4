"""Every GET route answers HEAD with the GET's status and headers and no body (contract §9)."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from starlette.routing import Route

from tests.api.world import build_world
from tests.conftest import Persona


def get_paths(client: TestClient) -> list[str]:
    """Every GET path: the documented ones (FastAPI nests included routers, so the OpenAPI
    document is the reliable list of what is mounted) and the app's own (docs, metrics)."""
    documented = {
        path
        for path, operations in client.get("/openapi.json").json()["paths"].items()
        if "get" in operations
    }
    own = {
        r.path
        for r in client.app.routes  # type: ignore[attr-defined]
        if isinstance(r, Route) and r.methods and "GET" in r.methods
    }
    assert len(documented) > 20  # the router was really walked
    return sorted(documented | own)


def test_every_get_route_answers_head(
    client: TestClient, make_user: Callable[..., Persona], admin: Persona
) -> None:
    world = build_world(client, make_user, admin)
    dataset_id = world.create_dataset("open")
    values = {"dataset_id": dataset_id, "number": "1", "code": "country:FR"}
    checked = 0
    for path in get_paths(client):
        url = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m.group(1), "x"), path)
        got = client.get(url, headers=admin.headers)
        head = client.head(url, headers=admin.headers)
        assert head.status_code == got.status_code, (path, head.status_code, got.status_code)
        assert head.status_code != 405, path
        assert head.content == b"", path
        assert head.headers.get("content-type") == got.headers.get("content-type"), path
        if "content-length" in got.headers and "etag" in got.headers:
            assert head.headers["content-length"] == got.headers["content-length"], path
        checked += got.status_code == 200
    assert checked > 15  # most routes answered with data, so HEAD was compared on real bodies


def test_head_on_a_file_keeps_its_length_and_checksum(
    client: TestClient, make_user: Callable[..., Persona], admin: Persona
) -> None:
    world = build_world(client, make_user, admin)
    dataset_id = world.create_dataset("open")
    url = f"/api/v1/datasets/{dataset_id}/versions/1/file"
    head = client.head(url)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(b"site;kwh\nA;1,5\nB;2,5\n"))
    assert head.headers["etag"] == client.get(url).headers["etag"]
    assert head.content == b""


def test_head_on_a_post_only_route_is_405(client: TestClient) -> None:
    response = client.head("/api/v1/access-requests/1/approve")
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]
