"""Secrecy against a reader who combines every variant of a query, and against a producer who
pads a cell with actors of its own (contract §5b), through the HTTP API.

Each scenario is an attack that worked before: the GWP attack, the climate-correction attack
and the padding attack.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.carbon.carbon_world import AYTRE, LA_ROCHELLE, CarbonWorld, build_carbon_world, year
from tests.conftest import Persona

TERRITORY = f"/api/v1/territories/{LA_ROCHELLE}/trajectory"
GWP_CH4 = {"ar4": 25.0, "ar5": 28.0, "ar6": 29.8}  # unqualified CH4 is fossil CH4


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> CarbonWorld:
    return build_carbon_world(client, make_user, admin)


def _actors(world: CarbonWorld, names: str, territory: str = LA_ROCHELLE) -> None:
    for name in names.split():
        world.actor(f"actor-{name}", territory)


def _csv(rows: list[tuple[int, str, str, str, float, str]], territory: str = LA_ROCHELLE) -> str:
    return "year;territory;sector;actor;ghg;value;unit\n" + "".join(
        f"{y};{territory};{s};actor-{a};{g};{v};{u}\n" for y, s, a, g, v, u in rows
    )


# restricted-stat-1.0, basis=actors, 2021:
#   agriculture: CO2 {F1 100, F2 100, F3 100} + CH4 {F1 10 tCH4}: at AR5 580 tCO2e, F1 380 =
#     65 %: the cell "passes" in every GWP set, yet ar5 − ar4 = 10 × (28 − 25) = 30 gives F1's
#     10 tCH4 back (one actor's figure). Its CH4 part has one actor: withheld (secrecy).
#   industry: CO2 {B1 100, B2 90, B3 80} = 270 passes.
#   The total's CH4 part is agriculture's alone, so the total is withheld in every set too.
GWP_ROWS = [
    (2021, "agriculture", "F1", "CO2", 100.0, "tCO2e"),
    (2021, "agriculture", "F2", "CO2", 100.0, "tCO2e"),
    (2021, "agriculture", "F3", "CO2", 100.0, "tCO2e"),
    (2021, "agriculture", "F1", "CH4", 10.0, "tCH4"),
    (2021, "industry", "B1", "CO2", 100.0, "tCO2e"),
    (2021, "industry", "B2", "CO2", 90.0, "tCO2e"),
    (2021, "industry", "B3", "CO2", 80.0, "tCO2e"),
]


def _numbers(body: Any) -> list[float]:
    out: list[float] = []
    for point in body["series"]:
        out += [v for v in (point["emissions"], point["net"]) if v is not None]
        out += list(point["breakdown"].values())
    return out


def test_gwp_variants_do_not_give_one_actors_methane_back(world: CarbonWorld) -> None:
    _actors(world, "F1 F2 F3 B1 B2 B3")
    world.dataset("emissions", _csv(GWP_ROWS), licence="restricted-stat-1.0")
    bodies: dict[tuple[str, str], Any] = {}
    for gwp, by in itertools.product(GWP_CH4, ("sector", "ghg", "none")):
        bodies[(gwp, by)] = world.trajectory(TERRITORY, basis="actors", gwp=gwp, by=by)
        point = year(bodies[(gwp, by)], 2021)
        assert point["emissions"] is None, (gwp, by)
        assert point["net"] is None, (gwp, by)
        assert "agriculture" not in point["breakdown"]
    for gwp in GWP_CH4:
        assert year(bodies[(gwp, "sector")], 2021)["breakdown"] == {"industry": 270.0}
        sector = world.trajectory(
            "/api/v1/sectors/agriculture/trajectory", territory=LA_ROCHELLE, basis="actors", gwp=gwp
        )
        assert year(sector, 2021)["emissions"] is None
    # The attack: any two published numbers of two GWP sets differing by 10 × ΔGWP.
    for a, b in itertools.combinations(GWP_CH4, 2):
        delta = 10.0 * abs(GWP_CH4[a] - GWP_CH4[b])
        left = _numbers(bodies[(a, "sector")]) + _numbers(bodies[(a, "none")])
        right = _numbers(bodies[(b, "sector")]) + _numbers(bodies[(b, "none")])
        assert all(abs(abs(x - y) - delta) > 1e-6 for x in left for y in right), (a, b)


# restricted-stat-1.0, basis=actors, 2021; HDD (open) 2000 in 2021, reference period mean 2500:
#   residential {R1 100, R2 50} = 150: 2 actors, withheld (secrecy).
#   industry {I1 100, I2 90, I3 80} = 270 and waste {W1 40, W2 35, W3 30} = 105 pass.
#   Before, waste was withheld as residential's partner and the total 525 shown in both
#   variants: corrected − uncorrected = (f − 1) × 150 with the public f gave residential back.
#   Residential is the only heating-sensitive figure, so the total is withheld instead, in
#   both variants, and both other cells are shown (each scaled by 1: not heating-sensitive).
CLIMATE_ROWS = [
    (2021, "residential", "R1", "CO2", 100.0, "tCO2e"),
    (2021, "residential", "R2", "CO2", 50.0, "tCO2e"),
    (2021, "industry", "I1", "CO2", 100.0, "tCO2e"),
    (2021, "industry", "I2", "CO2", 90.0, "tCO2e"),
    (2021, "industry", "I3", "CO2", 80.0, "tCO2e"),
    (2021, "waste", "W1", "CO2", 40.0, "tCO2e"),
    (2021, "waste", "W2", "CO2", 35.0, "tCO2e"),
    (2021, "waste", "W3", "CO2", 30.0, "tCO2e"),
]


def test_climate_correction_does_not_give_a_withheld_residential_cell_back(
    world: CarbonWorld,
) -> None:
    _actors(world, "R1 R2 I1 I2 I3 W1 W2 W3")
    hdd = "year;territory;hdd\n" + "".join(
        f"{y};{LA_ROCHELLE};{2500 if y < 2021 else 2000}\n" for y in range(2015, 2022)
    )
    world.dataset("climate", hdd)
    world.dataset("emissions", _csv(CLIMATE_ROWS), licence="restricted-stat-1.0")
    for corrected in ("false", "true"):
        body = world.trajectory(TERRITORY, basis="actors", climate_corrected=corrected)
        point = year(body, 2021)
        assert point["emissions"] is None, corrected
        assert point["breakdown"] == {"industry": 270.0, "waste": 105.0}, corrected
        assert {"year": 2021, "key": "residential", "reason": "secrecy"} in body["withheld"]
    # The producer reads its data in full: the correction applies, 150 × (1 − h + h × 2500/2000).
    full = world.trajectory(TERRITORY, "producer", basis="actors", climate_corrected="true")
    share = 0.7  # heating_share_residential default
    expected = 150.0 * (1 - share + share * 2500 / 2000)
    assert year(full, 2021)["breakdown"]["residential"] == pytest.approx(expected)


def test_interpolation_and_windows_withhold_the_same_cells(world: CarbonWorld) -> None:
    # 2019 and 2021 as in the climate case, without climate data: residential (2 actors) is
    # withheld with waste, its smallest partner (105 < 270), and the total 525 is shown.
    # 2020 is filled by interpolation: a filled value is shown only where both neighbours
    # are, so the filled year says nothing the observed years do not.
    rows = [(y, *rest) for y in (2019, 2021) for (_y, *rest) in CLIMATE_ROWS]
    _actors(world, "R1 R2 I1 I2 I3 W1 W2 W3")
    world.dataset("emissions", _csv(rows), licence="restricted-stat-1.0")  # type: ignore[arg-type]
    plain = world.trajectory(TERRITORY, basis="actors")
    filled = world.trajectory(TERRITORY, basis="actors", interpolate="true")
    window = world.trajectory(TERRITORY, basis="actors", interpolate="true", **{"from": 2020})
    for y in (2019, 2021):
        assert year(plain, y)["breakdown"] == {"industry": 270.0}
        assert year(plain, y)["emissions"] == 525.0
    assert year(filled, 2020)["interpolated"] is True
    assert year(filled, 2020)["breakdown"] == {"industry": 270.0}
    assert year(filled, 2020)["emissions"] == 525.0
    assert {w["key"] for w in filled["withheld"] if w["year"] == 2020} == {"residential", "waste"}
    # The same decisions in every variant: interpolation adds its filled year, a window cuts.
    assert [w for w in filled["withheld"] if w["year"] != 2020] == plain["withheld"]
    assert window["withheld"] == [w for w in filled["withheld"] if w["year"] >= 2020]
    assert [p["year"] for p in window["series"]] == [2020, 2021]


def test_a_producer_padding_a_cell_with_its_own_actors_learns_nothing(
    world: CarbonWorld, make_user: Callable[..., Persona]
) -> None:
    # A farm alone in Aytré, published by its cooperative (restricted-stat-1.0): 100 tCO2e.
    # The hub's producer adds two actors of its own beside it, 300 each, same licence: the cell
    # {F 100, P1 300, P2 300} has 3 actors and F = 14 %, so it "passed" and showed 700; the
    # producer subtracted its own 600 and read the farm's 100. Without the producer's figures
    # the cell is {F} alone: withheld for everybody (and so is the total it would give back).
    coop = make_user("producer", "cooperative-agricole", member=True)
    _actors(world, "F P1 P2", AYTRE)
    farm = (
        "year;territory;sector;actor;value;unit\n2021;commune:17028;agriculture;actor-F;100;tCO2e\n"
    )
    created = world.client.post(
        "/api/v1/datasets",
        json={
            "id": "ferme",
            "title": "Ferme",
            "description": "x",
            "licence": "restricted-stat-1.0",
            "kind": "emissions",
        },
        headers=coop.headers,
    )
    assert created.status_code == 201, created.text
    uploaded = world.client.post(
        "/api/v1/datasets/ferme/versions",
        content=farm.encode(),
        headers={**coop.headers, "Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 201, uploaded.text
    padding = (
        "year;territory;sector;actor;value;unit\n"
        "2021;commune:17028;agriculture;actor-P1;300;tCO2e\n"
        "2021;commune:17028;agriculture;actor-P2;300;tCO2e\n"
    )
    world.dataset("emissions", padding, licence="restricted-stat-1.0")
    path = f"/api/v1/territories/{AYTRE}/trajectory"
    for who in ("anonymous", "producer", "outsider"):
        body = world.trajectory(path, who, basis="actors")
        point = year(body, 2021)
        assert "agriculture" not in point["breakdown"], who
        values = _numbers(body)
        assert 700.0 not in values, who
        assert 100.0 not in values, who
