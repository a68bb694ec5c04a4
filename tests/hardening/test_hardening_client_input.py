"""No 500 for anything a client can send (issue 12): forged cursors, naive times, unknown
geometry types, NaN and Infinity in JSON bodies. Each was a 500 (or a silent null) before."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from datahub.runtime import Runtime
from tests.conftest import Persona
from tests.hardening.conftest import assert_clean_problem, snapshot


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.fixture
def typed(client: TestClient, producer: Persona) -> str:
    """A dataset with a column of each sortable type."""
    created = client.post(
        "/api/v1/datasets",
        json={"id": "types", "title": "Types", "licence": "etalab-2.0", "kind": "generic"},
        headers=producer.headers,
    )
    assert created.status_code == 201, created.text
    body = b"n,x,d,t,b,s\n1,1.5,2020-01-31,2020-01-31T10:00:00,true,a\n2,2.5,2021-02-28,,false,b\n"
    uploaded = client.post(
        "/api/v1/datasets/types/versions",
        content=body,
        headers={**producer.headers, "Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 201, uploaded.text
    types = {c["name"]: c["type"] for c in uploaded.json()["columns"]}
    assert types == {
        "n": "integer",
        "x": "number",
        "d": "date",
        "t": "string",  # one empty cell among date-times: inference keeps it text
        "b": "boolean",
        "s": "string",
    }
    return "types"


FORGED = [
    "!!!",
    "A" * 1999,
    _cursor([1]),
    _cursor([1, 2, 3]),
    _cursor({"a": 1}),
    _cursor([1, "x"]),
    _cursor([1, 1e300]),
    _cursor([1, 2**70]),
    _cursor([2**70, 1]),
    _cursor(["zz", 1]),
    _cursor([{"a": [1]}, 1]),
    _cursor([[1, 2], 1]),
    _cursor([True, 1]),
    _cursor(["2020-13-45", 1]),
    _cursor([1.5, -1]),
    base64.urlsafe_b64encode(b"\xff\xfe[1,1]").decode(),
]


@pytest.mark.parametrize("sort", [None, "n", "-x", "d", "t", "b", "-s"])
def test_forged_cursors_are_refused_or_answered_never_a_500(
    client: TestClient, typed: str, sort: str | None
) -> None:
    for cursor in FORGED:
        params = {"after": cursor, **({"sort": sort} if sort else {})}
        for fmt in ("json", "csv"):
            response = client.get(
                f"/api/v1/datasets/{typed}/data", params={**params, "format": fmt}
            )
            if response.status_code == 200:
                continue
            assert_clean_problem(response, (400, 422))
            assert "cursor" in response.json()["detail"] or response.json().get("errors")


def test_a_naive_expiry_on_an_approval_is_refused_not_guessed(
    client: TestClient, producer: Persona, make_user: Callable[..., Persona]
) -> None:
    """Naive times are a 422 (as for grants): ``2030-01-01T00:00:00`` without a zone could be
    UTC or Paris time, an hour apart on who may read confidential data."""
    created = client.post(
        "/api/v1/datasets",
        json={"id": "secret", "title": "S", "licence": "restricted-1.0", "kind": "generic"},
        headers=producer.headers,
    )
    assert created.status_code == 201, created.text
    analyst = make_user("analyst", "bureau-etudes")
    asked = client.post(
        "/api/v1/datasets/secret/access-requests",
        json={"purpose": "a study"},
        headers=analyst.headers,
    )
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    refused = client.post(
        f"/api/v1/access-requests/{request_id}/approve",
        json={"expires_at": "2030-01-01T00:00:00"},
        headers=producer.headers,
    )
    assert_clean_problem(refused, 422)
    assert [e["field"] for e in refused.json()["errors"]] == ["expires_at"]
    grants = client.get("/api/v1/datasets/secret/grants", headers=producer.headers).json()
    assert grants["data"] == []
    approved = client.post(
        f"/api/v1/access-requests/{request_id}/approve",
        json={"expires_at": "2030-01-01T00:00:00+01:00"},
        headers=producer.headers,
    )
    assert approved.status_code == 200, approved.text
    grants = client.get("/api/v1/datasets/secret/grants", headers=producer.headers).json()
    assert [g["expires_at"] for g in grants["data"]] == ["2029-12-31T23:00:00Z"]


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Foo", "coordinates": [1, 2]},
        {"type": "GeometryCollection", "geometries": [{"type": "Bar", "coordinates": []}]},
        {"type": 7, "coordinates": [1, 2]},
    ],
)
def test_unknown_geometry_types_in_a_territory_are_refused(
    client: TestClient, admin: Persona, geometry: dict[str, object]
) -> None:
    response = client.post(
        "/api/v1/territories",
        json={
            "code": "commune:17300",
            "name": "La Rochelle",
            "level": "commune",
            "geometry": geometry,
        },
        headers=admin.headers,
    )
    assert_clean_problem(response, 422)
    assert [e["field"] for e in response.json()["errors"]] == ["geometry"]
    assert client.get("/api/v1/territories/commune:17300").status_code == 404


@pytest.mark.parametrize(
    "geometry",
    [
        '{"type":"Foo","coordinates":[1,2]}',
        '{"type":"GeometryCollection","geometries":[{"type":"Bar","coordinates":[]}]}',
        '{"type":"Point"}',
        '"POINT (1 2)"',
    ],
)
def test_unknown_geometry_types_in_a_geojson_upload_are_refused(
    client: TestClient, runtime: Runtime, producer: Persona, dataset: str, geometry: str
) -> None:
    body = (
        '{"type":"FeatureCollection","features":['
        '{"type":"Feature","properties":{"site":"A"},"geometry":{"type":"Point","coordinates":[1,2]}},'
        '{"type":"Feature","properties":{"site":"B"},"geometry":' + geometry + "}]}"
    ).encode()
    before = snapshot(client, runtime, dataset)
    response = client.post(
        f"/api/v1/datasets/{dataset}/versions",
        content=body,
        headers={**producer.headers, "Content-Type": "application/geo+json"},
    )
    assert_clean_problem(response, 422)
    errors = response.json()["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [(2, "geometry")]
    assert snapshot(client, runtime, dataset) == before


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_a_target_are_refused(
    client: TestClient, admin: Persona, literal: str
) -> None:
    """Python's json reads these non-standard literals: NaN was a 500, Infinity a silent null."""
    created = client.post(
        "/api/v1/territories",
        json={"code": "commune:17300", "name": "La Rochelle", "level": "commune"},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    body = '{"reference_year": 2015, "target_year": 2050, "target_net": ' + literal + "}"
    response = client.put(
        "/api/v1/territories/commune:17300/target",
        content=body.encode(),
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    assert_clean_problem(response, 422)
    assert [e["field"] for e in response.json()["errors"]] == ["target_net"]
    assert client.get("/api/v1/territories/commune:17300/target").status_code == 404


@pytest.mark.parametrize("sort", ["b", "-b", "d", "-x", "s"])
def test_following_links_next_pages_through_every_sorted_row(
    client: TestClient, typed: str, sort: str
) -> None:
    """The genuine cursor of a boolean sort was a 500 too (``column > True`` in SQLAlchemy)."""
    seen, url = [], f"/api/v1/datasets/{typed}/data?sort={sort}&page_size=1"
    for _ in range(5):
        page = client.get(url)
        assert page.status_code == 200, page.text
        seen.extend(row["n"] for row in page.json()["data"])
        if page.json()["links"]["next"] is None:
            break
        url = page.json()["links"]["next"]
    assert sorted(seen) == [1, 2]
    assert len(seen) == 2
