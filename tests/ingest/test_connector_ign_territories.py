"""ign-territories replayed on the recorded IGN WFS answer for Penmarch (29158).

The only recorded GetFeature is a commune of LIMITES_ADMINISTRATIVES_EXPRESS.LATEST, which has the
same ADMIN EXPRESS 4.x schema as ADMINEXPRESS-COG.LATEST, so these tests point the connector at
that namespace. The EPCI/département/région answers are synthetic (no recording exists): same
envelope as the recorded answer, attributes from the ADMIN EXPRESS 4.x schema, a square outline.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from connectors.ign_territories import IgnTerritoriesParams, connector

from datahub.ingest.contract import FatalConnectorError, TerritoryRecord

LAYERS = "LIMITES_ADMINISTRATIVES_EXPRESS.LATEST"
JSON = {"content-type": "application/json;charset=UTF-8"}


def _form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def _wfs(answers: dict[str, bytes]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "data.geopf.fr"
        assert request.url.path == "/wfs/ows"
        layer = request.url.params["typeName"].split(":")[1]
        return httpx.Response(200, headers=JSON, content=answers[layer])

    return handler


def test_penmarch_with_parents_from_recorded_answer(
    make_run: Callable[..., Any], recorded: Path, local_fixtures: Path
) -> None:
    answers = {
        "commune": (recorded / "ign_wfs/getfeature_commune_cql_penmarch.geojson").read_bytes(),
        "epci": (local_fixtures / "ign_wfs_epci_242900702_synthetic.geojson").read_bytes(),
        "departement": (local_fixtures / "ign_wfs_departement_29_synthetic.geojson").read_bytes(),
        "region": (local_fixtures / "ign_wfs_region_53_synthetic.geojson").read_bytes(),
    }
    run = make_run(_wfs(answers))
    params = IgnTerritoriesParams(territory="commune:29158", layers=LAYERS)
    items = [i for i in connector.run(params, run.context) if isinstance(i, TerritoryRecord)]
    by_code = {i.code: i for i in items}
    # Parents always come before their children, so the runner can upsert in order.
    assert [i.code for i in items] == [
        "country:FR",
        "region:53",
        "departement:29",
        "epci:242900702",
        "commune:29158",
    ]
    penmarch = by_code["commune:29158"]
    assert penmarch.name == "Penmarch"
    assert penmarch.level == "commune"
    assert penmarch.population == 5320
    assert penmarch.parents == ["epci:242900702", "departement:29"]
    assert by_code["epci:242900702"].parents == ["departement:29"]
    assert by_code["departement:29"].parents == ["region:53"]
    assert by_code["region:53"].parents == ["country:FR"]

    # Axis order: GeoJSON lon/lat. Penmarch is at about 4.34° W, 47.81° N.
    assert penmarch.geometry is not None
    assert penmarch.geometry["type"] == "MultiPolygon"
    lon, lat = penmarch.geometry["coordinates"][0][0][0][:2]
    assert -4.39 < lon < -4.29
    assert 47.79 < lat < 47.84

    # The requests: CQL posted as a form body, EPSG:4326, paging parameters present.
    commune_request = run.requests[0]
    assert commune_request.method == "POST"
    assert commune_request.url.params["typeName"] == f"{LAYERS}:commune"
    assert commune_request.url.params["srsName"] == "EPSG:4326"
    assert commune_request.url.params["startindex"] == "0"
    assert _form(commune_request) == {"cql_filter": "code_insee='29158'"}
    filters = {r.url.params["typeName"].split(":")[1]: _form(r)["cql_filter"] for r in run.requests}
    assert filters["epci"] == "code_siren IN ('242900702')"
    assert filters["departement"] == "code_insee IN ('29')"
    assert filters["region"] == "code_insee IN ('53')"


def test_pages_to_the_end_and_matches_multi_valued_epci_field(
    make_run: Callable[..., Any], recorded: Path, local_fixtures: Path
) -> None:
    penmarch = json.loads(
        (recorded / "ign_wfs/getfeature_commune_cql_penmarch.geojson").read_text()
    )["features"][0]
    communes = []
    # Five communes built from the recorded feature; one sits in two EPCI ("a/b" field).
    for index, epcis in enumerate(["242900702"] * 4 + ["200054781/242900702"]):
        feature = copy.deepcopy(penmarch)
        feature["properties"].update(code_insee=f"2915{index}", codes_siren_des_epci=epcis)
        communes.append(feature)
    starts: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        layer = request.url.params["typeName"].split(":")[1]
        if layer != "commune":
            name = {
                "epci": "ign_wfs_epci_242900702_synthetic.geojson",
                "departement": "ign_wfs_departement_29_synthetic.geojson",
                "region": "ign_wfs_region_53_synthetic.geojson",
            }[layer]
            return httpx.Response(200, headers=JSON, content=(local_fixtures / name).read_bytes())
        start, count = int(request.url.params["startindex"]), int(request.url.params["count"])
        starts.append(start)
        page = communes[start : start + count]
        body = {
            "type": "FeatureCollection",
            "features": page,
            "totalFeatures": len(communes),
            "numberMatched": len(communes),
            "numberReturned": len(page),
        }
        return httpx.Response(200, headers=JSON, json=body)

    run = make_run(handler)
    params = IgnTerritoriesParams(territory="epci:242900702", layers=LAYERS, page_size=2)
    items = [i for i in connector.run(params, run.context) if isinstance(i, TerritoryRecord)]
    assert starts == [0, 2, 4]  # 5 features in pages of 2: three requests, to the end
    assert [i.code for i in items if i.level == "commune"] == [f"commune:2915{i}" for i in range(5)]
    last = next(i for i in items if i.code == "commune:29154")
    assert last.parents == ["epci:200054781", "epci:242900702", "departement:29"]
    commune_filter = _form(run.requests[0])["cql_filter"]
    assert commune_filter == "codes_siren_des_epci LIKE '%242900702%'"


def test_empty_answer_is_a_fatal_error(make_run: Callable[..., Any], recorded: Path) -> None:
    empty = (recorded / "ign_wfs/getfeature_commune_empty.json").read_bytes()
    run = make_run(_wfs({"commune": empty}))
    params = IgnTerritoriesParams(territory="commune:99999", layers=LAYERS)
    with pytest.raises(FatalConnectorError, match="no commune found"):
        list(connector.run(params, run.context))


def test_xml_exception_report_becomes_a_clear_error(make_run: Callable[..., Any]) -> None:
    # No 400 was recorded; this follows the OGC WFS 2.0 ExceptionReport schema (ows 1.1), which
    # the research note says GeoServer sends whatever outputFormat was asked.
    report = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/1.1" version="2.0.0">'
        b'<ows:Exception exceptionCode="InvalidParameterValue" locator="typeName">'
        b"<ows:ExceptionText>Feature type BADLAYER:commune unknown</ows:ExceptionText>"
        b"</ows:Exception></ows:ExceptionReport>"
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, headers={"content-type": "application/xml"}, content=report)

    run = make_run(handler)
    params = IgnTerritoriesParams(territory="commune:17300", layers="BADLAYER")
    with pytest.raises(FatalConnectorError, match="Feature type BADLAYER:commune unknown"):
        list(connector.run(params, run.context))


@pytest.mark.live
def test_live_la_rochelle(live_context: Any) -> None:
    params = IgnTerritoriesParams(
        territory="epci:241700434", layers="ADMINEXPRESS-COG-CARTO.LATEST"
    )
    items = list(connector.run(params, live_context))
    communes = [i for i in items if isinstance(i, TerritoryRecord) and i.level == "commune"]
    assert len(communes) == 28
    assert any(i.code == "epci:241700434" for i in items if isinstance(i, TerritoryRecord))
