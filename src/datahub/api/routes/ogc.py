"""OGC API - Features (Part 1: Core, GeoJSON, OpenAPI 3.0) for GIS clients: GDAL, QGIS.

Two collections: ``territories`` (their outlines) and ``emissions`` (one feature per territory:
its outline and one year's emissions, sequestration, net and sectors). The emissions are the
carbon service's trajectories, with the same caller, secrecy and audit as
``/territories/{code}/trajectory``: a withheld figure is null here too. Pages are by offset
(``limit``, ``offset``) with ``next`` links; ``bbox`` keeps the territories whose bounding box
meets it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from datahub.api.deps import ContextDep, LicencesDep, SessionDep, SettingsDep
from datahub.carbon import service as carbon
from datahub.errors import FieldError, NotFound, ValidationFailed
from datahub.territories import service as territories
from datahub.territories.codes import Level
from datahub.vocabulary import EMISSION_SECTORS

router = APIRouter(prefix="/ogc", tags=["ogc-features"])

GEOJSON: Final = "application/geo+json"
CONFORMANCE: Final = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
CRS84: Final = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
COLLECTIONS: Final = {
    "territories": ("Territoires", "Communes, EPCI, départements, régions et leurs contours."),
    "emissions": (
        "Émissions de GES par territoire",
        "Une entité par territoire : émissions, séquestration, solde net (tCO2e) et secteurs "
        "d'une année, avec le secret statistique des trajectoires.",
    ),
}
MAX_LIMIT: Final = {"territories": 1000, "emissions": 100}
FRANCE: Final = [-61.9, -21.4, 55.9, 51.1]  # metropolitan and overseas France, WGS84

LimitQuery = Annotated[int, Query(ge=1, le=1000, description="Features per page")]
OffsetQuery = Annotated[int, Query(ge=0, le=10_000_000, description="Features to skip")]
BboxQuery = Annotated[
    str | None, Query(max_length=200, description="west,south,east,north (WGS84 lon/lat)")
]


def _json(body: dict[str, Any], media_type: str = "application/json") -> JSONResponse:
    return JSONResponse(body, media_type=media_type)


def _link(href: str, rel: str, media: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": media}
    if title:
        link["title"] = title
    return link


@router.get("", summary="OGC API - Features landing page", operation_id="ogc_landing")
def landing(request: Request) -> JSONResponse:
    base = str(request.url_for("landing"))
    root = str(request.base_url).rstrip("/")
    return _json(
        {
            "title": "datahub — OGC API Features",
            "description": "Territoires et émissions de gaz à effet de serre.",
            "links": [
                _link(base, "self", "application/json"),
                _link(
                    f"{root}/openapi.json",
                    "service-desc",
                    "application/vnd.oai.openapi+json;version=3.0",
                ),
                _link(f"{root}/docs", "service-doc", "text/html"),
                _link(f"{base}/conformance", "conformance", "application/json"),
                _link(f"{base}/collections", "data", "application/json"),
            ],
        }
    )


@router.get("/conformance", summary="Conformance classes", operation_id="ogc_conformance")
def conformance() -> JSONResponse:
    return _json({"conformsTo": CONFORMANCE})


def _collection(request: Request, name: str) -> dict[str, Any]:
    title, description = COLLECTIONS[name]
    url = str(request.url_for("collection", collection=name))
    return {
        "id": name,
        "title": title,
        "description": description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [FRANCE], "crs": CRS84}},
        "links": [
            _link(url, "self", "application/json"),
            _link(f"{url}/items", "items", GEOJSON, title),
        ],
    }


@router.get("/collections", summary="The feature collections", operation_id="ogc_collections")
def collections(request: Request) -> JSONResponse:
    url = str(request.url_for("collections"))
    return _json(
        {
            "links": [_link(url, "self", "application/json")],
            "collections": [_collection(request, name) for name in COLLECTIONS],
        }
    )


def _known(collection: str) -> str:
    if collection not in COLLECTIONS:
        raise NotFound(f"no collection {collection[:40]!r}; see /ogc/collections")
    return collection


@router.get(
    "/collections/{collection}", summary="One feature collection", operation_id="ogc_collection"
)
def collection(collection: str, request: Request) -> JSONResponse:
    return _json(_collection(request, _known(collection)))


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        west, south, east, north = (float(part) for part in text.split(","))
    except ValueError:
        raise ValidationFailed(
            "bbox is west,south,east,north",
            errors=[FieldError(None, "bbox", "four numbers: west,south,east,north")],
        ) from None
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise ValidationFailed(
            "bbox out of range",
            errors=[FieldError(None, "bbox", "WGS84 lon/lat with west <= east, south <= north")],
        )
    return west, south, east, north


def _emissions(call: carbon.Trajectory, year: int | None) -> dict[str, Any]:
    read = call.read
    observed = [p for p in read.series if not p.interpolated]
    point = next(
        (p for p in reversed(observed) if year is None or p.year == year),
        None,
    )
    properties: dict[str, Any] = {
        "year": year,
        "emissions": None,
        "sequestration": None,
        "net": None,
    }
    properties.update(dict.fromkeys(EMISSION_SECTORS))
    if point is None:
        return properties
    properties.update(
        year=point.year,
        emissions=point.emissions,
        sequestration=point.sequestration,
        net=point.net,
    )
    for sector in EMISSION_SECTORS:
        properties[sector] = point.breakdown.get(sector)
    properties["withheld"] = ",".join(
        sorted(w.key or "total" for w in read.withheld if w.year == point.year)
    )
    return properties


@router.get(
    "/collections/{collection}/items",
    summary="Features of a collection (GeoJSON), paged with next links",
    operation_id="ogc_items",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {"schema": {"type": "object"}}}}},
)
def items(
    collection: str,
    request: Request,
    session: SessionDep,
    licences: LicencesDep,
    settings: SettingsDep,
    ctx: ContextDep,
    limit: LimitQuery = 10,
    offset: OffsetQuery = 0,
    bbox: BboxQuery = None,
    level: Level | None = None,
    parent: Annotated[str | None, Query(max_length=64)] = None,
    year: Annotated[
        int | None,
        Query(ge=1900, le=2100, description="emissions: the year (default: the latest observed)"),
    ] = None,
) -> JSONResponse:
    name = _known(collection)
    limit = min(limit, MAX_LIMIT[name])
    box = parse_bbox(bbox)
    reads, matched, rows = territories.list_window(
        session, level=level, parent=parent, bbox=box, offset=offset, limit=limit
    )
    features = []
    for read, territory in zip(reads, rows, strict=True):
        feature = territories.feature(read, territory)
        if name == "emissions":
            trajectory = carbon.territory_trajectory(
                session, licences, settings, ctx, read.code, carbon.TrajectoryParams()
            )
            feature["properties"] = {
                "code": read.code,
                "name": read.name,
                "level": read.level,
                **_emissions(trajectory, year),
            }
        features.append(feature)
    self_url = str(request.url)
    links = [_link(self_url, "self", GEOJSON)]
    if offset + len(features) < matched:
        following = request.url.include_query_params(offset=offset + limit, limit=limit)
        links.append(_link(str(following), "next", GEOJSON, "page suivante"))
    body = {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": matched,
        "numberReturned": len(features),
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
    }
    return _json(body, GEOJSON)


@router.get(
    "/collections/{collection}/items/{feature_id}",
    summary="One feature (GeoJSON)",
    operation_id="ogc_feature",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {"schema": {"type": "object"}}}}},
)
def feature(
    collection: str,
    feature_id: str,
    session: SessionDep,
    licences: LicencesDep,
    settings: SettingsDep,
    ctx: ContextDep,
    year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
) -> JSONResponse:
    name = _known(collection)
    territory = territories.get(session, feature_id)
    read = territories.read_many(session, [territory])[0]
    body = territories.feature(read, territory)
    if name == "emissions":
        trajectory = carbon.territory_trajectory(
            session, licences, settings, ctx, read.code, carbon.TrajectoryParams()
        )
        body["properties"] = {
            "code": read.code,
            "name": read.name,
            "level": read.level,
            **_emissions(trajectory, year),
        }
    return _json(body, GEOJSON)
