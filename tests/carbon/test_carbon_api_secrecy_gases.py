"""Secrecy across the sector × gas cross-tabulation, through the HTTP API (contract §5).

A territory's by-gas table gives gas totals; a sector's by-gas table gives (sector, gas) cells.
Shown together, ``gas total − the other sectors' cells`` recomputes a withheld (sector, gas)
cell. Confidential figures are therefore split by gas only in years where they hold one gas.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from datahub.carbon.secrecy import failure
from tests.carbon.carbon_world import LA_ROCHELLE, CarbonWorld, build_carbon_world, year
from tests.conftest import Persona

# restricted-stat-1.0 rows in La Rochelle (tCO2e; CH4 given in CO2e), basis=actors:
#
# 2021  industry CO2 {X1 100, X2 90, X3 80}     industry CH4 {X1 60}          → 330
#       waste    CO2 {W1 50, W2 40, W3 30}      waste    CH4 {W1 20, W2 20, W3 20} → 180
#   By sector: industry 330 (X1 160/330 = 48 %), waste 180 (W1 70/180 = 39 %): both pass, so
#   the total 510 is shown. By gas: CO2 390 (6 actors), CH4 120 (X1 60/120 = 50 %): both pass.
#   Waste's CH4 cell (60, 3 actors at 33 %) passes too, yet CH4 120 − waste CH4 60 = 60 is X1's
#   industry CH4 alone (one actor). Two gases in 2021: every gas cell holding confidential
#   figures is withheld, in the territory's by-gas table and in each sector's.
#
# 2022  the same CO2 rows only: one gas, so its cell equals the total (390), already decided by
#       the by-sector tables, and it is shown.
ROWS = [
    (2021, "industry", "CO2", "X1", 100),
    (2021, "industry", "CO2", "X2", 90),
    (2021, "industry", "CO2", "X3", 80),
    (2021, "industry", "CH4", "X1", 60),
    (2021, "waste", "CO2", "W1", 50),
    (2021, "waste", "CO2", "W2", 40),
    (2021, "waste", "CO2", "W3", 30),
    (2021, "waste", "CH4", "W1", 20),
    (2021, "waste", "CH4", "W2", 20),
    (2021, "waste", "CH4", "W3", 20),
]
ROWS += [(2022, s, g, a, v) for (_, s, g, a, v) in ROWS if g == "CO2"]


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> CarbonWorld:
    built = build_carbon_world(client, make_user, admin)
    for actor in sorted({a for *_, a, _ in ROWS}):
        built.actor(f"actor-{actor}", LA_ROCHELLE)
    csv = "year;territory;sector;actor;ghg;value;unit\n" + "".join(
        f"{y};{LA_ROCHELLE};{s};actor-{a};{g};{v};tCO2e\n" for y, s, g, a, v in ROWS
    )
    built.dataset("emissions", csv, licence="restricted-stat-1.0")
    return built


def _view(world: CarbonWorld, who: str, sector: str | None = None) -> Any:
    if sector is None:
        path = f"/api/v1/territories/{LA_ROCHELLE}/trajectory"
        return world.trajectory(path, who, by="ghg", basis="actors")
    path = f"/api/v1/sectors/{sector}/trajectory"
    return world.trajectory(path, who, by="ghg", basis="actors", territory=LA_ROCHELLE)


def test_the_premise_is_a_real_leak() -> None:
    # X1's industry CH4 alone fails the rule, while every margin the attack uses passes.
    assert failure({"X1": 60.0}) is not None
    assert failure({"X1": 60.0, "W1": 20.0, "W2": 20.0, "W3": 20.0}) is None  # CH4 total
    assert failure({"W1": 20.0, "W2": 20.0, "W3": 20.0}) is None  # waste CH4


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_no_gas_split_of_confidential_figures_in_a_two_gas_year(
    world: CarbonWorld, who: str
) -> None:
    territory = _view(world, who)
    assert year(territory, 2021)["breakdown"] == {}
    assert year(territory, 2021)["emissions"] == 510.0  # 330 + 180, by-sector cells pass
    hidden = {(w["year"], w["key"]) for w in territory["withheld"]}
    assert {(2021, "CO2"), (2021, "CH4")} <= hidden
    for sector in ("industry", "waste"):
        body = _view(world, who, sector)
        assert year(body, 2021)["breakdown"] == {}, sector
        assert {(2021, "CO2"), (2021, "CH4")} <= {(w["year"], w["key"]) for w in body["withheld"]}
    # So neither "CH4 total − waste CH4" nor any other difference can be formed.
    assert 60.0 not in year(territory, 2021)["breakdown"].values()


def test_a_single_gas_year_still_shows_its_gas(world: CarbonWorld) -> None:
    territory = _view(world, "anonymous")
    assert year(territory, 2022)["breakdown"] == {"CO2": 390.0}  # 270 + 120, 6 actors
    assert (2022, "CO2") not in {(w["year"], w["key"]) for w in territory["withheld"]}


def test_the_producer_reads_the_split_in_full(world: CarbonWorld) -> None:
    territory = _view(world, "producer")
    assert year(territory, 2021)["breakdown"] == {"CO2": 390.0, "CH4": 120.0}
    assert territory["withheld"] == []
