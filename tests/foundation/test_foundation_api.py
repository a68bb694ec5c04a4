"""Health, problem+json errors, authentication and roles through the real ASGI app."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.conftest import Persona

PROBLEM = "application/problem+json"


def assert_problem(response: object, status: int) -> dict[str, object]:
    from httpx import Response

    assert isinstance(response, Response)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    return dict(body)


def test_health_checks_the_database(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.headers["x-request-id"]


def test_unknown_route_is_a_problem(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/no-such-thing"), 404)


def test_request_id_is_echoed_and_put_in_problems(client: TestClient) -> None:
    response = client.get(
        "/api/v1/territories/commune:99999", headers={"X-Request-ID": "abcdef123"}
    )
    body = assert_problem(response, 404)
    assert response.headers["x-request-id"] == "abcdef123"
    assert body["request_id"] == "abcdef123"


def test_missing_token_is_401_with_www_authenticate(client: TestClient) -> None:
    response = client.post("/api/v1/organizations", json={"id": "x", "name": "X"})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_invalid_token_is_401(client: TestClient) -> None:
    response = client.get("/api/v1/territories", headers={"Authorization": "Bearer dh_nope"})
    assert_problem(response, 401)
    response = client.get("/api/v1/territories", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert_problem(response, 401)


def test_wrong_role_is_403(client: TestClient, make_user: Callable[..., Persona]) -> None:
    analyst = make_user("analyst", "bureau-etudes")
    response = client.post(
        "/api/v1/organizations", json={"id": "x", "name": "X"}, headers=analyst.headers
    )
    assert_problem(response, 403)


def test_validation_errors_name_the_field(client: TestClient, admin: Persona) -> None:
    response = client.post(
        "/api/v1/organizations", json={"id": "Bad Id!", "name": ""}, headers=admin.headers
    )
    body = assert_problem(response, 422)
    fields = {e["field"] for e in body["errors"]}  # type: ignore[attr-defined]
    assert fields == {"id", "name"}


def test_malformed_json_and_bad_query_are_4xx(client: TestClient, admin: Persona) -> None:
    response = client.post(
        "/api/v1/organizations",
        content=b"{not json",
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    assert_problem(response, 422)
    assert_problem(client.get("/api/v1/territories?page=0"), 422)
    assert_problem(client.get("/api/v1/territories?page_size=abc"), 422)
    assert_problem(client.get("/api/v1/territories?level=planet"), 422)


def test_organisations_crud(client: TestClient, admin: Persona) -> None:
    created = client.post(
        "/api/v1/organizations",
        json={"id": "port-lr", "name": "Port Atlantique La Rochelle", "member": True},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["member"] is True
    assert_problem(
        client.post(
            "/api/v1/organizations", json={"id": "port-lr", "name": "again"}, headers=admin.headers
        ),
        409,
    )
    listed = client.get("/api/v1/organizations").json()
    assert "port-lr" in {o["id"] for o in listed["data"]}
    assert listed["meta"]["total"] == len(listed["data"])
    assert client.get("/api/v1/organizations/port-lr").json()["name"].startswith("Port")
    assert_problem(client.get("/api/v1/organizations/none"), 404)


def test_openapi_documents_problem_responses(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "datahub"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and status != "422":
                    assert PROBLEM in response.get("content", {}), (path, method, status)
