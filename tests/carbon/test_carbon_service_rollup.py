"""Roll-up, basis, GWP and activity × factor, through the HTTP API (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from unittest.mock import ANY

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from datahub.carbon.repository import FACT_TABLES
from datahub.db.models import DatasetVersion
from datahub.runtime import Runtime
from tests.carbon.carbon_world import (
    AYTRE,
    DEPT,
    EPCI,
    LA_ROCHELLE,
    PERIGNY,
    CarbonWorld,
    build_carbon_world,
    year,
)
from tests.conftest import Persona


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> CarbonWorld:
    return build_carbon_world(client, make_user, admin)


INVENTORY = """year;territory;sector;actor;ghg;value;unit
2019;commune:17300;residential;;;1200;tCO2e
2019;commune:17300;road_transport;;;2,5;ktCO2e
2019;commune:17028;residential;;;300;tCO2e
2019;commune:17274;industry;;;800000;kgCO2e
2019;epci:241700434;waste;;;40;tCO2e
2020;commune:17300;residential;;;1100;tCO2e
2020;commune:17028;industry;acteur-usine;;900;tCO2e
"""


def test_communes_roll_up_into_epci_and_departement(world: CarbonWorld) -> None:
    world.actor("acteur-usine", AYTRE)
    dataset_id, _ = world.dataset("emissions", INVENTORY)

    body = world.trajectory(f"/api/v1/territories/{EPCI}/trajectory")
    # 2019 inventory rows (no actor): La Rochelle 1200 + 2500 (2.5 kt), Aytré 300, Périgny
    # 800 (800 000 kg), plus 40 recorded at the EPCI itself = 4840 tCO2e.
    y2019 = year(body, 2019)
    assert y2019["emissions"] == pytest.approx(4840.0)
    assert y2019["breakdown"] == pytest.approx(
        {"residential": 1500.0, "road_transport": 2500.0, "industry": 800.0, "waste": 40.0}
    )
    assert y2019["sequestration"] == 0.0
    assert y2019["net"] == pytest.approx(4840.0)
    # 2020: only La Rochelle's 1100 (the actor's 900 is not inventory).
    assert year(body, 2020)["emissions"] == pytest.approx(1100.0)
    assert body["scope"] == {
        "territory": EPCI,
        "sector": None,
        "actor": None,
        "basis": "inventory",
        "approach": "territorial",
        "gwp": "ar5",
        "by": "sector",
        "climate_corrected": False,
    }
    assert body["sources"][0]["dataset"] == dataset_id
    assert body["sources"][0]["use"] == "full"
    assert body["sources"][0]["licence"] == "etalab-2.0"

    # The département holds the same communes (and the EPCI): same 4840.
    dept = world.trajectory(f"/api/v1/territories/{DEPT}/trajectory")
    assert year(dept, 2019)["emissions"] == pytest.approx(4840.0)
    # One commune alone: La Rochelle 1200 + 2500.
    commune = world.trajectory(f"/api/v1/territories/{LA_ROCHELLE}/trajectory")
    assert year(commune, 2019)["emissions"] == pytest.approx(3700.0)
    perigny = world.trajectory(f"/api/v1/territories/{PERIGNY}/trajectory", by="none")
    assert year(perigny, 2019)["breakdown"] == {"total": pytest.approx(800.0)}


def test_inventory_and_actors_bases_are_never_added(world: CarbonWorld) -> None:
    world.actor("acteur-usine", AYTRE)
    world.dataset("emissions", INVENTORY)
    inventory = world.trajectory(f"/api/v1/territories/{AYTRE}/trajectory")
    actors = world.trajectory(f"/api/v1/territories/{AYTRE}/trajectory", basis="actors")
    # Aytré: inventory has 300 (2019) and nothing in 2020; the actors basis has only the
    # factory's 900 in 2020. Neither contains the other.
    assert [(p["year"], p["emissions"]) for p in inventory["series"]] == [(2019, 300.0)]
    assert [(p["year"], p["emissions"]) for p in actors["series"]] == [(2020, 900.0)]
    assert actors["scope"]["basis"] == "actors"
    # The EPCI's actors basis rolls the factory up from its location.
    epci = world.trajectory(f"/api/v1/territories/{EPCI}/trajectory", basis="actors")
    assert [(p["year"], p["emissions"]) for p in epci["series"]] == [(2020, 900.0)]
    # The actor's own trajectory: the rows naming it.
    actor = world.trajectory("/api/v1/actors/acteur-usine/trajectory")
    assert [(p["year"], p["emissions"]) for p in actor["series"]] == [(2020, 900.0)]
    assert actor["scope"]["actor"] == "acteur-usine"
    assert actor["scope"]["basis"] is None


def test_gwp_set_is_chosen_per_request(world: CarbonWorld) -> None:
    world.dataset(
        "emissions",
        "year,territory,sector,ghg,value,unit\n"
        "2019,commune:17300,agriculture,CH4,10,tCH4\n"
        "2019,commune:17300,waste,CH4b,2,tCH4\n"
        "2019,commune:17300,agriculture,N2O,1,tN2O\n",
    )
    path = f"/api/v1/territories/{LA_ROCHELLE}/trajectory"
    # 10 tCH4 (fossil by default) + 2 tCH4 biogenic + 1 tN2O:
    # AR4: 10×25 + 2×25 + 298 = 598; AR5: 10×28 + 2×28 + 265 = 601;
    # AR6: 10×29.8 + 2×27.0 + 273 = 625.
    expected = {"ar4": (548.0, 50.0), "ar5": (545.0, 56.0), "ar6": (571.0, 54.0)}
    for gwp, (agriculture, waste) in expected.items():
        body = world.trajectory(path, gwp=gwp)
        assert body["scope"]["gwp"] == gwp
        point = year(body, 2019)
        assert point["breakdown"]["agriculture"] == pytest.approx(agriculture)
        assert point["breakdown"]["waste"] == pytest.approx(waste)
    by_gas = world.trajectory(path, gwp="ar6", by="ghg")
    assert year(by_gas, 2019)["breakdown"] == pytest.approx(
        {"CH4": 298.0, "CH4_non_fossil": 54.0, "N2O": 273.0}
    )
    assert year(world.trajectory(path), 2019)["emissions"] == pytest.approx(601.0)


def test_a_gas_mass_contradicting_its_ghg_is_refused_at_upload(world: CarbonWorld) -> None:
    _, problem = world.dataset(
        "emissions",
        "year,territory,sector,ghg,value,unit\n"
        "2019,commune:17300,agriculture,CO2e,1,tCO2e\n"
        "2019,commune:17300,agriculture,N2O,10,tCH4\n",
        expect=422,
    )
    assert problem["errors"][0]["row"] == 2
    assert problem["errors"][0]["field"] == "ghg"


FACTORS = """id;label;unit;value;source
elec;Électricité réseau;kWh;0,052;Base Carbone
gaz;Gaz naturel;kWh PCI;0,227;Base Carbone
chaleur;Réseau de chaleur urbain;kWh PCI;0,1;Base Carbone
"""


def test_activity_times_factor_with_pcs_to_pci(world: CarbonWorld) -> None:
    world.dataset("emission_factors", FACTORS)
    world.dataset(
        "activity",
        "year;territory;sector;quantity;unit;factor\n"
        "2019;commune:17300;tertiary;1000000;kWh;elec\n"
        "2019;commune:17028;residential;1110;MWh PCS;gaz\n",
    )
    body = world.trajectory(f"/api/v1/territories/{EPCI}/trajectory")
    # 1 000 000 kWh × 0.052 kgCO2e/kWh = 52 t; 1110 MWh PCS / 1.11 (natural gas PCS/PCI)
    # = 1000 MWh PCI × 0.227 kgCO2e/kWh = 227 t.
    assert year(body, 2019)["breakdown"] == pytest.approx({"tertiary": 52.0, "residential": 227.0})
    assert {s["dataset"].split("-")[0] for s in body["sources"]} == {"emission", "activity"}


def test_activity_unit_mismatch_is_a_422_naming_the_row(world: CarbonWorld) -> None:
    world.dataset("emission_factors", FACTORS)
    # At ingest: a district-heating factor names no fuel, so kWh PCS cannot become PCI (row 2),
    # and litres cannot meet a per-kWh factor.
    _, problem = world.dataset(
        "activity",
        "year;territory;sector;quantity;unit;factor\n"
        "2019;commune:17300;tertiary;10;kWh;elec\n"
        "2019;commune:17300;tertiary;10;kWh PCS;chaleur\n",
        expect=422,
    )
    assert problem["errors"][0]["row"] == 2
    assert problem["errors"][0]["field"] == "unit"
    assert "PCS" in problem["detail"]

    # At ingest too: a factor unknown among the producer's own and the reference factors.
    rows = (
        "year;territory;sector;quantity;unit;factor\n"
        "2019;commune:17300;tertiary;10;kWh;elec\n"
        "2019;commune:17300;road_transport;500;L;gazole\n"
    )
    _, problem = world.dataset("activity", rows, expect=422)
    assert problem["errors"][0] == {"row": 2, "field": "factor", "message": ANY}
    assert "gazole" in problem["detail"]

    # At query time: the factor table changed after the upload, and its unit no longer matches.
    factors_id, _ = world.dataset(
        "emission_factors", "id;label;unit;value;source\ngazole;Gazole;L;2,5;x\n"
    )
    activity_id, _ = world.dataset("activity", rows)
    world.upload(factors_id, "id;label;unit;value;source\ngazole;Gazole;kWh;3,17;x\n")
    response = world.client.get(f"/api/v1/territories/{EPCI}/trajectory")
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["errors"][0]["row"] == 2
    assert activity_id in problem["detail"]


def test_deleting_a_dataset_deletes_its_facts(world: CarbonWorld, runtime: Runtime) -> None:
    """Facts carry no foreign key to their version: the deletion hook must remove them."""
    world.actor("acteur-usine", AYTRE)
    dataset_id, first = world.dataset("emissions", INVENTORY)
    second = world.upload(dataset_id, INVENTORY.replace("1100", "1000"))

    def facts_of(version_id: int) -> int:
        with runtime.transaction() as session:
            return sum(
                session.scalar(
                    select(func.count()).select_from(table).where(table.version_id == version_id)
                )
                or 0
                for table in FACT_TABLES
            )

    ids = {first["number"]: 0, second["number"]: 0}
    with runtime.transaction() as session:
        for number in ids:
            ids[number] = session.scalars(
                select(DatasetVersion.id).where(
                    DatasetVersion.dataset_id == dataset_id, DatasetVersion.number == number
                )
            ).one()
    old, current = ids[first["number"]], ids[second["number"]]
    # The new version replaced the old one's facts: 7 own rows, each rolled up (edges, scopes).
    assert facts_of(old) == 0
    assert facts_of(current) > 7
    deleted = world.client.delete(f"/api/v1/datasets/{dataset_id}", headers=world.producer.headers)
    assert deleted.status_code == 204
    assert facts_of(current) == 0
