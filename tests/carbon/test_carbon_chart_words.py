"""What the chart says, read in its SVG text: one unit, the territory's name and French words,
the neutrality year beyond the axis, the gap to the target, credits, demo mark, net source."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from datahub.carbon.chart import Captions, render, render_svg
from datahub.carbon.trajectory import TargetSpec, TrajectoryResult, build_trajectory
from tests.carbon.carbon_world import EPCI, LA_ROCHELLE, CarbonWorld, build_carbon_world
from tests.conftest import Persona


def _text(svg: bytes) -> str:
    return " ".join(t.strip() for t in ET.fromstring(svg).itertext() if t.strip())


def _declining() -> TrajectoryResult:
    # Net 570, 560, ... 520 kt in 2015-2020: −10 kt a year, so the trend reaches 0 in
    # 2015 + 570/10 = 2072, beyond an axis that ends with the target in 2030.
    cells = {(y, "residential"): 570e3 - 10e3 * (y - 2015) for y in range(2015, 2021)}
    return build_trajectory(cells, target=TargetSpec(2015, 2030))


def test_one_unit_neutrality_beyond_the_axis_and_the_gap() -> None:
    text = _text(render_svg(_declining()))
    assert "(GES, ktCO₂e/an)" in text  # the title's unit...
    assert "ktCO₂e par an" in text  # ...is the axis's
    assert "tCO₂e/an)" not in text.replace("ktCO₂e/an)", "")
    assert "Neutralité en 2072 au rythme observé" in text
    assert "non atteinte" not in text
    # Target path 570 → 0 kt over 2015-2030: 570 × 10/15 = 380 kt in 2020; net 520: +140 kt.
    assert "Écart à la cible en 2020 : +140 ktCO₂e (au-dessus)" in text


def test_credits_demo_mark_and_a_net_source_of_sequestration() -> None:
    cells = {(2019, "waste"): 1000.0, (2020, "waste"): 900.0}
    result = build_trajectory(cells, {2019: 150.0, 2020: -40.0})  # 2020: land-use change emits
    captions = Captions(
        credits="Sources : CDA — Inventaire · Licences : Licence Ouverte", demo=True
    )
    text = _text(render_svg(result, captions=captions))
    assert "Sources : CDA — Inventaire · Licences : Licence Ouverte" in text
    assert "DONNÉES DE DÉMONSTRATION" in text
    assert "Séquestration négative en 2020" in text
    plain = _text(render_svg(result))
    assert "DÉMONSTRATION" not in plain
    assert render(result, fmt="png").startswith(b"\x89PNG\r\n\x1a\n")


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> CarbonWorld:
    return build_carbon_world(client, make_user, admin)


def test_the_api_chart_names_the_territory_credits_sources_and_marks_demo(
    world: CarbonWorld,
) -> None:
    csv = f"year,territory,sector,value,unit\n2019,{LA_ROCHELLE},residential,900,tCO2e\n"
    world.dataset("emissions", csv)
    url = f"/api/v1/territories/{EPCI}/trajectory"
    svg = world.client.get(url, params={"format": "svg"})
    assert svg.headers["content-type"] == "image/svg+xml"
    text = _text(svg.content)
    assert "CA de La Rochelle · inventaire territorial · approche cadastrale" in text
    assert EPCI not in text
    assert "Licences : Licence Ouverte / Open Licence version 2.0" in text
    assert "DÉMONSTRATION" not in text
    png = world.client.get(url, params={"format": "png"})
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    # A dataset tagged as demo data marks the chart.
    world.client.patch(
        f"/api/v1/datasets/{world.dataset('emissions', csv.replace('900', '100'))[0]}",
        json={"tags": ["démo"]},
        headers=world.producer.headers,
    )
    assert "DONNÉES DE DÉMONSTRATION" in _text(
        world.client.get(url, params={"format": "svg"}).content
    )
