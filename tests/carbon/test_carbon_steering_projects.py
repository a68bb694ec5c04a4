"""Sequestration projects (contract §8): removals from their start year, counted once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.carbon.carbon_world import EPCI, CarbonWorld, build_carbon_world, year
from tests.conftest import Persona


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> CarbonWorld:
    return build_carbon_world(client, make_user, admin)


def test_projects_count_from_their_start_year_once(world: CarbonWorld) -> None:
    world.dataset(
        "emissions",
        "year,territory,sector,value,unit\n"
        "2019,commune:17300,residential,1000,tCO2e\n"
        "2020,commune:17300,residential,1000,tCO2e\n"
        "2021,commune:17300,residential,1000,tCO2e\n",
    )
    # The survey: 100 ha of forest at La Rochelle in 2019, 103 ha in 2021 (the mini-forest's
    # 6 ha planted in 2020 are in it by then). In 2020, 4 ha of cropland became forest there.
    world.dataset(
        "land_use",
        "year,territory,land_use,area_ha\n"
        "2019,commune:17300,forest,100\n"
        "2021,commune:17300,forest,103\n",
    )
    world.dataset(
        "land_use_change",
        "year,territory,from_land_use,to_land_use,area_ha\n2020,commune:17300,cropland,forest,4\n",
    )
    world.dataset(
        "sequestration_factors",
        "land_use,from_land_use,to_land_use,territory,value,unit\n"
        f"forest,,,{EPCI},5,tCO2e/ha/yr\n"
        "hedges,,,,2,tCO2e/ha/yr\n"
        ",cropland,forest,,3,tCO2e/ha\n",
    )
    world.dataset(
        "sequestration_project",
        "id,name,territory,land_use,area_ha,start_year\n"
        "p1,Mini-forêt du port,commune:17300,forest,6,2020\n"
        "p2,Haies d'Aytré,commune:17028,hedges,10,2021\n"
        "p3,Forêt de Périgny,commune:17274,forest,2,2030\n",
    )
    body = world.trajectory(f"/api/v1/territories/{EPCI}/trajectory")
    # 2019: the survey alone, 100 ha × 5 = 500 (no project has started).
    assert year(body, 2019)["sequestration"] == pytest.approx(500.0)
    # 2020: no survey that year; the change 4 ha × 3 tCO2e/ha = 12 emitted; the mini-forest
    # removes 6 × 5 = 30 from its start year; its first 4 ha are that very conversion, so the
    # change is carved out (+12): −12 + 30 + 12 = 30.
    assert year(body, 2020)["sequestration"] == pytest.approx(30.0)
    # 2021: survey 103 × 5 = 515 already holds the mini-forest's 6 ha: it adds
    # (6 − min(6, 103)) × 5 = 0; the hedges add 10 × 2 = 20 (the default factor): 535, not
    # 515 + 30 + 20 = 565. Périgny's forest starts in 2030: nothing yet.
    assert year(body, 2021)["sequestration"] == pytest.approx(535.0)
    assert year(body, 2021)["net"] == pytest.approx(1000 - 535.0)
    project_sources = [s for s in body["sources"] if s["dataset"].startswith("sequestration-p")]
    assert len(project_sources) == 1


def test_project_rows_are_validated(world: CarbonWorld) -> None:
    body = world.dataset(
        "sequestration_project",
        "id,territory,land_use,area_ha,start_year\n"
        "p1,commune:17300,jungle,6,2020\n"
        "p2,commune:17300,forest,-1,2020\n",
        expect=422,
    )[1]
    assert {(e["row"], e["field"]) for e in body["errors"]} == {(1, "land_use"), (2, "area_ha")}
