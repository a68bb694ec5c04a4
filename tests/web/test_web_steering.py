"""The steering blocks of the dashboard (contract §8 on the page): budget, the plan's scenario
and its actions, the gap to a chosen reference — the API's figures for the same caller.

The territory is test_carbon_steering_plan's (La Rochelle's net 1200, 1100, 1060, 1000 in 2016,
2018, 2019, 2021; target 0 in 2030 from 2018; two actions), where every figure is worked by hand.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from datahub.catalog import xlsx_writer
from datahub.web import fmt
from tests.carbon.carbon_world import EPCI, CarbonWorld
from tests.carbon.test_carbon_steering_plan import ACTIONS, PLAN, TRAJECTORY, _target
from tests.carbon.test_carbon_steering_plan import world as plan_world
from tests.conftest import Persona

world = plan_world
PAGE = f"/territories/{EPCI}"


def _cell(html: str, name: str) -> str:
    found = re.search(rf'data-budget="{name}">([^<]*)<', html)
    assert found, name
    return found.group(1)


def _percent(rate: float) -> str:
    return f"{fmt.number(rate * 100, 1)} % par an"


def test_budget_plan_and_actions_are_the_apis_figures(world: CarbonWorld) -> None:
    _target(world)
    put = world.client.put(PLAN, json={"actions": ACTIONS}, headers=world.headers("cda"))
    assert put.status_code == 200, put.text
    api: dict[str, Any] = world.trajectory(TRAJECTORY, scenario="plan")
    page = world.client.get(PAGE)
    assert page.status_code == 200
    html = page.text
    budget = api["budget"]
    # By hand (test_carbon_steering_plan): target path 7150, trend 11310, no compound rate to
    # 0 (−1000 / 9 = −111 t/yr instead), observed (1000 / 1200)^(1/5) − 1 = −3.6 %/yr.
    assert _cell(html, "target_path") == fmt.number(budget["target_path"]) == "7\u202f150"
    assert _cell(html, "trend") == fmt.number(budget["trend"]) == "11\u202f310"
    assert _cell(html, "scenario") == fmt.number(budget["scenario"])
    assert budget["required_rate"] is None
    assert _cell(html, "required_rate") == "-111 tCO₂e par an"
    assert _cell(html, "observed_rate") == _percent(budget["observed_rate"]) == "-3,6 % par an"
    # The scenario's neutrality year as the API says (not reached by 2030: 460 t left).
    assert api["scenario"]["neutrality_year"] is None
    assert "non atteinte d'ici 2030" in html
    # Actions by share of the effort, the API's order and figures.
    shown = re.findall(r'<tr data-action="([^"]+)"><th scope="row">[^<]*</th><td>[^<]*</td>'
                       r'<td class="num">([^<]*)</td><td class="num">([^<]*)</td>'
                       r'<td class="num">([^<]*)</td>', html)  # fmt: skip
    expected = [
        (a["id"], fmt.number(a["full_effect"]), fmt.number(a["avoided"]),
         f"{fmt.number(a['share'] * 100, 1)} %")
        for a in api["scenario"]["actions"]
    ]  # fmt: skip
    assert shown == expected
    assert shown[0][0] == "chaleur-fatale"  # 120 t/yr from 2025 outweighs 50 t/yr
    # The year-by-year scenario: 2024 is 870 − 130 = 740, 190 above the path (by hand).
    assert '<th scope="row">2024</th><td class="num">870</td><td class="num">130</td>' in html
    # The chart and downloads are those of the same API view.
    assert f"/api/v1/territories/{EPCI.replace(':', '%3A')}/trajectory" not in html
    assert f"/api/v1/territories/{EPCI}/trajectory?scenario=plan&amp;format=xlsx" in html


def test_reference_select_offers_readable_references_and_shows_the_gap(
    world: CarbonWorld, make_user: Callable[..., Persona]
) -> None:
    _target(world)
    reference, _ = world.dataset(
        "reference_trajectory",
        "year,territory,sector,value,unit\n"
        f"2019,{EPCI},industry,900,tCO2e\n2019,{EPCI},residential,120,tCO2e\n"
        f"2030,{EPCI},industry,300,tCO2e\n",
    )
    hidden, _ = world.dataset(
        "reference_trajectory",
        f"year,territory,sector,value,unit\n2019,{EPCI},industry,1,tCO2e\n",
        licence="restricted-1.0",
    )
    page = world.client.get(PAGE).text
    assert f'<option value="{reference}"' in page
    assert hidden not in page  # a reference the caller may not read is not offered
    chosen = world.client.get(PAGE, params={"reference": reference})
    assert chosen.status_code == 200
    api = world.trajectory(TRAJECTORY, reference=reference)
    # 2019: industry observed 960 − 900 = +60, residential 100 − 120 = −20 (by hand); 2030 has
    # no observation, so no row.
    gaps = {(y["year"], k): v for y in api["reference"]["years"] for k, v in y["gap"].items()}
    assert gaps == {(2019, "industry"): 60.0, (2019, "residential"): -20.0}
    html = chosen.text
    assert (
        f'<th scope="row">2019</th><td>{fmt.sector("industry")}</td><td class="num">900</td>'
        '<td class="num">960</td><td class="num">+60</td>'
    ) in html
    assert '<td class="num">120</td><td class="num">100</td><td class="num">-20</td>' in html
    assert f'<option value="{reference}" selected>' in html
    # A reference the caller may not read: refused in French, as the API refuses it.
    refused = world.client.get(PAGE, params={"reference": hidden})
    assert refused.status_code in (401, 404)
    assert refused.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("who", ["anonymous", "producer"])
def test_xlsx_links_answer_xlsx(world: CarbonWorld, who: str) -> None:
    client: TestClient = world.client
    headers = world.headers(who)
    dataset = client.get("/api/v1/datasets", params={"kind": "emissions"}).json()["data"][0]
    dataset_page = client.get(f"/datasets/{dataset['id']}", headers=headers).text
    dashboard = client.get(PAGE, headers=headers).text
    links = re.findall(r'href="([^"]*format=xlsx[^"]*)"', dataset_page + dashboard)
    assert len(links) == 2
    for link in links:
        response = client.get(link.replace("&amp;", "&"), headers=headers)
        assert response.status_code == 200, link
        assert response.headers["content-type"].startswith(xlsx_writer.MEDIA_TYPE)
        assert response.content[:2] == b"PK"  # a zip: the OOXML container


def test_pages_name_organisations_not_ids(world: CarbonWorld, admin: Persona) -> None:
    client = world.client
    org = client.post(
        "/api/v1/organizations",
        json={"id": "agence-nommee", "name": "Agence du climat nommée"},
        headers=admin.headers,
    )
    assert org.status_code in (201, 409), org.text
    dataset = client.get("/api/v1/datasets").json()["data"][0]
    producer = dataset["producer"]
    names = {o["id"]: o["name"] for o in client.get(
        "/api/v1/organizations", headers=admin.headers).json()["data"]}  # fmt: skip
    name = names[producer]
    assert name != producer
    page = client.get(f"/datasets/{dataset['id']}").text
    assert f"<dd>{name}</dd>" in page
    catalogue = client.get("/datasets").text
    assert f"· {name}</p>" in catalogue
    dashboard = client.get(PAGE).text
    assert f">{name} — " in dashboard  # the sources name their producer
