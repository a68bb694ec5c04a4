"""ign-land-cover: hectares per land use and commune, CLC grouped as ALDO, forests from BD Forêt.

The commune is the recorded Penmarch answer (real outline). No CLC or BD Forêt GetFeature was
ever recorded, so those answers are synthetic (tests/ingest/fixtures/*_synthetic.geojson): the
recorded WFS envelope, EPSG:2154 rectangles, and the attributes of the published layers
(``code_18`` for CLC 2018, ``code_tfv`` for BD Forêt v2).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from connectors.ign_land_cover import (
    IgnLandCoverParams,
    area_by_land_use,
    clc_land_use,
    connector,
    is_forest_formation,
)
from shapely.geometry import box

from datahub.ingest.contract import ProducedVersion

JSON = {"content-type": "application/json;charset=UTF-8"}


def test_area_by_land_use_hand_computed() -> None:
    # Two 1 km × 1 km communes (100 ha each) side by side, in Lambert-93 metres.
    communes = {"commune:A": box(0, 0, 1000, 1000), "commune:B": box(1000, 0, 2000, 1000)}
    polygons = [
        ("cropland", box(0, 0, 600, 1000)),  # 600 m × 1000 m inside A = 60 ha
        ("artificial", box(600, 0, 1500, 1000)),  # 400 m in A = 40 ha, 500 m in B = 50 ha
        ("forest", box(100, 100, 300, 600)),  # 200 m × 500 m in A = 10 ha
        ("wetland", box(5000, 5000, 6000, 6000)),  # touches neither commune
    ]
    areas = area_by_land_use(communes, polygons)
    assert dict(areas) == pytest.approx(
        {
            ("commune:A", "cropland"): 60.0,
            ("commune:A", "artificial"): 40.0,
            ("commune:A", "forest"): 10.0,
            ("commune:B", "artificial"): 50.0,
        }
    )


def test_clc_codes_grouped_as_aldo() -> None:
    assert clc_land_use("211") == "cropland"
    assert clc_land_use(242) == "cropland"
    assert clc_land_use("231") == "grassland"
    assert clc_land_use("221") == "vineyard"
    assert clc_land_use("222") == "orchard"
    assert clc_land_use("112") == "artificial"
    assert clc_land_use("324") == "forest"
    assert clc_land_use("411") == "wetland"
    assert clc_land_use("512") == "wetland"  # ALDO "zones humides" include water bodies
    assert clc_land_use("331") is None  # beaches: no ALDO category
    assert clc_land_use(None) is None
    assert is_forest_formation("FF1-00-00")
    assert is_forest_formation("FP")
    assert not is_forest_formation("LA4")


def test_penmarch_land_use_from_wfs(
    make_run: Callable[..., Any], recorded: Path, local_fixtures: Path
) -> None:
    answers = {
        "LIMITES_ADMINISTRATIVES_EXPRESS.LATEST:commune": recorded
        / "ign_wfs/getfeature_commune_cql_penmarch.geojson",
        "LANDCOVER.CLC18_FR:clc18_fr": local_fixtures
        / "ign_wfs_clc18_fr_penmarch_synthetic.geojson",
        "LANDCOVER.FORESTINVENTORY.V2:formation_vegetale": local_fixtures
        / "ign_wfs_formation_vegetale_penmarch_synthetic.geojson",
    }

    def handler(request: httpx.Request) -> httpx.Response:
        path = answers[request.url.params["typeName"]]
        return httpx.Response(200, headers=JSON, content=path.read_bytes())

    run = make_run(handler)
    params = IgnLandCoverParams(
        territory="commune:29158", admin_layers="LIMITES_ADMINISTRATIVES_EXPRESS.LATEST"
    )
    (version,) = list(connector.run(params, run.context))
    assert isinstance(version, ProducedVersion)
    assert version.dataset_id == "land-use-clc-2018-commune-29158"
    assert version.kind == "land_use"
    assert version.licence == "etalab-2.0"
    assert version.media_type == "text/csv"
    assert version.territories == ["commune:29158"]
    assert version.provenance.retrieved_at == datetime(2025, 6, 25, 16, 0, tzinfo=UTC)
    assert len(version.provenance.source_urls) == 3

    rows = list(csv.DictReader(io.StringIO(version.content.decode())))
    assert {r["year"] for r in rows} == {"2018"}
    area = {r["land_use"]: float(r["area_ha"]) for r in rows if r["territory"] == "commune:29158"}
    # BD Forêt: one 100 m × 100 m closed forest inside Penmarch = 1 ha; the heath (LA4) does not
    # count, and the CLC 311 square is dropped because forests come from BD Forêt (as in ALDO).
    assert area["forest"] == 1.0
    # The two CLC rectangles tile the whole commune, west cropland, east artificial: together
    # they must give the commune's area. IGN's cadastral area is 1640 ha; the Lambert-93 area of
    # the outline is within 1 % of it — a check on the lon/lat → EPSG:2154 projection.
    assert set(area) == {"forest", "cropland", "artificial"}
    assert area["cropland"] > 0
    assert area["artificial"] > 0
    assert (area["cropland"] + area["artificial"]) == pytest.approx(1640, rel=0.02)

    # CLC and BD Forêt are read by bounding box in EPSG:2154 (x, y: no axis ambiguity).
    clc_request = next(r for r in run.requests if "CLC18" in r.url.params["typeName"])
    assert clc_request.method == "GET"
    assert clc_request.url.params["srsName"] == "EPSG:2154"
    xmin, ymin, xmax, ymax, crs = clc_request.url.params["bbox"].split(",")
    assert crs == "EPSG:2154"
    assert 148_000 < float(xmin) < float(xmax) < 155_000
    assert 6_769_000 < float(ymin) < float(ymax) < 6_774_000


def test_forests_from_clc_when_bd_foret_is_off(
    make_run: Callable[..., Any], recorded: Path, local_fixtures: Path
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "CLC18" in request.url.params["typeName"]:
            path = local_fixtures / "ign_wfs_clc18_fr_penmarch_synthetic.geojson"
        else:
            path = recorded / "ign_wfs/getfeature_commune_cql_penmarch.geojson"
        return httpx.Response(200, headers=JSON, content=path.read_bytes())

    run = make_run(handler)
    params = IgnLandCoverParams(
        territory="commune:29158",
        admin_layers="LIMITES_ADMINISTRATIVES_EXPRESS.LATEST",
        forest_layer=None,
    )
    (version,) = list(connector.run(params, run.context))
    assert isinstance(version, ProducedVersion)
    rows = list(csv.DictReader(io.StringIO(version.content.decode())))
    forest = [float(r["area_ha"]) for r in rows if r["land_use"] == "forest"]
    # The CLC 311 square is 1 km² = 100 ha, of which only the part inside Penmarch counts.
    assert len(forest) == 1
    assert 0 < forest[0] <= 100
    assert not any("formation_vegetale" in r.url.params["typeName"] for r in run.requests)


@pytest.mark.live
def test_live_la_rochelle_commune(live_context: Any) -> None:
    params = IgnLandCoverParams(territory="commune:17300")
    (version,) = list(connector.run(params, live_context))
    assert isinstance(version, ProducedVersion)
    rows = list(csv.DictReader(io.StringIO(version.content.decode())))
    assert any(r["land_use"] == "artificial" for r in rows)
