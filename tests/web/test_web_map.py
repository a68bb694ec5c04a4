"""The dashboard map (contract §7): the territories inside, coloured by net emissions per
inhabitant or per km², from each one's own trajectory, so a withheld one is grey and valueless.

World: an EPCI with three communes, each a 0.01° square, on which
- Ville (population 1000) emits 5000 t in 2020 and Bourg (500) 1000 t, open data;
- Hameau (200) emits 777 t, a single inventory row under restricted-stat-1.0: one producer in
  the cell, so anonymous callers and outsiders get it withheld (contract §5b);
- Bourg also emits 4321.7 t under restricted-1.0, counted only for who may read it.
No land data: net = emissions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from datahub.web import choropleth
from tests.conftest import Persona

EPCI = "epci:200000009"
VILLE, BOURG, HAMEAU = "commune:99101", "commune:99102", "commune:99103"
LAT = 46.15


def _square(west: float, south: float = LAT, side: float = 0.01) -> dict[str, object]:
    ring = [[west, south], [west + side, south], [west + side, south + side], [west, south + side]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


@pytest.fixture
def producer(client: TestClient, admin: Persona, make_user: Callable[..., Persona]) -> Persona:
    places = [
        {"code": EPCI, "name": "CA Carte", "level": "epci", "population": 1700},
        {"code": VILLE, "name": "Ville", "population": 1000, "geometry": _square(-1.20)},
        {"code": BOURG, "name": "Bourg", "population": 500, "geometry": _square(-1.19)},
        {"code": HAMEAU, "name": "Hameau", "population": 200, "geometry": _square(-1.18)},
    ]
    for place in places:
        body = {"level": "commune", "parent": EPCI, **place} if place["code"] != EPCI else place
        response = client.post("/api/v1/territories", json=body, headers=admin.headers)
        assert response.status_code == 201, response.text
    producer = make_user("producer", "agence-carte", member=True)
    for dataset_id, licence, rows in (
        ("inv-open", "etalab-2.0", f"2020;{VILLE};residential;5000;tCO2e\n"
         f"2020;{BOURG};residential;1000;tCO2e\n"),
        ("inv-secret", "restricted-stat-1.0", f"2020;{HAMEAU};industry;777;tCO2e\n"),
        ("inv-restricted", "restricted-1.0", f"2020;{BOURG};waste;4321,7;tCO2e\n"),
    ):  # fmt: skip
        created = client.post(
            "/api/v1/datasets",
            json={"id": dataset_id, "title": dataset_id, "licence": licence, "kind": "emissions"},
            headers=producer.headers,
        )
        assert created.status_code == 201, created.text
        uploaded = client.post(
            f"/api/v1/datasets/{dataset_id}/versions",
            content=("year;territory;sector;value;unit\n" + rows).encode(),
            headers={**producer.headers, "Content-Type": "text/csv"},
        )
        assert uploaded.status_code == 201, uploaded.text
    return producer


def _rows(html: str) -> dict[str, dict[str, str]]:
    """The map table's rows: code → colour, state, label and the two figure cells."""
    found = {}
    for match in re.finditer(
        r'<tr data-code="([^"]+)" data-colour="([^"]+)" data-label="([^"]*)" '
        r'data-state="([^"]+)">(.*?)</tr>',
        html,
    ):
        code, colour, label, state, cells = match.groups()
        numbers = re.findall(r'<td class="num">([^<]*)</td>', cells)
        found[code] = {"colour": colour, "label": label, "state": state, "cells": numbers}
    return found


def test_map_colours_each_commune_and_greys_the_withheld_one(
    client: TestClient, producer: Persona, make_user: Callable[..., Persona]
) -> None:
    outsider = make_user("analyst", "bureau-carte", member=False)
    for headers in ({}, outsider.headers):
        page = client.get(f"/territories/{EPCI}", headers=headers)
        assert page.status_code == 200
        html = page.text
        rows = _rows(html)
        assert set(rows) == {VILLE, BOURG, HAMEAU}
        # Per inhabitant: 5000 / 1000 = 5.0 t and 1000 / 500 = 2.0 t. Two distinct values make
        # two classes, spread to the lightest and the darkest shade of the scale.
        assert rows[VILLE]["cells"] == ["5\u202f000", "5,0"]
        assert rows[BOURG]["cells"] == ["1\u202f000", "2,0"]
        assert rows[VILLE]["colour"] == choropleth.SHADES[-1]
        assert rows[BOURG]["colour"] == choropleth.SHADES[0]
        # Hameau's 777 t is one producer's figure: withheld, grey, and nowhere in the page.
        assert rows[HAMEAU]["state"] == "secret"
        assert rows[HAMEAU]["colour"] == choropleth.SECRET
        assert rows[HAMEAU]["cells"] == ["secret", "secret statistique"]
        assert "777" not in html
        assert "3,9" not in html  # 777 / 200 = 3.885 per inhabitant
        assert "secret statistique (valeur masquée)" in html  # the legend says what grey means
        # Bourg's restricted 4321.7 t counts only for who may read it: not here, in no form.
        assert not {"4\u202f322", "5\u202f322", "10,6"} & set(re.findall(r"[\d\u202f,]+", html))
        # Leaflet and the map only on a page with outlines to draw.
        assert '<script src="/static/leaflet.js' in html
        assert f"/ogc/collections/territories/items?parent={EPCI.replace(':', '%3A')}" in html

    # The producer reads its own data: Hameau is coloured, 777 / 200 = 3.885 → 3,9 t.
    own = _rows(client.get(f"/territories/{EPCI}", headers=producer.headers).text)
    assert own[HAMEAU]["state"] == "value"
    assert own[HAMEAU]["cells"] == ["777", "3,9"]
    # And Bourg with its restricted rows: 1000 + 4321.7 = 5321.7 t, / 500 = 10.6 t.
    assert own[BOURG]["cells"] == ["5\u202f322", "10,6"]


