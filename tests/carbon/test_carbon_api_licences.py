"""Licences flow into trajectories: full use, secrecy-safe aggregates, no leak, audit."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.carbon.carbon_world import EPCI, LA_ROCHELLE, CarbonWorld, build_carbon_world, year
from tests.conftest import Persona


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> CarbonWorld:
    built = build_carbon_world(client, make_user, admin)
    for actor in ("A1", "A2", "B1", "B2", "B3", "C1", "C2", "C3", "D1", "D2", "D3"):
        built.actor(f"actor-{actor}", LA_ROCHELLE)
    return built


# Per-actor emissions (tCO2e) under restricted-stat-1.0 (aggregates may be published):
# 2019: industry {A1 117, A2 53} — two actors: withheld (secrecy);
#       waste {C1 41, C2 31, C3 29} = 101 — passes; tertiary {D1 21, D2 19, D3 23} = 63 — passes.
#       The withheld group {A1, A2} fails alone, so the smallest shown cell (tertiary, 63) is
#       withheld too (complementary): {A1, A2, D1, D2, D3} = 233, largest 117/233 = 50 % passes.
#       The total 117 + 53 + 101 + 63 = 334 is shown, breakdown only waste 101.
# 2020: energy {B1 907, B2 47, B3 46} = 1000, B1 = 90.7 % > 85 %: withheld (secrecy);
#       waste {C1 41, C2 31, C3 29} = 101 passes and is the only other cell: withholding it
#       or the total costs one figure either way, and minimal loss (contract §5b) keeps the
#       passing cell: waste 101 is shown, the total (1101) and the net are withheld.
PER_ACTOR = """year;territory;sector;actor;value;unit
2019;commune:17300;industry;actor-A1;117;tCO2e
2019;commune:17300;industry;actor-A2;53;tCO2e
2019;commune:17300;waste;actor-C1;41;tCO2e
2019;commune:17300;waste;actor-C2;31;tCO2e
2019;commune:17300;waste;actor-C3;29;tCO2e
2019;commune:17300;tertiary;actor-D1;21;tCO2e
2019;commune:17300;tertiary;actor-D2;19;tCO2e
2019;commune:17300;tertiary;actor-D3;23;tCO2e
2020;commune:17300;energy;actor-B1;907;tCO2e
2020;commune:17300;energy;actor-B2;47;tCO2e
2020;commune:17300;energy;actor-B3;46;tCO2e
2020;commune:17300;waste;actor-C1;41;tCO2e
2020;commune:17300;waste;actor-C2;31;tCO2e
2020;commune:17300;waste;actor-C3;29;tCO2e
"""
SINGLE_FIGURES = {117.0, 53.0, 907.0, 47.0, 46.0, 21.0, 19.0, 23.0, 41.0, 31.0, 29.0}


def numbers(text: str) -> set[float]:
    return {float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", text)}


def test_restricted_stat_contributes_only_through_cells_passing_secrecy(
    world: CarbonWorld,
) -> None:
    dataset_id, _ = world.dataset("emissions", PER_ACTOR, licence="restricted-stat-1.0")
    path = f"/api/v1/territories/{EPCI}/trajectory"
    response = world.client.get(path, params={"basis": "actors"})
    assert response.status_code == 200
    body = response.json()
    y2019, y2020 = year(body, 2019), year(body, 2020)
    assert y2019["breakdown"] == {"waste": 101.0}
    assert y2019["emissions"] == 334.0
    assert y2020["breakdown"] == {"waste": 101.0}
    assert y2020["emissions"] is None
    assert y2020["net"] is None
    assert body["withheld"] == [
        {"year": 2019, "key": "industry", "reason": "secrecy"},
        {"year": 2019, "key": "tertiary", "reason": "complementary"},
        {"year": 2020, "key": "energy", "reason": "secrecy"},
        {"year": 2020, "key": None, "reason": "complementary"},
    ]
    # No single actor's figure, nor a withheld cell (170, 63, 1000), appears anywhere.
    text = response.text
    assert numbers(text) & {*SINGLE_FIGURES, 170.0, 63.0, 1000.0, 1101.0} == set()
    # Anonymous callers may not know the restricted dataset exists: listed without its id.
    assert dataset_id not in text
    assert body["sources"] == [
        {
            "dataset": None,
            "version": None,
            "licence": "restricted-stat-1.0",
            "licence_url": body["sources"][0]["licence_url"],
            "attribution": body["sources"][0]["attribution"],
            "use": "aggregate",
        }
    ]
    # A sector trajectory with one withheld cell has no partner: its total is withheld too.
    industry = world.trajectory(
        "/api/v1/sectors/industry/trajectory", territory=EPCI, basis="actors"
    )
    assert year(industry, 2019)["emissions"] is None
    assert year(industry, 2019)["net"] is None
    assert {"year": 2019, "key": None, "reason": "complementary"} in industry["withheld"]
    # The waste sector passes on its own in 2020 and is shown, as in the territory's table;
    # the energy sector is withheld, and so is 2020's total, so 1000 never appears.
    waste = world.trajectory("/api/v1/sectors/waste/trajectory", territory=EPCI, basis="actors")
    assert year(waste, 2019)["emissions"] == 101.0
    assert year(waste, 2020)["emissions"] == 101.0
    energy = world.trajectory("/api/v1/sectors/energy/trajectory", territory=EPCI, basis="actors")
    assert year(energy, 2020)["emissions"] is None
    # The actor's own trajectory is a single actor: always withheld.
    # One actor's view of aggregate-only data would be all withheld cells, which would still
    # tell that the actor has confidential figures and when: the dataset is left out entirely.
    actor = world.trajectory("/api/v1/actors/actor-B1/trajectory")
    assert actor["series"] == []
    assert actor["withheld"] == []
    assert actor["sources"] == []
    assert 907.0 not in numbers(str(actor))

    # The producer reads the dataset: used in full, every cell shown, dataset named.
    full = world.trajectory(path, "producer", basis="actors")
    assert year(full, 2019)["breakdown"] == {"industry": 170.0, "tertiary": 63.0, "waste": 101.0}
    assert full["withheld"] == []
    assert full["sources"][0]["dataset"] == dataset_id
    assert full["sources"][0]["use"] == "full"


def test_restricted_without_aggregates_is_not_used_nor_listed(world: CarbonWorld) -> None:
    open_id, _ = world.dataset(
        "emissions", "year;territory;sector;value;unit\n2019;commune:17300;waste;10;tCO2e\n"
    )
    secret_id, _ = world.dataset(
        "emissions",
        "year;territory;sector;value;unit\n2019;commune:17300;industry;5000;tCO2e\n",
        licence="restricted-1.0",
    )
    path = f"/api/v1/territories/{EPCI}/trajectory"
    for who in ("anonymous", "outsider", "member"):
        body = world.trajectory(path, who)
        assert year(body, 2019)["emissions"] == 10.0, who
        assert [s["dataset"] for s in body["sources"]] == [open_id], who
        assert body["withheld"] == []
    anonymous = world.client.get(path)
    assert secret_id not in anonymous.text
    assert "5000" not in anonymous.text
    producer = world.trajectory(path, "producer")
    assert year(producer, 2019)["emissions"] == 5010.0
    assert {s["dataset"] for s in producer["sources"]} == {open_id, secret_id}


def test_shared_and_restricted_uses_are_audited(world: CarbonWorld) -> None:
    shared_id, _ = world.dataset(
        "emissions",
        "year;territory;sector;value;unit\n2019;commune:17300;waste;10;tCO2e\n",
        licence="shared-charter-1.0",
    )
    stat_id, _ = world.dataset("emissions", PER_ACTOR, licence="restricted-stat-1.0")
    open_id, _ = world.dataset(
        "emissions", "year;territory;sector;value;unit\n2019;commune:17300;waste;1;tCO2e\n"
    )
    path = f"/api/v1/territories/{EPCI}/trajectory"
    world.trajectory(path, "member")  # shared: full (member); restricted-stat: not actors basis
    world.trajectory(path, "anonymous", basis="actors")  # restricted-stat in aggregate
    world.trajectory(path, "producer", basis="actors")  # restricted-stat in full (producer)
    events = world.client.get(
        "/api/v1/audit/events",
        params={"action": "dataset.trajectory_use"},
        headers=world.admin.headers,
    ).json()["data"]
    used = [(e["dataset_id"], e["basis"]) for e in events]
    assert used == [(shared_id, "member"), (stat_id, "aggregate"), (stat_id, "producer")]
    assert open_id not in {e["dataset_id"] for e in events}
