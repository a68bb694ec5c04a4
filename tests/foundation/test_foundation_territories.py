"""Territories and actors: hierarchy, GeoJSON, geometry storage on both backends."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from datahub.runtime import Runtime
from datahub.territories import service
from tests.conftest import Persona, on_postgres

LA_ROCHELLE = {
    "type": "Polygon",
    "coordinates": [
        [[-1.25, 46.13], [-1.10, 46.13], [-1.10, 46.20], [-1.25, 46.20], [-1.25, 46.13]]
    ],
}


def build_tree(client: TestClient, admin: Persona) -> None:
    for body in (
        {"code": "country:FR", "name": "France", "level": "country"},
        {
            "code": "region:75",
            "name": "Nouvelle-Aquitaine",
            "level": "region",
            "parent": "country:FR",
        },
        {
            "code": "departement:17",
            "name": "Charente-Maritime",
            "level": "departement",
            "parent": "region:75",
        },
        {
            "code": "epci:241700434",
            "name": "CA La Rochelle",
            "level": "epci",
            "parent": "departement:17",
        },
        {
            "code": "commune:17300",
            "name": "La Rochelle",
            "level": "commune",
            "parent": ["epci:241700434", "departement:17"],
            "geometry": LA_ROCHELLE,
            "population": 77205,
        },
        {"code": "commune:17028", "name": "Aytré", "level": "commune", "parent": "epci:241700434"},
    ):
        response = client.post("/api/v1/territories", json=body, headers=admin.headers)
        assert response.status_code == 201, response.text


def test_hierarchy_and_filters(client: TestClient, admin: Persona, runtime: Runtime) -> None:
    build_tree(client, admin)
    communes = client.get("/api/v1/territories?parent=epci:241700434").json()
    assert [t["code"] for t in communes["data"]] == ["commune:17028", "commune:17300"]
    rochelle = client.get("/api/v1/territories/commune:17300").json()
    assert rochelle["parents"] == ["departement:17", "epci:241700434"]
    assert rochelle["population"] == 77205
    with runtime.transaction() as session:
        assert service.scope(session, "region:75") == {
            "region:75",
            "departement:17",
            "epci:241700434",
            "commune:17300",
            "commune:17028",
        }
        assert service.ancestors(session, "commune:17028") == {
            "epci:241700434",
            "departement:17",
            "region:75",
            "country:FR",
        }
    assert client.get("/api/v1/territories?level=commune").json()["meta"]["total"] == 2


def test_geojson_round_trip_and_postgis_column(
    client: TestClient, admin: Persona, runtime: Runtime
) -> None:
    build_tree(client, admin)
    feature = client.get("/api/v1/territories/commune:17300?format=geojson")
    assert feature.headers["content-type"].startswith("application/geo+json")
    body = feature.json()
    assert body["type"] == "Feature"
    assert body["geometry"]["coordinates"][0][0] == [-1.25, 46.13]
    collection = client.get("/api/v1/territories?format=geojson&level=commune").json()
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == 2
    if on_postgres():
        with runtime.engine.connect() as connection:
            column_type = connection.execute(
                text(
                    "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                    "WHERE attrelid = 'territory'::regclass AND attname = 'geometry'"
                )
            ).scalar_one()
            area = connection.execute(
                text(
                    "SELECT ST_Area(ST_Transform(geometry, 2154)) / 10000 FROM territory "
                    "WHERE code = 'commune:17300'"
                )
            ).scalar_one()
        assert column_type.startswith("geometry")
        # 0.15° of longitude × 0.07° of latitude near 46.2°N ≈ 11.6 km × 7.8 km ≈ 9,000 ha.
        assert 8_000 < area < 10_000


def test_invalid_territories_are_422(client: TestClient, admin: Persona) -> None:
    build_tree(client, admin)
    bad = [
        {"code": "commune:1", "name": "x", "level": "commune"},
        {"code": "commune:17999", "name": "x", "level": "epci"},
        {"code": "commune:17999", "name": "x", "level": "commune", "parent": "epci:999999999"},
        {"code": "epci:200000001", "name": "x", "level": "epci", "parent": "commune:17300"},
        {"code": "commune:17999", "name": "x", "level": "commune", "geometry": {"type": "Polygon"}},
        {
            "code": "commune:17999",
            "name": "x",
            "level": "commune",
            "geometry": {"type": "Point", "coordinates": [400000, 6500000]},
        },
    ]
    for body in bad:
        response = client.post("/api/v1/territories", json=body, headers=admin.headers)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    duplicate = client.post(
        "/api/v1/territories",
        json={"code": "commune:17300", "name": "x", "level": "commune"},
        headers=admin.headers,
    )
    assert duplicate.status_code == 409


def test_actors(client: TestClient, admin: Persona, make_user: object) -> None:
    build_tree(client, admin)
    actor = {
        "siret": "78430512200017",
        "name": "Raffinerie Exemple",
        "naf": "19.20Z",
        "sector": "industry",
        "territory": "commune:17300",
        "lon": -1.2,
        "lat": 46.15,
    }
    created = client.post("/api/v1/actors", json=actor, headers=admin.headers)
    assert created.status_code == 201, created.text
    assert created.json()["id"] == "78430512200017"
    assert created.json()["siren"] == "784305122"
    fetched = client.get("/api/v1/actors/78430512200017").json()
    assert (fetched["lon"], fetched["lat"]) == (-1.2, 46.15)
    in_epci = client.get("/api/v1/actors?territory=epci:241700434").json()
    assert in_epci["meta"]["total"] == 1
    assert client.get("/api/v1/actors?territory=commune:17028").json()["meta"]["total"] == 0
    bad = client.post(
        "/api/v1/actors", json={**actor, "sector": "space", "siret": None}, headers=admin.headers
    )
    assert bad.status_code == 422
    anonymous = client.post("/api/v1/actors", json=actor)
    assert anonymous.status_code == 401
