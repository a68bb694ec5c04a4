"""Secrecy across territories, through the HTTP API: an anonymous caller cannot get a withheld
commune back by subtracting its visible siblings from their EPCI (contract §5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from datahub.carbon.secrecy import failure
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

COMMUNES = (LA_ROCHELLE, AYTRE, PERIGNY)

# Per-actor industry emissions (tCO2e), restricted-stat-1.0, basis=actors:
#
# 2019  La Rochelle {L1 50, L2 40, L3 30} = 120   passes
#       Aytré       {A1 70, A2 20}        =  90   2 actors: withheld (secrecy)
#       Périgny     {P1 25, P2 20, P3 15} =  60   passes
#       EPCI = 270 (8 actors, largest 26 %) passes and is shown. Shown with La Rochelle and
#       Périgny it would give Aytré back (270 − 120 − 60 = 90), so the smallest shown sibling,
#       Périgny (60 < 120), is withheld too (complementary): EPCI − La Rochelle = 150 =
#       Aytré + Périgny, 5 actors, largest A1 70/150 = 47 %: passes. Each commune's table has
#       one sector, so Aytré's and Périgny's totals are withheld with it.
#
# 2020  La Rochelle {L1 50, L2 40, L3 30} = 120   passes
#       Aytré       {A1 300, A2 10}       = 310   2 actors: withheld (secrecy)
#       Périgny     {P1 10, P2 10, P3 10} =  30   passes
#       Aytré + Périgny = 340 with A1 = 88 % > 85 % fails, so La Rochelle goes too:
#       Aytré + Périgny + La Rochelle = 460 = the EPCI, A1 = 65 %: passes. Every commune is
#       withheld; the EPCI (460) is shown.
#
# The département covers the same three communes: it shows what the EPCI shows.
ROWS = {
    (2019, LA_ROCHELLE): {"L1": 50, "L2": 40, "L3": 30},
    (2019, AYTRE): {"A1": 70, "A2": 20},
    (2019, PERIGNY): {"P1": 25, "P2": 20, "P3": 15},
    (2020, LA_ROCHELLE): {"L1": 50, "L2": 40, "L3": 30},
    (2020, AYTRE): {"A1": 300, "A2": 10},
    (2020, PERIGNY): {"P1": 10, "P2": 10, "P3": 10},
}
EXPECTED_WITHHELD = {
    2019: {AYTRE, PERIGNY},
    2020: {LA_ROCHELLE, AYTRE, PERIGNY},
}
EPCI_VALUES = {2019: 270.0, 2020: 460.0}


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> CarbonWorld:
    built = build_carbon_world(client, make_user, admin)
    created: set[str] = set()
    for (_year, commune), actors in ROWS.items():
        for actor in sorted(actors.keys() - created):
            built.actor(f"actor-{actor}", commune)
            created.add(actor)
    csv = "year;territory;sector;actor;value;unit\n" + "".join(
        f"{y};{commune};industry;actor-{actor};{value};tCO2e\n"
        for (y, commune), actors in ROWS.items()
        for actor, value in actors.items()
    )
    built.dataset("emissions", csv, licence="restricted-stat-1.0")
    return built


def _emissions(world: CarbonWorld, who: str, territory: str, **params: Any) -> dict[int, Any]:
    body = world.trajectory(f"/api/v1/territories/{territory}/trajectory", who, **params)
    return {y: year(body, y)["emissions"] for y in EXPECTED_WITHHELD}


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_epci_minus_shown_communes_never_gives_a_withheld_commune_back(
    world: CarbonWorld, who: str
) -> None:
    # Neither caller may read the dataset: both see it in aggregate, with the same decisions.
    epci = _emissions(world, who, EPCI, basis="actors")
    dept = _emissions(world, who, DEPT, basis="actors")
    communes = {c: _emissions(world, who, c, basis="actors") for c in COMMUNES}
    for y, withheld in EXPECTED_WITHHELD.items():
        assert epci[y] == EPCI_VALUES[y]
        assert dept[y] == EPCI_VALUES[y]
        assert {c for c in COMMUNES if communes[c][y] is None} == withheld
        for c in COMMUNES:
            if c not in withheld:
                assert communes[c][y] == sum(ROWS[(y, c)].values())
        # The attacker's difference is the sum of the withheld communes, never one of them…
        difference = epci[y] - sum(communes[c][y] for c in COMMUNES if c not in withheld)
        for c in withheld:
            assert difference != sum(ROWS[(y, c)].values())
        # …and that sum covers at least two communes and passes the rule itself.
        union: dict[str, float] = {}
        for c in withheld:
            union.update(ROWS[(y, c)])
        assert len(withheld) >= 2
        assert difference == sum(union.values())
        assert failure(union) is None


def test_every_view_of_the_hierarchy_agrees(world: CarbonWorld) -> None:
    for by in ("sector", "ghg", "none"):
        for c in COMMUNES:
            body = world.trajectory(f"/api/v1/territories/{c}/trajectory", basis="actors", by=by)
            for y, withheld in EXPECTED_WITHHELD.items():
                point = year(body, y)
                assert (point["emissions"] is None) == (c in withheld), (by, c, y)
                if c in withheld:
                    assert point["breakdown"] == {}, (by, c, y)
                    assert {"year": y, "key": None, "reason": "complementary"} in body["withheld"]
        epci = world.trajectory(f"/api/v1/territories/{EPCI}/trajectory", basis="actors", by=by)
        assert [year(epci, y)["emissions"] for y in (2019, 2020)] == [270.0, 460.0]
        assert epci["withheld"] == []
    # The sector endpoint hides the same communes as the territory endpoint.
    for c in COMMUNES:
        sector = world.trajectory(
            "/api/v1/sectors/industry/trajectory", territory=c, basis="actors"
        )
        for y, withheld in EXPECTED_WITHHELD.items():
            assert (year(sector, y)["emissions"] is None) == (c in withheld), (c, y)
    # Aytré's reason is its own secrecy; Périgny's (2019) is a complement for Aytré.
    aytre = world.trajectory(f"/api/v1/territories/{AYTRE}/trajectory", basis="actors")
    assert {"year": 2019, "key": "industry", "reason": "secrecy"} in aytre["withheld"]
    perigny = world.trajectory(f"/api/v1/territories/{PERIGNY}/trajectory", basis="actors")
    assert {"year": 2019, "key": "industry", "reason": "complementary"} in perigny["withheld"]


def test_an_actor_trajectory_hides_restricted_stat_figures(world: CarbonWorld) -> None:
    # Aggregate-only data is left out of one actor's trajectory altogether: not even withheld
    # cells, which would tell that the actor has confidential figures and in which years.
    for who in ("anonymous", "member"):
        body = world.trajectory("/api/v1/actors/actor-A1/trajectory", who)
        assert body["series"] == []
        assert body["withheld"] == []
        assert body["sources"] == []
    # The producer reads the dataset: everything is shown, nothing withheld.
    full = world.trajectory(f"/api/v1/territories/{AYTRE}/trajectory", "producer", basis="actors")
    assert [year(full, y)["emissions"] for y in (2019, 2020)] == [90.0, 310.0]
    assert full["withheld"] == []
    mine = world.trajectory("/api/v1/actors/actor-A1/trajectory", "producer")
    assert [year(mine, y)["emissions"] for y in (2019, 2020)] == [70.0, 300.0]
