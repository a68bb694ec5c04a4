"""Budget, action plans and the plan's scenario through the API (contract §8), by hand.

The territory (CDA La Rochelle, through its commune La Rochelle) emits, with no land data so
net = emissions:

    year         2016  2018  2019  2021
    industry     1100  1000   960   900
    residential   100   100   100   100
    net          1200  1100  1060  1000

Least-squares trend of the net: mean year = (2016 + 2018 + 2019 + 2021) / 4 = 2018.5, mean net
= 4360 / 4 = 1090; deviations dx = −2.5, −0.5, 0.5, 2.5 and dy = 110, 10, −30, −90, so
Σ dx·dy = −275 − 5 − 15 − 225 = −520 and Σ dx² = 13: slope −40 t/yr, trend(t) = 1090 − 40 (t −
2018.5). Target: from 2018 (net 1100) to 0 in 2030, linear: path(t) = 1100 × (1 − (t − 2018)/12).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.carbon.carbon_world import EPCI, LA_ROCHELLE, CarbonWorld, build_carbon_world
from tests.conftest import Persona

PLAN = f"/api/v1/territories/{EPCI}/plan"
TRAJECTORY = f"/api/v1/territories/{EPCI}/trajectory"


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> CarbonWorld:
    world = build_carbon_world(client, make_user, admin)
    rows = ["year,territory,sector,value,unit"]
    for year, industry in ((2016, 1100), (2018, 1000), (2019, 960), (2021, 900)):
        rows.append(f"{year},{LA_ROCHELLE},industry,{industry},tCO2e")
        rows.append(f"{year},{LA_ROCHELLE},residential,100,tCO2e")
    world.dataset("emissions", "\n".join(rows) + "\n")
    created = client.post(
        "/api/v1/organizations",
        json={"id": "cda-la-rochelle", "name": "CDA de La Rochelle", "siren": "241700434"},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    world.people["cda"] = make_user("producer", "cda-la-rochelle")
    return world


def _target(world: CarbonWorld, **extra: Any) -> None:
    body = {"reference_year": 2018, "target_year": 2030, "target_net": 0, **extra}
    response = world.client.put(
        f"/api/v1/territories/{EPCI}/target", json=body, headers=world.admin.headers
    )
    assert response.status_code == 200, response.text


ACTIONS = [
    {
        "id": "chaleur-fatale",
        "title": "Récupération de chaleur fatale au port",
        "sector": "industry",
        "start_year": 2022,
        "end_year": 2025,
        "effect": {"kind": "absolute", "value": 120},
        "status": "ongoing",
    },
    {
        "id": "renovation",
        "title": "Rénovation du parc social",
        "sector": "residential",
        "start_year": 2024,
        "end_year": 2024,
        "effect": {"kind": "relative", "value": 0.5},
    },
]


def test_budget_by_hand(world: CarbonWorld) -> None:
    assert world.trajectory(TRAJECTORY)["budget"] is None  # no target, no budget
    _target(world)
    budget = world.trajectory(TRAJECTORY)["budget"]
    assert (budget["from_year"], budget["to_year"]) == (2018, 2030)
    # Target path: 13 yearly values from 1100 down to 0 in equal steps, mean 550: 13 × 550.
    assert budget["target_path"] == pytest.approx(7150.0)
    # Trend over 2018..2030: 13 values of a line, mean = trend(2024) = 1090 − 40 × 5.5 = 870.
    assert budget["trend"] == pytest.approx(11310.0)
    assert budget["scenario"] is None  # not asked
    # Last observed year 2021 (net 1000); towards 0 no compound rate exists, the linear
    # equivalent is (0 − 1000) / (2030 − 2021) = −111.11 t/yr.
    assert budget["last_observed_year"] == 2021
    assert budget["required_rate"] is None
    assert budget["required_annual_change"] == pytest.approx(-1000 / 9)
    # Last five years before 2021: 2016..2020, first shown 2016 (1200):
    # (1000 / 1200)^(1/5) − 1 = −3.5807 %/yr; (1000 − 1200) / 5 = −40 t/yr.
    assert budget["observed_from_year"] == 2016
    assert budget["observed_rate"] == pytest.approx(-0.035807, abs=1e-6)
    assert budget["observed_annual_change"] == pytest.approx(-40.0)

    # Towards 300 t in 2030: (300 / 1000)^(1/9) − 1 = −12.5213 %/yr, (300 − 1000)/9 = −77.78.
    _target(world, target_net=300)
    budget = world.trajectory(TRAJECTORY)["budget"]
    assert budget["required_rate"] == pytest.approx(-0.125213, abs=1e-6)
    assert budget["required_annual_change"] == pytest.approx(-700 / 9)
    # Path 1100 → 300 over 13 values, mean 700: 9100.
    assert budget["target_path"] == pytest.approx(9100.0)


def test_plan_scenario_by_hand(world: CarbonWorld) -> None:
    _target(world)
    response = world.client.put(PLAN, json={"actions": ACTIONS}, headers=world.headers("cda"))
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 1
    body = world.trajectory(TRAJECTORY, scenario="plan")
    scenario = body["scenario"]
    assert (scenario["from_year"], scenario["to_year"], scenario["plan_version"]) == (
        2021,
        2030,
        1,
    )
    years = {p["year"]: p for p in scenario["series"]}
    assert sorted(years) == list(range(2021, 2031))
    # Baseline = trend: 2021: 1090 − 40 × 2.5 = 990, then −40 a year down to 630 in 2030.
    assert years[2021]["baseline"] == pytest.approx(990.0)
    assert years[2030]["baseline"] == pytest.approx(630.0)
    # chaleur-fatale: 120 t/yr reached linearly from 2022 (0) to 2025 (all): 0, 40, 80, 120.
    assert [years[y]["contributions"]["chaleur-fatale"] for y in range(2022, 2026)] == (
        pytest.approx([0.0, 40.0, 80.0, 120.0])
    )
    # renovation: half of residential in 2024 (its trend: a flat 100) = 50 t/yr, at once.
    assert years[2023]["contributions"]["renovation"] == 0.0
    assert years[2024]["contributions"]["renovation"] == pytest.approx(50.0)
    # Scenario 2024: 870 − (80 + 50) = 740; target path 2024: 1100 × 6/12 = 550; gap 190.
    assert years[2024]["net"] == pytest.approx(740.0)
    assert years[2024]["gap"] == pytest.approx(190.0)
    # 2030: 630 − 170 = 460, 460 above a target of 0.
    assert years[2030]["net"] == pytest.approx(460.0)
    assert years[2030]["gap"] == pytest.approx(460.0)
    assert scenario["neutrality_year"] is None
    # Avoided over 2021..2030: chaleur-fatale 40 + 80 + 6 × 120 = 840, renovation 7 × 50 = 350;
    # total 1190; shares 840/1190 and 350/1190; the biggest effort comes first.
    actions = scenario["actions"]
    assert [a["id"] for a in actions] == ["chaleur-fatale", "renovation"]
    assert actions[0]["avoided"] == pytest.approx(840.0)
    assert actions[0]["share"] == pytest.approx(840 / 1190, abs=1e-6)
    assert actions[1]["full_effect"] == pytest.approx(50.0)
    # Budget along the scenario: the trend's 11310 minus the 1190 avoided.
    assert body["budget"]["scenario"] == pytest.approx(10120.0)

    # Version 2 adds 700 t/yr of energy savings at once in 2026: 790 − 170 − 700 = −80 ≤ 0.
    extra = {
        "id": "reseau-chaleur",
        "title": "Réseau de chaleur",
        "sector": "energy",
        "start_year": 2026,
        "end_year": 2026,
        "effect": {"kind": "absolute", "value": 700},
        "status": "planned",
    }
    response = world.client.put(
        PLAN, json={"actions": [*ACTIONS, extra]}, headers=world.admin.headers
    )
    assert response.json()["version"] == 2
    scenario = world.trajectory(TRAJECTORY, scenario="plan")["scenario"]
    assert scenario["neutrality_year"] == 2026
    assert scenario["plan_version"] == 2
    assert len(world.client.get(PLAN, params={"version": 1}).json()["actions"]) == 2
    assert len(world.client.get(PLAN).json()["actions"]) == 3
    assert world.client.get(PLAN, params={"version": 9}).status_code == 404


def test_sector_scenario_takes_the_sector_actions(world: CarbonWorld) -> None:
    _target(world)
    world.client.put(PLAN, json={"actions": ACTIONS}, headers=world.admin.headers)
    body = world.trajectory(
        "/api/v1/sectors/residential/trajectory", territory=EPCI, scenario="plan"
    )
    # Residential alone: flat 100, so the baseline is 100; only "renovation" counts: 100 − 50.
    years = {p["year"]: p for p in body["scenario"]["series"]}
    assert years[2030]["baseline"] == pytest.approx(100.0)
    assert years[2030]["net"] == pytest.approx(50.0)
    assert set(years[2030]["contributions"]) == {"renovation"}
    # The horizon is the territory's target year; a sector trajectory has no target path.
    assert body["scenario"]["to_year"] == 2030
    assert years[2030]["gap"] is None


def test_scenario_csv_and_chart(world: CarbonWorld) -> None:
    _target(world)
    world.client.put(PLAN, json={"actions": ACTIONS}, headers=world.admin.headers)
    response = world.client.get(TRAJECTORY, params={"scenario": "plan", "format": "csv"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    found = {(r["year"], r["key"]): r["value"] for r in rows}
    assert float(found[("2024", "scenario")]) == pytest.approx(740.0)
    assert float(found[("2024", "baseline")]) == pytest.approx(870.0)
    assert float(found[("2025", "avoided:chaleur-fatale")]) == pytest.approx(120.0)
    assert float(found[("2024", "scenario_gap")]) == pytest.approx(190.0)
    svg = world.client.get(TRAJECTORY, params={"scenario": "plan", "format": "svg"})
    assert svg.status_code == 200
    assert "Scénario du plan" in svg.text


def test_plan_access_and_audit(world: CarbonWorld) -> None:
    body = {"actions": ACTIONS}
    assert world.client.put(PLAN, json=body).status_code == 401
    # A producer of another organisation (not the one whose SIREN is the EPCI's code): 403.
    assert world.client.put(PLAN, json=body, headers=world.producer.headers).status_code == 403
    assert world.client.get(PLAN).status_code == 404  # nothing stored
    assert world.client.put(PLAN, json=body, headers=world.headers("cda")).status_code == 200
    assert world.client.get(PLAN).json()["organization"] == "cda-la-rochelle"
    events = world.client.get(
        "/api/v1/audit/events", params={"action": "plan.update"}, headers=world.admin.headers
    ).json()
    items = events["data"] if isinstance(events, dict) else events
    outcomes = sorted(e["outcome"] for e in items)
    assert outcomes == ["allowed", "denied", "denied"]
    allowed = next(e for e in items if e["outcome"] == "allowed")
    assert allowed["detail"] == {"territory": EPCI, "actions": 2}
    assert allowed["version"] == 1


def _problems(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def test_plan_validation_names_action_and_field(world: CarbonWorld) -> None:
    bad = [
        {**ACTIONS[0], "sector": "shipping"},
        {**ACTIONS[1], "start_year": 2030, "end_year": 2025},
        {**ACTIONS[1], "id": "x", "effect": {"kind": "relative", "value": 1.5}},
        {**ACTIONS[0], "id": "x", "effect": {"kind": "absolute", "value": -3}},
        {**ACTIONS[0], "id": "y", "actor": "nobody"},
    ]
    errors = _problems(world.client.put(PLAN, json={"actions": bad}, headers=world.admin.headers))
    assert set(errors) == {
        "actions.0.sector",
        "actions.1.end_year",
        "actions.2.effect.value",
        "actions.3.id",
        "actions.3.effect.value",
        "actions.4.actor",
    }
    # Shape errors come from the body's schema, named the same way.
    shape = [{**ACTIONS[0], "status": "maybe"}]
    errors = _problems(world.client.put(PLAN, json={"actions": shape}, headers=world.admin.headers))
    assert "actions.0.status" in errors
    # Nothing was stored.
    assert world.client.get(PLAN).status_code == 404
    # scenario=plan without a plan is a 404; with by=gas, a 422.
    assert world.client.get(TRAJECTORY, params={"scenario": "plan"}).status_code == 404
    world.client.put(PLAN, json={"actions": ACTIONS}, headers=world.admin.headers)
    by_gas = world.client.get(TRAJECTORY, params={"scenario": "plan", "by": "ghg"})
    assert "scenario" in _problems(by_gas)


def test_target_writers_are_the_plan_writers(world: CarbonWorld) -> None:
    # A territory's target moves every caller's gap and budget: as for its plan, only an admin
    # or a producer of the organisation whose SIREN is the EPCI's code may set it.
    url = f"/api/v1/territories/{EPCI}/target"
    body = {"reference_year": 2019, "target_year": 2040, "reference_net": 1000}
    assert world.client.put(url, json=body).status_code == 401
    refused = world.client.put(url, json=body, headers=world.producer.headers)
    assert refused.status_code == 403
    assert world.client.get(url).status_code == 404  # nothing stored
    done = world.client.put(url, json=body, headers=world.headers("cda"))
    assert done.status_code == 200, done.text
    assert world.client.get(url).json()["target_year"] == 2040
    events = world.client.get(
        "/api/v1/audit/events", params={"action": "target.update"}, headers=world.admin.headers
    ).json()
    items = events["data"] if isinstance(events, dict) else events
    assert sorted(e["outcome"] for e in items) == ["allowed", "denied", "denied"]
    allowed = next(e for e in items if e["outcome"] == "allowed")
    assert allowed["detail"]["territory"] == EPCI
    assert allowed["detail"]["target_year"] == 2040
