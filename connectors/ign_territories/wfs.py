"""A small reader for the IGN Géoplateforme WFS (GeoServer, WFS 2.0.0), shared by IGN connectors.

Pitfalls handled here (research note connectors.md §1.1): errors come back as XML
ExceptionReports whatever output format was asked; paging is ``startIndex``/``count`` and must
go to the end (a server cap per request is likely); long CQL filters are POSTed as a form body
with the other parameters in the query string, as the recorded requests do.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
from defusedxml import ElementTree

from datahub.ingest.contract import FatalConnectorError, RetriableConnectorError, raise_for_upstream

WFS_URL = "https://data.geopf.fr/wfs/ows"
DEFAULT_PAGE_SIZE = 1000

Feature = dict[str, Any]


def quote_cql(value: str) -> str:
    """A CQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def cql_in(field: str, values: list[str]) -> str:
    return f"{field} IN ({', '.join(quote_cql(v) for v in sorted(set(values)))})"


def _exception_text(body: bytes) -> str:
    try:
        root = ElementTree.fromstring(body)
    except (ElementTree.ParseError, ValueError):
        return body[:300].decode("utf-8", "replace").strip()
    texts = [el.text.strip() for el in root.iter() if el.tag.endswith("ExceptionText") and el.text]
    return "; ".join(texts) or body[:300].decode("utf-8", "replace").strip()


class WfsReader:
    """Pages through GetFeature answers; remembers the first-page URL of every query."""

    def __init__(self, client: httpx.Client, *, page_size: int = DEFAULT_PAGE_SIZE) -> None:
        self._client = client
        self._page_size = page_size
        self.urls_used: list[str] = []

    def _page(self, params: dict[str, str], cql_filter: str | None) -> tuple[dict[str, Any], str]:
        if cql_filter is None:
            response = self._client.get(WFS_URL, params=params)
        else:
            response = self._client.post(WFS_URL, params=params, data={"cql_filter": cql_filter})
        content_type = response.headers.get("content-type", "")
        if "xml" in content_type:
            message = f"WFS {params.get('typeName')}: {_exception_text(response.content)}"
            if response.status_code >= 500:
                raise RetriableConnectorError(message)
            raise FatalConnectorError(message)
        raise_for_upstream(response)
        try:
            payload = response.json()
        except ValueError as exc:
            raise FatalConnectorError(f"WFS {params.get('typeName')}: answer is not JSON") from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("features"), list):
            raise FatalConnectorError(f"WFS {params.get('typeName')}: not a FeatureCollection")
        return payload, str(response.request.url)

    def features(
        self,
        type_name: str,
        *,
        cql_filter: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        bbox_crs: str = "EPSG:2154",
        srs_name: str = "EPSG:4326",
        property_names: list[str] | None = None,
    ) -> Iterator[Feature]:
        """Every feature of ``type_name`` matching the filter, page after page to the end.

        ``bbox`` is given in ``bbox_crs`` axis order; prefer a projected CRS (EPSG:2154 is
        x, y) to dodge the EPSG:4326 lat/lon ambiguity. GeoServer forbids BBOX with CQL.
        """
        if bbox is not None and cql_filter is not None:
            raise ValueError("the WFS does not combine BBOX and CQL_FILTER")
        start = 0
        first = True
        while True:
            params = {
                "service": "WFS",
                "version": "2.0.0",
                "request": "GetFeature",
                "outputFormat": "json",
                "srsName": srs_name,
                "typeName": type_name,
                "startindex": str(start),
                "count": str(self._page_size),
            }
            if bbox is not None:
                params["bbox"] = ",".join(f"{v:.3f}" for v in bbox) + f",{bbox_crs}"
            if property_names:
                params["propertyName"] = ",".join(property_names)
            payload, url = self._page(params, cql_filter)
            if first:
                self.urls_used.append(url)
                first = False
            features: list[Feature] = payload["features"]
            yield from features
            start += len(features)
            matched = payload.get("numberMatched")
            if not features:
                return
            if isinstance(matched, int):
                if start >= matched:
                    return
            elif len(features) < self._page_size:
                return