def test_per_km2_switch_divides_by_the_measured_area(client: TestClient, producer: Persona) -> None:
    page = client.get(f"/territories/{EPCI}", params={"carte": "km2"})
    assert page.status_code == 200
    rows = _rows(page.text)
    # A 0.01° square at 46.15° N: 0.01° of latitude ≈ 1.1119 km, of longitude 1.1119 ×
    # cos(46.155°) ≈ 0.7705 km, so ≈ 0.8567 km² (measured in Lambert-93, within 0.5 %).
    area = 1.1119 * 1.1119 * math.cos(math.radians(46.155))
    shown = float(rows[VILLE]["cells"][1].replace("\u202f", "").replace(",", "."))
    assert shown == pytest.approx(5000 / area, rel=0.005)
    assert "par km² (tCO₂e/km²)" in page.text
    # The other choice is a link with the declared parameter; an unknown value is a French 422.
    assert f'href="/territories/{EPCI}?carte=habitant#carte-titre"' in page.text
    bad = client.get(f"/territories/{EPCI}", params={"carte": "hectare"})
    assert bad.status_code == 422
    assert "Un paramètre de la page est invalide." in bad.text


def test_the_geojson_gives_outlines_and_withholds_as_the_trajectories(
    client: TestClient, producer: Persona
) -> None:
    outlines = client.get(
        "/ogc/collections/territories/items", params={"parent": EPCI, "level": "commune"}
    )
    assert outlines.headers["content-type"].startswith("application/geo+json")
    features = {f["id"]: f for f in outlines.json()["features"]}
    assert set(features) == {VILLE, BOURG, HAMEAU}
    assert all(f["geometry"]["type"] == "Polygon" for f in features.values())
    # The emissions collection (the figures GIS clients read) withholds Hameau as the map does.
    emissions = client.get(
        "/ogc/collections/emissions/items", params={"parent": EPCI, "year": 2020}
    ).json()
    nets = {f["id"]: f["properties"]["net"] for f in emissions["features"]}
    assert nets == {VILLE: 5000.0, BOURG: 1000.0, HAMEAU: None}
    assert "777" not in str(emissions)


def test_no_outline_no_leaflet(client: TestClient, admin: Persona) -> None:
    for body in (
        {"code": "epci:200000010", "name": "CA Sans Carte", "level": "epci"},
        {"code": "commune:99201", "name": "Nulle", "level": "commune", "parent": "epci:200000010"},
    ):
        assert (
            client.post("/api/v1/territories", json=body, headers=admin.headers).status_code == 201
        )
    html = client.get("/territories/epci:200000010").text
    assert "leaflet" not in html
    assert 'id="carte-tableau"' in html  # the table of the territories inside remains
    assert 'data-state="none"' in html


def test_map_figures_are_remembered_per_view_and_forgotten_when_data_changes(
    client: TestClient, producer: Persona
) -> None:
    memo = client.app.state.map_memo  # type: ignore[attr-defined]
    first = _rows(client.get(f"/territories/{EPCI}").text)
    assert first[BOURG]["cells"] == ["1\u202f000", "2,0"]
    entries = len(memo._items)
    assert entries == 1
    # Again, anonymously: the same view and data, so the same entry serves it.
    assert _rows(client.get(f"/territories/{EPCI}").text) == first
    assert len(memo._items) == entries
    # The producer reads its restricted 4321.7 t in full: another view, another entry —
    # Bourg is 1000 + 4321.7 = 5321.7 t, 5321.7 / 500 = 10.6 t per inhabitant.
    own = _rows(client.get(f"/territories/{EPCI}", headers=producer.headers).text)
    assert own[BOURG]["cells"] == ["5\u202f322", "10,6"]
    assert len(memo._items) == entries + 1
    # A new version of the open inventory changes the data: the next visit recomputes.
    uploaded = client.post(
        "/api/v1/datasets/inv-open/versions",
        content=(
            "year;territory;sector;value;unit\n"
            f"2020;{VILLE};residential;5000;tCO2e\n2020;{BOURG};residential;1500;tCO2e\n"
        ).encode(),
        headers={**producer.headers, "Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 201, uploaded.text
    after = _rows(client.get(f"/territories/{EPCI}").text)
    assert after[BOURG]["cells"] == ["1\u202f500", "3,0"]  # 1500 / 500
