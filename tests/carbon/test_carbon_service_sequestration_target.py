"""Sequestration with nested factors, targets (PUT + GET), CSV and SVG outputs."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient

from tests.carbon.carbon_world import (
    AYTRE,
    DEPT,
    EPCI,
    LA_ROCHELLE,
    CarbonWorld,
    build_carbon_world,
    year,
)
from tests.conftest import Persona


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> CarbonWorld:
    return build_carbon_world(client, make_user, admin)


def _land(world: CarbonWorld) -> None:
    world.dataset(
        "emissions",
        "year,territory,sector,value,unit\n2019,commune:17300,residential,1000,tCO2e\n",
    )
    world.dataset(
        "land_use",
        "year,territory,land_use,area_ha\n"
        "2019,commune:17300,forest,100\n"
        "2019,commune:17028,forest,50\n",
    )
    world.dataset(
        "land_use_change",
        "year,territory,from_land_use,to_land_use,area_ha\n"
        "2019,commune:17300,cropland,artificial,10\n",
    )
    world.dataset(
        "sequestration_factors",
        "land_use,from_land_use,to_land_use,territory,value,unit\n"
        "forest,,,epci:241700434,5,tCO2e/ha/yr\n"
        "forest,,,commune:17028,2,tCO2e/ha/yr\n"
        ",cropland,artificial,,73.3333333333,tCO2e/ha\n",
    )


def test_sequestration_most_specific_factor_wins(world: CarbonWorld) -> None:
    _land(world)
    # EPCI: La Rochelle's 100 ha of forest at the EPCI factor 5 = 500; Aytré's 50 ha at its own
    # factor 2 = 100; minus 10 ha cropland→artificial × 73.333 tCO2e/ha (ALDO's 20 tC/ha × 44/12)
    # = 733.333 tCO2e.
    # 500 + 100 − 733.333 = −133.333 (land-use change makes the removal negative).
    epci = year(world.trajectory(f"/api/v1/territories/{EPCI}/trajectory"), 2019)
    assert epci["sequestration"] == pytest.approx(-133.333333, abs=1e-4)
    assert epci["net"] == pytest.approx(1000 + 133.333333, abs=1e-4)
    # The département gets the same split (EPCI factor for the rest, commune's for Aytré).
    dept = year(world.trajectory(f"/api/v1/territories/{DEPT}/trajectory"), 2019)
    assert dept["sequestration"] == pytest.approx(-133.333333, abs=1e-4)
    # Aytré alone: 50 × 2 = 100 (its own factor beats the EPCI's 5).
    aytre = world.client.get(f"/api/v1/sectors/lulucf/trajectory?territory={AYTRE}").json()
    assert aytre["series"] == []  # no emission cells in that sector: no observed years
    rochelle = year(world.trajectory(f"/api/v1/territories/{LA_ROCHELLE}/trajectory"), 2019)
    assert rochelle["sequestration"] == pytest.approx(500 - 733.333333, abs=1e-4)
    # A non-LULUCF sector trajectory carries no sequestration.
    sector = world.trajectory("/api/v1/sectors/residential/trajectory", territory=LA_ROCHELLE)
    assert year(sector, 2019)["sequestration"] == 0.0
    assert year(sector, 2019)["net"] == pytest.approx(1000.0)


def _two_thousand_kt(world: CarbonWorld) -> None:
    rows = ["year,territory,sector,value,unit"]
    # 2000 kt in 2019 and 1800 kt in 2021 (net = emissions: no land data).
    rows += ["2019,commune:17300,industry,2000,ktCO2e", "2021,commune:17300,industry,1800,ktCO2e"]
    world.dataset("emissions", "\n".join(rows) + "\n")


def test_target_linear_and_exponential(world: CarbonWorld) -> None:
    _two_thousand_kt(world)
    target = {"reference_year": 2019, "target_year": 2030, "target_net": 1_400_000}
    url = f"/api/v1/territories/{EPCI}/target"
    assert world.client.get(url).status_code == 404
    response = world.client.put(
        url, json={**target, "pathway": "linear"}, headers=world.admin.headers
    )
    assert response.status_code == 200, response.text
    assert world.client.get(url).json()["pathway"] == "linear"
    body = world.trajectory(f"/api/v1/territories/{EPCI}/trajectory")
    path = {p["year"]: p["net"] for p in body["target"]["path"]}
    # Linear: 2000 + (1400 − 2000) × 6/11 = 1672.727 kt in 2025.
    assert path[2025] == pytest.approx(1_672_727.27, abs=0.01)
    assert path[2019] == pytest.approx(2_000_000)
    assert path[2030] == pytest.approx(1_400_000)
    # Gap 2021: 1800 kt − (2000 − 600 × 2/11 = 1890.909 kt) = −90 909.09 t.
    gaps = {g["year"]: g["value"] for g in body["gap"]}
    assert gaps[2021] == pytest.approx(-90_909.09, abs=0.01)
    # Projection: line through (2019, 2000 kt), (2021, 1800 kt): −100 kt/yr → 0 in 2039.
    assert body["projection"]["neutrality_year"] == 2039

    response = world.client.put(
        url, json={**target, "pathway": "exponential"}, headers=world.admin.headers
    )
    assert response.status_code == 200
    body = world.trajectory(f"/api/v1/territories/{EPCI}/trajectory")
    path = {p["year"]: p["net"] for p in body["target"]["path"]}
    # Exponential: 2000 × 0.7^(6/11) = 1646.41 kt in 2025.
    assert path[2025] == pytest.approx(1_646_410.0, abs=1.0)


def test_target_validation(world: CarbonWorld) -> None:
    url = f"/api/v1/territories/{EPCI}/target"
    headers = world.admin.headers
    towards_zero = {"reference_year": 2019, "target_year": 2040, "pathway": "exponential"}
    response = world.client.put(url, json=towards_zero, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    backwards = {"reference_year": 2030, "target_year": 2019}
    assert world.client.put(url, json=backwards, headers=headers).status_code == 422
    analyst = world.people["member"]
    assert analyst is not None
    ok = {"reference_year": 2019, "target_year": 2040}
    assert world.client.put(url, json=ok, headers=analyst.headers).status_code == 403
    assert world.client.put(url, json=ok).status_code == 401
    assert world.client.put(url, json=ok, headers=world.admin.headers).status_code == 200


def test_csv_fr_parses_back_to_the_json_numbers(world: CarbonWorld) -> None:
    _land(world)
    path = f"/api/v1/territories/{EPCI}/trajectory"
    body = world.trajectory(path)
    response = world.client.get(path, params={"format": "csv", "dialect": "fr"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'rel="license"' in response.headers["link"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    values = {(int(r["year"]), r["key"]): float(r["value"].replace(",", ".")) for r in rows}
    point = year(body, 2019)
    assert values[(2019, "residential")] == pytest.approx(point["breakdown"]["residential"])
    assert values[(2019, "sequestration")] == pytest.approx(point["sequestration"])
    assert values[(2019, "net")] == pytest.approx(point["net"])
    assert "," in next(r["value"] for r in rows if r["key"] == "sequestration")  # decimal comma


def test_svg_is_an_svg_document(world: CarbonWorld) -> None:
    _two_thousand_kt(world)
    response = world.client.get(f"/api/v1/territories/{EPCI}/trajectory", params={"format": "svg"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert 'rel="license"' in response.headers["link"]
    root = ElementTree.fromstring(response.content)
    assert root.tag.endswith("svg")
