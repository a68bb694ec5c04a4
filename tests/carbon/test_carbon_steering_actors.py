"""Actors' contributions, their own targets and the actors' coverage of the inventory (§8)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from datahub.carbon.contribution import contributions
from datahub.carbon.secrecy import SecrecyOutcome, WithheldCell
from datahub.carbon.trajectory import build_trajectory
from tests.carbon.carbon_world import EPCI, LA_ROCHELLE, CarbonWorld, build_carbon_world
from tests.conftest import Persona


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> CarbonWorld:
    built = build_carbon_world(client, make_user, admin)
    org = {"id": "societe-a", "name": "Société A", "siren": "123456789"}
    assert client.post("/api/v1/organizations", json=org, headers=admin.headers).status_code == 201
    built.people["owner"] = make_user("producer", "societe-a")
    actor = {
        "id": "actor-a",
        "siren": "123456789",
        "name": "Société A",
        "territory": LA_ROCHELLE,
        "sector": "industry",
    }
    assert client.post("/api/v1/actors", json=actor, headers=admin.headers).status_code == 201
    built.actor("actor-b", LA_ROCHELLE)
    # The inventory of La Rochelle in 2019: industry 1000, residential 500 (total 1500).
    built.dataset(
        "emissions",
        "year,territory,sector,value,unit\n"
        f"2019,{LA_ROCHELLE},industry,1000,tCO2e\n2019,{LA_ROCHELLE},residential,500,tCO2e\n",
    )
    # The actors' own figures: A 200 and B 300 in 2019; B again in 2020 (no inventory then).
    built.dataset(
        "emissions",
        "year,territory,sector,actor,value,unit\n"
        f"2019,{LA_ROCHELLE},industry,actor-a,200,tCO2e\n"
        f"2019,{LA_ROCHELLE},industry,actor-b,300,tCO2e\n"
        f"2020,{LA_ROCHELLE},industry,actor-b,100,tCO2e\n",
    )
    return built


def test_actor_share_of_sector_and_territory(world: CarbonWorld) -> None:
    body = world.trajectory("/api/v1/actors/actor-a/trajectory")
    contribution = body["contribution"]
    assert (contribution["territory"], contribution["sector"]) == (LA_ROCHELLE, "industry")
    # 2019: 200 of the inventory's industry 1000 = 20 %; of its 1500 in all = 13.33 %.
    assert contribution["series"] == [
        {
            "year": 2019,
            "emissions": 200.0,
            "sector_emissions": 1000.0,
            "territory_emissions": 1500.0,
            "share_of_sector": pytest.approx(0.2),
            "share_of_territory": pytest.approx(200 / 1500, abs=1e-6),
        }
    ]
    # B in 2020: no inventory that year, so no share (never against a zero or a guess).
    series_b = world.trajectory("/api/v1/actors/actor-b/trajectory")["contribution"]["series"]
    assert series_b[1] == {
        "year": 2020,
        "emissions": 100.0,
        "sector_emissions": None,
        "territory_emissions": None,
        "share_of_sector": None,
        "share_of_territory": None,
    }


def test_coverage_of_the_inventory(world: CarbonWorld) -> None:
    body = world.trajectory(f"/api/v1/territories/{EPCI}/trajectory", coverage="true")
    # Actors located in the EPCI: 200 + 300 = 500 of industry's 1000 (50 %), of 1500 in all.
    # 2020 has actors but no inventory: no ratio.
    assert body["coverage"] == [
        {"year": 2019, "sectors": {"industry": 0.5}, "total": pytest.approx(500 / 1500, abs=1e-6)}
    ]
    # The same from the actors' side (basis=actors): the ratio does not depend on the side.
    actors = world.trajectory(
        f"/api/v1/territories/{EPCI}/trajectory", coverage="true", basis="actors"
    )
    assert actors["coverage"] == body["coverage"]
    assert world.trajectory(f"/api/v1/territories/{EPCI}/trajectory")["coverage"] is None


def test_actor_target_set_by_its_organisation(world: CarbonWorld) -> None:
    url = "/api/v1/actors/actor-a/target"
    target = {"reference_year": 2019, "target_year": 2030, "target_net": 0}
    assert world.client.put(url, json=target).status_code == 401
    assert world.client.put(url, json=target, headers=world.producer.headers).status_code == 403
    assert world.client.get(url).status_code == 404
    response = world.client.put(url, json=target, headers=world.headers("owner"))
    assert response.status_code == 200, response.text
    assert response.json()["organization"] == "societe-a"
    body = world.trajectory("/api/v1/actors/actor-a/trajectory")
    path = {p["year"]: p["net"] for p in body["target"]["path"]}
    # From 200 in 2019 to 0 in 2030, linear: 200 × (1 − 6/11) = 90.909 in 2025.
    assert path[2025] == pytest.approx(90.909091, abs=1e-5)
    # Budget along the path: 12 values from 200 to 0, mean 100.
    assert body["budget"]["target_path"] == pytest.approx(1200.0)
    bad = {"reference_year": 2030, "target_year": 2019}
    assert world.client.put(url, json=bad, headers=world.admin.headers).status_code == 422


def test_contribution_skips_withheld_inventory_cells() -> None:
    actor = build_trajectory({(2019, "industry"): 200.0})
    inventory = build_trajectory(
        {(2019, "industry"): 1000.0, (2019, "waste"): 500.0},
        secrecy=SecrecyOutcome((WithheldCell(2019, "industry", "secrecy"),)),
    )
    (year,) = contributions(actor, inventory, "industry")
    # The sector's cell is withheld: no share of it (it would give the cell back as 200/share).
    assert year.sector_emissions is None
    assert year.share_of_sector is None
    assert year.share_of_territory == pytest.approx(200 / 1500, abs=1e-6)


def test_actor_trajectories_take_no_reference_nor_scenario(world: CarbonWorld) -> None:
    for params in ({"scenario": "plan"}, {"reference": "anything"}):
        response = world.client.get("/api/v1/actors/actor-a/trajectory", params=params)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == next(iter(params))
