"""A replay of the IGN WFS for ``datahub demo``'s outlines, from the recorded Penmarch answer.

The only recorded GetFeature is Penmarch (29158). Its feature is reused for demo communes: the
attributes that place it (``code_insee``, ``codes_siren_des_epci``) are set to the commune's,
and its outline is moved by whole degrees so that each copy lies apart from the others. The
EPCI, département and région layers answer an empty collection (the recorded empty answer):
only communes get an outline.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx

from tests.paths import TEST_DATA

RECORDED = TEST_DATA / "connectors" / "ign_wfs"
JSON = {"content-type": "application/json;charset=UTF-8"}


def _moved(geometry: dict[str, Any], east: float) -> dict[str, Any]:
    moved = copy.deepcopy(geometry)
    for polygon in moved["coordinates"]:
        for ring in polygon:
            for point in ring:
                point[0] += east
    return moved


def ign_transport(communes: list[str], epci: str = "241700434") -> httpx.MockTransport:
    """Answers the commune layer with one Penmarch copy per INSEE code in ``communes``."""
    recorded = json.loads((RECORDED / "getfeature_commune_cql_penmarch.geojson").read_text())
    empty = (RECORDED / "getfeature_commune_empty.json").read_bytes()
    penmarch = recorded["features"][0]
    features = []
    for index, code in enumerate(communes):
        feature = copy.deepcopy(penmarch)
        feature["properties"].update(code_insee=code, codes_siren_des_epci=epci)
        feature["geometry"] = _moved(penmarch["geometry"], 0.2 * index)
        features.append(feature)
    body = {**recorded, "features": features, "numberMatched": len(features),
            "numberReturned": len(features), "totalFeatures": len(features)}  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "data.geopf.fr"
        layer = request.url.params["typeName"]
        if layer.endswith(":commune"):
            return httpx.Response(200, headers=JSON, content=json.dumps(body).encode())
        return httpx.Response(200, headers=JSON, content=empty)

    return httpx.MockTransport(handler)
