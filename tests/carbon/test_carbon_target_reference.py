"""A target keeps its reference figure: every caller is shown the same target path, even when a
cell of the reference year is withheld from some of them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.carbon.carbon_world import EPCI, LA_ROCHELLE, CarbonWorld, build_carbon_world, year
from tests.conftest import Persona

TARGET = f"/api/v1/territories/{EPCI}/target"
TRAJECTORY = f"/api/v1/territories/{EPCI}/trajectory"


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> CarbonWorld:
    world = build_carbon_world(client, make_user, admin)
    # Open inventory: residential 600, 500, 400 t in 2018-2020.
    world.dataset(
        "emissions",
        "year,territory,sector,value,unit\n"
        f"2018,{LA_ROCHELLE},residential,600,tCO2e\n"
        f"2019,{LA_ROCHELLE},residential,500,tCO2e\n"
        f"2020,{LA_ROCHELLE},residential,400,tCO2e\n",
    )
    # Industry's 300 t in 2019 under the shared charter: one source (fewer than 3 actors), so
    # the public is not shown the cell (statistical secrecy); the producer sees 800.
    world.dataset(
        "emissions",
        f"year,territory,sector,value,unit\n2019,{LA_ROCHELLE},industry,300,tCO2e\n",
        licence="shared-charter-1.0",
    )
    return world


def _path(body: dict[str, object]) -> dict[int, float]:
    target = body["target"]
    assert isinstance(target, dict)
    return {p["year"]: p["net"] for p in target["path"]}


def test_a_withheld_reference_year_needs_the_published_figure(world: CarbonWorld) -> None:
    public = world.trajectory(TRAJECTORY)
    assert {"year": 2019, "key": "industry", "reason": "secrecy"} in public["withheld"]
    assert year(public, 2019)["net"] is None  # the total would tell industry's 300
    refused = world.client.put(
        TARGET, json={"reference_year": 2019, "target_year": 2030}, headers=world.admin.headers
    )
    # Storing the producer's 800 would publish it: the figure must be given, knowingly.
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "reference_net"


def test_every_caller_gets_the_path_from_the_stored_figure(world: CarbonWorld) -> None:
    # The PCAET publishes 800 t for 2019 (500 + 300): the admin stores it with the target.
    put = world.client.put(
        TARGET,
        json={"reference_year": 2019, "target_year": 2030, "reference_net": 800},
        headers=world.admin.headers,
    )
    assert put.status_code == 200, put.text
    assert put.json()["reference_net"] == 800
    anonymous = world.trajectory(TRAJECTORY)
    producer = world.trajectory(TRAJECTORY, "producer")
    assert year(producer, 2019)["net"] == 800  # the producer sees industry...
    assert year(anonymous, 2019)["net"] is None  # ...the public does not
    # Linear from 800 (2019) to 0 (2030): 800/11 t less each year; 2025 = 800 × 5/11.
    assert _path(anonymous) == _path(producer)
    assert _path(anonymous)[2019] == 800
    gaps = {g["year"]: g["value"] for g in producer["gap"]}
    # 2019: 800 − 800; 2020: 400 − (800 − 800/11).
    assert gaps[2019] == 0
    assert gaps[2020] == pytest.approx(400 - (800 - 800 / 11), abs=0.01)
    assert _path(anonymous)[2025] == pytest.approx(800 * 5 / 11, abs=0.01)
    assert _path(anonymous)[2030] == 0
    assert anonymous["target"]["reference_net"] == producer["target"]["reference_net"] == 800


def test_without_a_figure_the_published_net_is_stored_then(world: CarbonWorld) -> None:
    put = world.client.put(
        TARGET, json={"reference_year": 2018, "target_year": 2030}, headers=world.admin.headers
    )
    assert put.status_code == 200, put.text
    assert put.json()["reference_net"] == 600  # 2018: the open inventory alone
    # New data for 2018 arrives later: the target keeps the figure it was set from.
    world.dataset("emissions", f"year,territory,sector,value,unit\n2018,{LA_ROCHELLE},waste,50,t\n")
    anonymous = world.trajectory(TRAJECTORY)
    assert year(anonymous, 2018)["net"] == 650
    # Linear from 600 (2018) to 0 (2030): 50 t less each year, so 2024 = 300.
    assert _path(anonymous)[2024] == pytest.approx(300)
    assert _path(anonymous) == _path(world.trajectory(TRAJECTORY, "producer"))
