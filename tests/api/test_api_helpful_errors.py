"""Errors that say how to fix: found headers, "did you mean", ODS named, where to ask for
access, and unknown query parameters refused with the closest known one."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.world import World, build_world
from tests.conftest import Persona


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> World:
    return build_world(client, make_user, admin)


def _emissions(world: World, licence: str = "etalab-2.0") -> str:
    producer = world.headers("producer")
    created = world.client.post(
        "/api/v1/datasets",
        json={"title": "Inventaire", "licence": licence, "kind": "emissions"},
        headers=producer,
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _upload(world: World, dataset: str, body: bytes, media: str = "text/csv") -> Any:
    return world.client.post(
        f"/api/v1/datasets/{dataset}/versions",
        content=body,
        headers={**world.headers("producer"), "Content-Type": media},
    )


def _messages(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def test_a_missing_column_lists_the_header_and_the_likely_culprit(world: World) -> None:
    dataset = _emissions(world)
    body = "year;territoire;sector;value;unit\n2019;commune:17300;waste;1;tCO2e\n"
    message = _messages(_upload(world, dataset, body.encode()))["territory"]
    assert "'year', 'territoire', 'sector', 'value', 'unit'" in message
    assert "'territoire'" in message.split("header has")[1].split(")")[1]  # named as culprit


def test_bare_codes_and_french_sector_labels_get_a_did_you_mean(world: World) -> None:
    dataset = _emissions(world)
    body = "year;territory;sector;value;unit\n2019;17300;Résidentiel;1;tCO2e\n"
    messages = _messages(_upload(world, dataset, body.encode()))
    assert messages["territory"].endswith("did you mean `commune:17300`?")
    assert messages["sector"].endswith("did you mean `residential`?")
    body = "year;territory;sector;value;unit\n2019;epci:241700434;Transport routier;1;tCO2e\n"
    assert _messages(_upload(world, dataset, body.encode()))["sector"].endswith(
        "did you mean `road_transport`?"
    )


def test_a_bare_siren_in_a_trajectory_path_suggests_the_epci_code(client: TestClient) -> None:
    response = client.get("/api/v1/territories/241700434/trajectory")
    assert response.status_code == 404
    assert "did you mean `epci:241700434`?" in response.json()["detail"]


def test_territory_creation_says_what_was_meant(client: TestClient, admin: Persona) -> None:
    response = client.post(
        "/api/v1/territories",
        json={"code": "17300", "name": "La Rochelle", "level": "commune"},
        headers=admin.headers,
    )
    assert response.status_code == 422
    assert "did you mean `commune:17300`?" in response.text
    assert "pattern" not in response.text.split('"errors"')[1]  # no regular expression quoted


@pytest.mark.parametrize(
    ("typed", "meant"), [("Licence Ouverte", "etalab-2.0"), ("licence ouverte 2", "etalab-2.0")]
)
def test_a_licence_by_its_common_name_is_suggested(world: World, typed: str, meant: str) -> None:
    response = world.client.post(
        "/api/v1/datasets",
        json={"title": "x", "licence": typed, "kind": "generic"},
        headers=world.headers("producer"),
    )
    assert f"did you mean `{meant}`?" in _messages(response)["licence"]


def test_an_ods_file_is_named_as_such(world: World) -> None:
    dataset = world.create_dataset("open")
    ods = io.BytesIO()
    with zipfile.ZipFile(ods, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    response = _upload(world, dataset, ods.getvalue(), "application/octet-stream")
    assert response.status_code == 415
    assert response.json()["detail"] == (
        "OpenDocument spreadsheets (ODS) are not accepted: save as XLSX or CSV"
    )


def test_a_403_on_shared_data_points_to_the_access_request(world: World) -> None:
    dataset = world.create_dataset("shared")
    response = world.client.get(
        f"/api/v1/datasets/{dataset}/data", headers=world.headers("non_member")
    )
    assert response.status_code == 403
    href = f"/api/v1/datasets/{dataset}/access-requests"
    assert response.json()["access_request"] == {"href": href, "method": "POST"}
    assert response.headers["link"] == f'<{href}>; rel="access-request"'
    # ...and following it works.
    asked = world.client.post(
        href, json={"purpose": "étude mobilité"}, headers=world.headers("non_member")
    )
    assert asked.status_code == 201, asked.text


def test_an_unknown_query_parameter_is_a_422_naming_the_closest(client: TestClient) -> None:
    response = client.get("/api/v1/territories/epci:241700434/trajectory?fromat=svg")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    error = response.json()["errors"][0]
    assert error["field"] == "fromat"
    assert error["message"].endswith("did you mean `format`?")
    listing = client.get("/api/v1/datasets?pagesize=10")
    assert "did you mean `page_size`?" in listing.json()["errors"][0]["message"]


def test_row_filters_still_pass_and_misspelt_row_parameters_do_not(world: World) -> None:
    dataset = world.create_dataset("open")
    url = f"/api/v1/datasets/{dataset}/data"
    filtered = world.client.get(f"{url}?kwh__greater=2&sort=site")
    assert filtered.status_code == 200, filtered.text
    assert [r["site"] for r in filtered.json()["data"]] == ["B"]
    wrong = world.client.get(f"{url}?sotr=site")
    assert wrong.status_code == 422
    assert "did you mean `sort`?" in wrong.json()["errors"][0]["message"]
