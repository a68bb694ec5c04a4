"""Frictionless: every demo dataset's Data Package, served by a live server, passes the real
``frictionless`` validator (its rows and its original file, checksums and sizes included)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import requests
from fastapi.testclient import TestClient
from frictionless import Package, system, validate

from datahub.catalog.kinds import STANDARD_KINDS
from datahub.demo.loader import DATASETS
from datahub.runtime import Runtime
from tests.conftest import Persona
from tests.liveserver import LiveServer


def _validate(url: str, token: str | None = None) -> dict[str, object]:
    session = requests.Session()
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    with system.use_context(http_session=session):
        report = validate(url)
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]
    return report.to_dict()


def test_every_demo_package_is_valid(
    demo: Runtime, live_server: LiveServer, admin: Persona
) -> None:
    producer = admin  # reads the restricted demo dataset too
    for spec in DATASETS:
        url = f"{live_server.url}/api/v1/datasets/{spec.id}/datapackage.json"
        response = httpx.get(url, headers={"Authorization": f"Bearer {producer.token}"})
        assert response.status_code == 200, response.text
        package = response.json()
        assert package["licenses"][0]["path"].startswith("http")
        names = [r["name"] for r in package["resources"]]
        assert names == ["rows", "original"], spec.id
        report = _validate(url, producer.token)
        tasks = report["tasks"]
        assert isinstance(tasks, list)
        assert len(tasks) == 2
        rows = next(t for t in tasks if t["name"] == "rows")
        assert rows["stats"]["rows"] > 0  # the rows were really read


def test_emissions_without_optional_columns_valid_against_its_schema(
    client: TestClient, live_server: LiveServer, make_user: Callable[..., Persona]
) -> None:
    producer = make_user("producer", "cda-la-rochelle", member=True)
    created = client.post(
        "/api/v1/datasets",
        json={"id": "ges-fr", "title": "GES", "licence": "etalab-2.0", "kind": "emissions"},
        headers=producer.headers,
    )
    assert created.status_code == 201, created.text
    # A French file: ';', decimal comma, Windows-1252, no actor/ghg columns, an extra column.
    body = (
        "year;territory;sector;value;unit;commentaire\r\n"
        "2019;commune:17300;residential;1234,5;tCO2e;chauffage électrique\r\n"
        "2020;commune:17300;residential;1100,25;tCO2e;\r\n"
    ).encode("cp1252")
    uploaded = client.post(
        "/api/v1/datasets/ges-fr/versions",
        content=body,
        headers={**producer.headers, "Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 201, uploaded.text
    url = f"{live_server.url}/api/v1/datasets/ges-fr/datapackage.json"
    package = httpx.get(url).json()
    original = package["resources"][1]
    assert original["dialect"]["delimiter"] == ";"
    assert original["encoding"] == "cp1252"
    value = next(f for f in original["schema"]["fields"] if f["name"] == "value")
    assert value["decimalChar"] == ","
    assert [f["name"] for f in package["resources"][0]["schema"]["fields"]] == [
        "year",
        "territory",
        "sector",
        "value",
        "unit",
        "commentaire",
    ]
    _validate(url)
    # The same package, read by frictionless itself: the rows as typed values.
    with system.use_context(http_session=requests.Session()):
        rows = Package(url).get_resource("rows").read_rows()
    assert [r["value"] for r in rows] == [pytest.approx(1234.5), pytest.approx(1100.25)]


def test_schemas_are_served(client: TestClient) -> None:
    listed = client.get("/api/v1/schemas").json()
    kinds = [item["kind"] for item in listed["data"]]
    # Every standard kind has its Table Schema (generic rows follow their own, if any).
    assert kinds == list(STANDARD_KINDS)
    schema = client.get("/api/v1/schemas/emissions")
    assert schema.headers["content-type"] == "application/schema+json"
    assert {f["name"] for f in schema.json()["fields"]} >= {"year", "territory", "sector", "value"}
    missing = client.get("/api/v1/schemas/nope")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_package_needs_data_access(
    client: TestClient, make_user: Callable[..., Persona], admin: Persona
) -> None:
    from tests.api.world import build_world

    world = build_world(client, make_user, admin)
    dataset_id = world.create_dataset("restricted")
    url = f"/api/v1/datasets/{dataset_id}/datapackage.json"
    assert client.get(url, headers=world.headers("member")).status_code == 403
    assert client.get(url, headers=world.headers("producer")).status_code == 200
