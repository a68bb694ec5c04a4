"""Secrecy carries over to the steering figures (contract §5b, §8): budget, reference gaps and
the plan's scenario read only what the trajectory shows, so a withheld cell stays withheld."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.carbon.carbon_world import EPCI, LA_ROCHELLE, CarbonWorld, build_carbon_world
from tests.carbon.test_carbon_api_licences import PER_ACTOR
from tests.conftest import Persona

TRAJECTORY = f"/api/v1/territories/{EPCI}/trajectory"
#: PER_ACTOR plus a passing tertiary cell in 2020 {D1 60, D2 50, D3 55} = 165, so that 2020
#: keeps its total: with energy withheld beside a single passing cell, minimal loss would
#: withhold the total instead (contract §5b). Waste (101 < 165) partners energy (1101, B1 at
#: 82.4 %) and tertiary is shown.
ROWS = PER_ACTOR + "".join(
    f"2020;commune:17300;tertiary;actor-{a};{v};tCO2e\n"
    for a, v in (("D1", 60), ("D2", 50), ("D3", 55))
)


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> CarbonWorld:
    built = build_carbon_world(client, make_user, admin)
    for actor in ("A1", "A2", "B1", "B2", "B3", "C1", "C2", "C3", "D1", "D2", "D3"):
        built.actor(f"actor-{actor}", LA_ROCHELLE)
    return built


def _numbers(text: str) -> set[float]:
    return {float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", text)}


def test_withheld_cells_give_no_gap_no_effect_and_no_budget_year(world: CarbonWorld) -> None:
    # ROWS (restricted-stat-1.0, see test_carbon_api_licences): an anonymous caller sees,
    # on the actors' basis, 2019 total 334 with only waste 101 (industry 170 and tertiary 63
    # withheld), 2020 total 1266 with only tertiary 165 (energy 1000 and waste withheld).
    world.dataset("emissions", ROWS, licence="restricted-stat-1.0")
    reference, _ = world.dataset(
        "reference_trajectory",
        "year,territory,sector,value,unit\n"
        f"2019,{EPCI},industry,100,tCO2e\n2019,{EPCI},tertiary,50,tCO2e\n"
        f"2019,{EPCI},waste,90,tCO2e\n2020,{EPCI},energy,900,tCO2e\n"
        f"2020,{EPCI},waste,100,tCO2e\n",
    )
    target = {"reference_year": 2019, "target_year": 2025, "target_net": 0}
    world.client.put(f"/api/v1/territories/{EPCI}/target", json=target, headers=world.admin.headers)
    effect = {"start_year": 2021, "end_year": 2021, "status": "planned"}
    actions = [
        {
            "id": "rel-industry",
            "title": "i",
            "sector": "industry",
            **effect,
            "effect": {"kind": "relative", "value": 0.5},
        },
        {
            "id": "rel-waste",
            "title": "w",
            "sector": "waste",
            **effect,
            "effect": {"kind": "relative", "value": 0.1},
        },
        {
            "id": "abs-energy",
            "title": "e",
            "sector": "energy",
            **effect,
            "end_year": 2022,
            "effect": {"kind": "absolute", "value": 10},
        },
    ]
    put = world.client.put(
        f"/api/v1/territories/{EPCI}/plan", json={"actions": actions}, headers=world.admin.headers
    )
    assert put.status_code == 200, put.text
    response = world.client.get(
        TRAJECTORY, params={"basis": "actors", "reference": reference, "scenario": "plan"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    gaps = {y["year"]: y["gap"] for y in body["reference"]["years"]}
    # Only waste 2019 is shown: 101 − 90 = 11. Industry's gap would give 170 back (100 + gap).
    assert gaps == {2019: {"waste": pytest.approx(11.0)}, 2020: {}}
    scenario = body["scenario"]
    # Industry shows no figure at all: its relative action cannot be counted without
    # disclosing it. Waste shows one figure (101 in 2019): 10 % of it = 10.1 t/yr from 2021.
    assert scenario["unavailable"] == ["rel-industry"]
    years = {p["year"]: p for p in scenario["series"]}
    assert set(years[2025]["contributions"]) == {"rel-waste", "abs-energy"}
    assert years[2021]["contributions"] == {"rel-waste": pytest.approx(10.1), "abs-energy": 0.0}
    # Trend through (2019, 334) and (2020, 1266): +932 t/yr; baseline 2022 = 334 + 3 × 932.
    assert years[2022]["baseline"] == pytest.approx(3130.0)
    assert years[2022]["net"] == pytest.approx(3130.0 - 10.1 - 10.0)
    budget = body["budget"]
    # Target path 334 → 0 over 2019..2025, 7 values, mean 167: 1169. Trend: 7 × trend(2022).
    assert budget["target_path"] == pytest.approx(1169.0)
    assert budget["trend"] == pytest.approx(7 * 3130.0)
    # Avoided 2020..2025: 0, 10.1, 20.1, 20.1, 20.1, 20.1 = 90.5.
    assert budget["scenario"] == pytest.approx(7 * 3130.0 - 90.5)
    # Observed rate from shown totals only: (1266 / 334) − 1 over one year.
    assert budget["observed_rate"] == pytest.approx(1266 / 334 - 1)
    # No withheld cell (industry 170, tertiary 63, energy 1000) appears anywhere.
    assert _numbers(response.text) & {170.0, 63.0, 1000.0} == set()

    # The producer reads the rows in full: industry is shown and its action counts
    # (half of 170 = 85 t/yr).
    full = world.trajectory(
        TRAJECTORY, "producer", basis="actors", reference=reference, scenario="plan"
    )
    assert full["scenario"]["unavailable"] == []
    first = {p["year"]: p for p in full["scenario"]["series"]}[2021]
    assert first["contributions"]["rel-industry"] == pytest.approx(85.0)
    assert {y["year"]: y["gap"] for y in full["reference"]["years"]}[2019]["industry"] == (
        pytest.approx(70.0)
    )
