"""Security headers, CORS, clean error bodies; tokens hashed at rest, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlalchemy.exc import ProgrammingError

from datahub.app import create_app
from datahub.catalog import service as catalog_service
from datahub.runtime import Runtime
from datahub.settings import Settings
from tests.conftest import Persona
from tests.hardening.conftest import LEAKS, assert_clean_problem

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-site",
}
ORIGIN = "https://carto.la-rochelle.example"


def _has_security_headers(response: Any) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.status_code)
    assert response.headers.get("x-request-id")


def test_security_headers_on_successes_and_errors(
    client: TestClient, make_user: Callable[..., Persona]
) -> None:
    analyst = make_user("analyst", "commune-aytre", member=True)
    responses = [
        client.get("/api/v1/health"),
        client.get("/api/v1/licenses"),
        client.get("/openapi.json"),
        client.get("/api/v1/nowhere"),
        client.get("/api/v1/licenses", headers={"Authorization": "Bearer dh_wrong"}),
        client.post(
            "/api/v1/organizations", json={"id": "x", "name": "X"}, headers=analyst.headers
        ),
        client.get("/api/v1/datasets?page=zero"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 404, 401, 403, 422]
    for response in responses:
        _has_security_headers(response)


def test_cors_is_off_by_default(client: TestClient) -> None:
    preflight = client.options(
        "/api/v1/datasets",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = client.get("/api/v1/licenses", headers={"Origin": ORIGIN})
    assert simple.status_code == 200
    assert not any(name.startswith("access-control-") for name in simple.headers)


def test_cors_allows_only_the_configured_origins(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"cors_origins": [ORIGIN]})
    with TestClient(create_app(settings=settings, runtime=runtime)) as client:
        preflight = client.options(
            "/api/v1/datasets",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "Authorization",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == ORIGIN
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        simple = client.get("/api/v1/licenses", headers={"Origin": ORIGIN})
        assert simple.headers["access-control-allow-origin"] == ORIGIN
        assert "x-licence" in simple.headers["access-control-expose-headers"].lower()
        # Credentials (cookies) are never involved: tokens travel in a header.
        assert "access-control-allow-credentials" not in simple.headers

        stranger = client.options(
            "/api/v1/datasets",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert stranger.status_code == 400
        assert "access-control-allow-origin" not in stranger.headers
        stranger_get = client.get("/api/v1/licenses", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in stranger_get.headers


def _provoked(
    client: TestClient, producer: Persona, analyst: Persona
) -> list[tuple[Any, int | tuple[int, ...]]]:
    """Requests that fail in as many ways as the edge has; each with its expected status."""
    created = client.post(
        "/api/v1/datasets",
        json={"id": "mesures", "title": "Mesures", "licence": "etalab-2.0", "kind": "generic"},
        headers=producer.headers,
    )
    assert created.status_code == 201
    upload_headers = {**producer.headers, "Content-Type": "text/csv"}
    return [
        (client.get("/api/v1/nowhere"), 404),
        (client.delete("/api/v1/licenses"), 405),
        (client.get("/api/v1/licenses", headers={"Authorization": "Bearer dh_wrong"}), 401),
        (client.get("/api/v1/licenses", headers={"Authorization": "Basic YTpi"}), 401),
        (client.post("/api/v1/organizations", json={"id": "o"}, headers=analyst.headers), 403),
        (client.get("/api/v1/datasets/absent"), 404),
        (client.get("/api/v1/datasets?page=abc"), 422),
        (client.get("/api/v1/datasets?page_size=100000000000000000000000"), 422),
        (
            client.post(
                "/api/v1/datasets",
                content=b'{"title": ',
                headers={**producer.headers, "Content-Type": "application/json"},
            ),
            422,
        ),
        (
            client.post(
                "/api/v1/datasets",
                json={"id": "mesures", "title": "Again", "licence": "etalab-2.0"},
                headers=producer.headers,
            ),
            409,
        ),
        (
            client.post(
                "/api/v1/datasets",
                json={"title": "x", "licence": "no-such-licence"},
                headers=producer.headers,
            ),
            422,
        ),
        (
            client.post(
                "/api/v1/datasets/mesures/versions",
                content=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512,
                headers={**producer.headers, "Content-Type": "application/vnd.ms-excel"},
            ),
            415,
        ),
        (
            client.post(
                "/api/v1/datasets/mesures/versions",
                content=b"a,b\n1,2\n",
                headers={**upload_headers, "Content-Length": str(1 << 40)},
            ),
            413,
        ),
        (
            client.post(
                "/api/v1/datasets/mesures/versions",
                content=b"a,b\n1,2\n",
                headers={**upload_headers, "Content-Length": "lots"},
            ),
            400,
        ),
        (
            client.post("/api/v1/datasets/mesures/versions", content=b"", headers=upload_headers),
            400,
        ),
        (client.get("/api/v1/datasets/mesures/data?after=Zm9v"), (400, 404)),
        # An id past 64 bits: SQLite cannot even bind it (OverflowError), PostgreSQL finds nothing.
        (
            client.post(f"/api/v1/access-requests/{2**70}/deny", headers=producer.headers),
            (404, 422),
        ),
        (client.get("/api/v1/datasets/mesures/data?nope__exact=1"), (404, 422)),
    ]


def test_error_bodies_hold_no_internals(
    client: TestClient, make_user: Callable[..., Persona]
) -> None:
    producer = make_user("producer", "port-atlantique", member=True)
    analyst = make_user("analyst", "commune-aytre", member=True)
    for response, status in _provoked(client, producer, analyst):
        assert_clean_problem(response, status)
        _has_security_headers(response)
        if response.status_code == 401:
            assert response.headers["www-authenticate"].startswith("Bearer")


def test_an_unexpected_database_error_is_a_bare_500(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The driver's message (with its SQL and parameters) goes to the log, never to the client."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        # A bug (SQL the database refuses), not an outage: outages are 503 (database_down).
        raise ProgrammingError(
            "SELECT token_hash FROM api_token WHERE email = %(email)s",
            {"email": "secret@example.org"},
            Exception("psycopg.errors.UndefinedColumn: column token_hash does not exist"),
        )

    monkeypatch.setattr(catalog_service, "search", broken)
    response = client.get("/api/v1/datasets")
    assert_clean_problem(response, 500)
    assert response.json()["type"].endswith("/internal-error")
    assert "secret@example.org" not in response.text
    assert "api_token" not in response.text
    assert response.json()["request_id"] == response.headers["x-request-id"]
    _has_security_headers(response)


def _all_database_text(runtime: Runtime) -> str:
    """Every row of every table, as text."""
    parts: list[str] = []
    with runtime.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


def test_tokens_are_stored_hashed(
    client: TestClient, runtime: Runtime, admin: Persona, make_user: Callable[..., Persona]
) -> None:
    made = make_user("analyst", "commune-aytre", member=True)
    created = client.post(
        "/api/v1/users",
        json={
            "email": "lea@commune-aytre.example.org",
            "organization_id": "commune-aytre",
            "role": "analyst",
        },
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    issued = client.post(
        f"/api/v1/users/{created.json()['user']['id']}/tokens", headers=admin.headers
    )
    assert issued.status_code == 201, issued.text
    tokens = [admin.token, made.token, created.json()["token"], issued.json()["token"]]
    # The tokens work...
    for token in tokens:
        me = client.get("/api/v1/licenses", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
    # ...yet the database holds only their SHA-256, never the token or its secret part.
    stored = _all_database_text(runtime)
    for token in tokens:
        assert token not in stored
        assert token.removeprefix("dh_") not in stored
        assert hashlib.sha256(token.encode()).hexdigest() in stored


def test_tokens_are_compared_in_constant_time(
    client: TestClient, make_user: Callable[..., Persona], monkeypatch: pytest.MonkeyPatch
) -> None:
    analyst = make_user("analyst", "commune-aytre", member=True)
    expected = hashlib.sha256(analyst.token.encode()).hexdigest()
    calls: list[tuple[Any, Any]] = []
    original = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return original(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert client.get("/api/v1/licenses", headers=analyst.headers).status_code == 200
    assert (expected, expected) in calls
    for leak in LEAKS:
        assert leak not in client.get("/api/v1/licenses", headers=analyst.headers).text


def test_nul_in_a_json_body_is_stored_or_refused_cleanly(
    client: TestClient, make_user: Callable[..., Persona]
) -> None:
    """SQLite stores a NUL in text; PostgreSQL refuses it, which must be a 422, not a 500."""
    producer = make_user("producer", "port-atlantique", member=True)
    response = client.post(
        "/api/v1/datasets",
        json={"id": "nul", "title": "Compteurs\u0000", "licence": "etalab-2.0"},
        headers=producer.headers,
    )
    if response.status_code != 201:
        assert_clean_problem(response, 422)
        assert client.get("/api/v1/datasets/nul").status_code == 404


def test_rate_limit_settings_are_documented() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name in Settings.model_fields:
        if name.startswith("rate_limit_"):
            assert f"`DATAHUB_{name.upper()}`" in readme, name
