"""``datahub demo``'s commune outlines: fetched through the ign-territories connector (replayed
here from the recorded IGN WFS answer, never the network), simplified, then drawn by the map."""

from __future__ import annotations

import json

import httpx
from fastapi.testclient import TestClient

from datahub.demo.loader import EPCI, load_demo
from datahub.demo.outlines import load_outlines
from datahub.runtime import Runtime
from tests.web.ign_outlines import RECORDED, ign_transport

COMMUNES = ["17300", "17028", "17274"]


def _vertices(geometry: dict[str, object]) -> int:
    return sum(len(ring) for polygon in geometry["coordinates"] for ring in polygon)  # type: ignore[attr-defined]


def test_outlines_come_from_ign_simplified_and_show_on_the_map(
    runtime: Runtime, client: TestClient
) -> None:
    load_demo(runtime)
    report = load_outlines(runtime, ign_transport(COMMUNES))
    assert report.error is None
    assert report.loaded == sorted(f"commune:{c}" for c in COMMUNES)
    body = client.get(
        "/ogc/collections/territories/items", params={"parent": EPCI, "limit": 100}
    ).json()
    outlined = {f["id"]: f for f in body["features"] if f["geometry"] is not None}
    assert set(outlined) == set(report.loaded)
    recorded = json.loads((RECORDED / "getfeature_commune_cql_penmarch.geojson").read_text())
    full = _vertices(recorded["features"][0]["geometry"])
    la_rochelle = outlined["commune:17300"]
    # Simplified to about 100 m: far fewer vertices than IGN's full outline, same place.
    assert _vertices(la_rochelle["geometry"]) < full / 3
    assert la_rochelle["properties"]["name"] == "La Rochelle"  # the demo's name is kept
    assert la_rochelle["properties"]["population"] > 70_000  # and its population
    page = client.get(f"/territories/{EPCI}").text
    assert '<script src="/static/leaflet.js' in page
    assert page.count('<tr data-code="commune:') == 28  # every commune in the table
    # A second run fetches again only what still lacks an outline (here: the others).
    again = load_outlines(runtime, ign_transport(COMMUNES))
    assert again.loaded == []


def test_offline_demo_loads_without_outlines_and_says_why(runtime: Runtime) -> None:
    load_demo(runtime)

    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route to host", request=request)

    report = load_outlines(runtime, httpx.MockTransport(offline))
    assert report.loaded == []
    assert report.error is not None
    assert "no route to host" in report.error
