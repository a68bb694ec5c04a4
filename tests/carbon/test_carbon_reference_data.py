"""Reference data is not anyone's to change (contract §5b): the "anyone's factors" attacks.

Producer A ("agence-climat", the world's producer) publishes activity, land use and emissions;
the instance's reference is published by "ademe" and designated by the admin; producer B
("bureau-b") publishes tables with the same factor ids, land uses and HDD years. B never moves
A's figures nor makes them a 422, until an admin designates B's table (audited).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from datahub.db.models import AuditEvent
from datahub.runtime import Runtime
from tests.carbon.carbon_world import EPCI, LA_ROCHELLE, CarbonWorld, build_carbon_world, year
from tests.conftest import Persona

TRAJECTORY = f"/api/v1/territories/{EPCI}/trajectory"


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> CarbonWorld:
    return build_carbon_world(client, make_user, admin)


@pytest.fixture
def ademe(world: CarbonWorld, make_user: Callable[..., Persona]) -> CarbonWorld:
    return replace(world, producer=make_user("producer", "ademe", member=True))


@pytest.fixture
def rival(world: CarbonWorld, make_user: Callable[..., Persona]) -> CarbonWorld:
    return replace(world, producer=make_user("producer", "bureau-b", member=True))


def designate(world: CarbonWorld, kind: str, *ids: str, who: str = "admin") -> Any:
    return world.client.put(f"/api/v1/reference/{kind}", json=list(ids), headers=world.headers(who))


def factors(value: str, unit: str = "kWh") -> str:
    return f"id;label;unit;value;source\nelec;Électricité réseau;{unit};{value};test\n"


ACTIVITY = (
    "year;territory;sector;quantity;unit;factor\n2019;commune:17300;tertiary;1000000;kWh;elec\n"
)


def tertiary(world: CarbonWorld) -> float:
    return float(year(world.trajectory(TRAJECTORY), 2019)["breakdown"]["tertiary"])


def test_another_producers_emission_factors_never_apply(
    world: CarbonWorld, ademe: CarbonWorld, rival: CarbonWorld, runtime: Runtime
) -> None:
    reference, _ = ademe.dataset("emission_factors", factors("0,052"))
    assert designate(world, "emission_factors", reference).status_code == 200
    world.dataset("activity", ACTIVITY)
    # 1 000 000 kWh × 0.052 kgCO2e/kWh = 52 t.
    assert tertiary(world) == pytest.approx(52.0)

    # B's table is the most recently updated and names the same factor: 100× the value, then a
    # unit that cannot meet kWh (a 422 for every trajectory using it, were it applied).
    b_table, _ = rival.dataset("emission_factors", factors("5,2"))
    assert tertiary(world) == pytest.approx(52.0)
    rival.dataset("emission_factors", factors("3", unit="L"))
    assert tertiary(world) == pytest.approx(52.0)

    # The admin designates B's first table instead: 1 000 000 kWh × 5.2 kg/kWh = 5 200 t.
    response = designate(world, "emission_factors", b_table)
    assert response.status_code == 200, response.text
    assert world.client.get("/api/v1/reference/emission_factors").json() == {
        "kind": "emission_factors",
        "datasets": [b_table],
    }
    assert tertiary(world) == pytest.approx(5200.0)
    with runtime.transaction() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "reference.update")
        ).all()
        assert [e.detail["after"] for e in events] == [[reference], [b_table]]
        assert events[-1].detail["before"] == [reference]


def test_a_producers_own_factors_apply_to_its_own_data_only(
    world: CarbonWorld, rival: CarbonWorld
) -> None:
    world.dataset("emission_factors", factors("0,052"))
    world.dataset("activity", ACTIVITY)
    rival.dataset("emission_factors", factors("5,2"))
    rival.dataset("activity", ACTIVITY)
    # A: 1e6 kWh × 0.052 = 52 t; B: 1e6 kWh × 5.2 = 5 200 t, each with its own table.
    assert tertiary(world) == pytest.approx(52.0 + 5200.0)


def test_another_producers_hdd_and_sequestration_factors_never_apply(
    world: CarbonWorld, ademe: CarbonWorld, rival: CarbonWorld
) -> None:
    hdd = "year;territory;hdd\n" + "".join(
        f"{y};{EPCI};{2500 if y < 2019 else 2000}\n" for y in range(2015, 2020)
    )
    climate, _ = ademe.dataset("climate", hdd)
    seq, _ = ademe.dataset(
        "sequestration_factors",
        "land_use,from_land_use,to_land_use,territory,value,unit\nforest,,,,5,tCO2e/ha/yr\n",
    )
    assert designate(world, "climate", climate).status_code == 200
    assert designate(world, "sequestration_factors", seq).status_code == 200
    world.dataset(
        "emissions",
        "year;territory;sector;actor;ghg;value;unit\n2019;commune:17300;residential;;;100;tCO2e\n",
    )
    world.dataset("land_use", "year,territory,land_use,area_ha\n2019,commune:17300,forest,100\n")

    def figures() -> tuple[float, float]:
        point = year(world.trajectory(TRAJECTORY, climate_corrected="true"), 2019)
        return point["breakdown"]["residential"], point["sequestration"]

    # HDD_ref = mean(2500 × 4, 2000) = 2400 over 2015–2019; 2019 has 2000: residential
    # 100 × (1 − 0.7 + 0.7 × 2400 / 2000) = 114. Sequestration 100 ha × 5 t/ha/yr = 500 t.
    expected = (100 * (1 - 0.7 + 0.7 * 2400 / 2000), 500.0)
    assert figures() == pytest.approx(expected)
    rival.dataset("climate", f"year;territory;hdd\n2019;{EPCI};100\n")
    rival.dataset(
        "sequestration_factors",
        "land_use,from_land_use,to_land_use,territory,value,unit\n"
        "forest,,,commune:17300,900,tCO2e/ha/yr\n",
    )
    assert figures() == pytest.approx(expected)


def test_without_reference_another_producers_hdd_is_not_used(
    world: CarbonWorld, rival: CarbonWorld
) -> None:
    rival.dataset("climate", f"year;territory;hdd\n2019;{EPCI};2000\n")
    world.dataset(
        "emissions",
        "year;territory;sector;actor;ghg;value;unit\n2019;commune:17300;residential;;;100;tCO2e\n",
    )
    response = world.client.get(TRAJECTORY, params={"climate_corrected": "true"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "climate_corrected"


def test_designations_are_an_admins_and_name_datasets_of_the_kind(
    world: CarbonWorld, ademe: CarbonWorld
) -> None:
    table, _ = ademe.dataset("emission_factors", factors("0,052"))
    assert designate(world, "emission_factors", table, who="producer").status_code == 403
    assert designate(world, "emission_factors", table, who="anonymous").status_code == 401
    wrong = designate(world, "climate", table)
    assert wrong.status_code == 422
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert wrong.json()["errors"][0] == {
        "row": 1,
        "field": "datasets",
        "message": f"{table!r} is not a dataset of kind 'climate'",
    }
    assert designate(world, "emission_factors", "no-such-dataset").status_code == 422
    assert world.client.get("/api/v1/reference/emission_factors").json()["datasets"] == []
    assert world.client.get("/api/v1/reference/land_use").status_code == 404


def test_upload_checks_factors_within_the_producers_scope(
    world: CarbonWorld, ademe: CarbonWorld, rival: CarbonWorld
) -> None:
    reference, _ = ademe.dataset("emission_factors", factors("0,052"))
    assert designate(world, "emission_factors", reference).status_code == 200
    # B's "elec" in litres would refuse A's kWh rows at upload, were it in A's scope.
    rival.dataset(
        "emission_factors",
        factors("3", unit="L") + "fioul;Fioul domestique;L;3,2;test\n",
    )
    world.dataset("activity", ACTIVITY)
    # A factor that only B publishes is unknown to A: a 422 naming the row and the field.
    _, problem = world.dataset(
        "activity",
        ACTIVITY + "2019;commune:17300;residential;100;L;fioul\n",
        expect=422,
    )
    assert problem["errors"][0]["row"] == 2
    assert problem["errors"][0]["field"] == "factor"
    assert "fioul" in problem["detail"]
    assert tertiary(world) == pytest.approx(52.0)


def test_a_new_designation_reaches_memoised_secrecy_decisions(
    world: CarbonWorld, ademe: CarbonWorld, rival: CarbonWorld
) -> None:
    reference, _ = ademe.dataset(
        "emission_factors", factors("0,052") + "gaz;Gaz naturel;kWh PCI;0,227;test\n"
    )
    b_table, _ = rival.dataset("emission_factors", factors("52") + "gaz;Gaz;kWh PCI;0,227;t\n")
    assert designate(world, "emission_factors", reference).status_code == 200
    for actor in ("X1", "X2", "X3"):
        world.actor(actor, LA_ROCHELLE, "tertiary")
    world.dataset(
        "activity",
        "year;territory;sector;actor;quantity;unit;factor\n"
        "2019;commune:17300;tertiary;X1;1000000;kWh;elec\n"
        "2019;commune:17300;tertiary;X2;1000000;kWh PCI;gaz\n"
        "2019;commune:17300;tertiary;X3;1000000;kWh PCI;gaz\n",
        licence="restricted-stat-1.0",
    )
    # Reference: 52 + 227 + 227 = 506 t, the largest actor 227 / 506 = 45 % < 85 %: shown.
    body = world.trajectory(TRAJECTORY, basis="actors")
    assert year(body, 2019)["breakdown"] == pytest.approx({"tertiary": 506.0})
    # B's table as reference: X1 has 52 000 t of 52 454 (99 %): the cell is withheld, although
    # the data versions (what the decisions are memoised on) did not change.
    assert designate(world, "emission_factors", b_table).status_code == 200
    body = world.trajectory(TRAJECTORY, basis="actors")
    assert "tertiary" not in year(body, 2019)["breakdown"]
    assert {"year": 2019, "key": "tertiary", "reason": "secrecy"} in body["withheld"]
