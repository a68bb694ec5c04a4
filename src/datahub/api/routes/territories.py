"""Territories: communes, EPCI, départements, regions, country, with their hierarchy."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import JSONResponse

from datahub.api.deps import AdminDep, SessionDep
from datahub.api.formats import Negotiated, formats
from datahub.api.pagination import Page, PageDep, envelope
from datahub.territories import service
from datahub.territories.codes import Level
from datahub.territories.schemas import TerritoryCreate, TerritoryRead

router = APIRouter(prefix="/territories", tags=["territories"])
GEOJSON = "application/geo+json"
FormatParam = Annotated[Negotiated, Depends(formats("json", "geojson"))]


@router.get(
    "",
    summary="List territories (GeoJSON with ?format=geojson)",
    response_model=Page[TerritoryRead],
    responses={200: {"content": {GEOJSON: {}}}},
)
def list_territories(
    request: Request,
    session: SessionDep,
    page: PageDep,
    fmt: FormatParam,
    level: Level | None = None,
    parent: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    reads, total, rows = service.list_page(
        session, level=level, parent=parent, page=page.page, page_size=page.page_size
    )
    if fmt.name == "geojson":
        # The same pages and next link as the JSON list: no silent truncation.
        paged = envelope(request, reads, total, page)
        body = {
            "type": "FeatureCollection",
            "features": [service.feature(r, t) for r, t in zip(reads, rows, strict=True)],
            "numberMatched": total,
            "numberReturned": len(reads),
            "links": paged["links"],
        }
        return JSONResponse(body, media_type=GEOJSON)
    return envelope(request, reads, total, page)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a territory (admin)")
def create_territory(data: TerritoryCreate, session: SessionDep, _admin: AdminDep) -> TerritoryRead:
    territory = service.upsert(session, data)
    return service.read_many(session, [territory])[0]


@router.get(
    "/{code}",
    summary="One territory (a GeoJSON Feature with ?format=geojson)",
    responses={200: {"content": {GEOJSON: {}}}},
)
def get_territory(code: str, session: SessionDep, fmt: FormatParam) -> Any:
    territory = service.get(session, code)
    read = service.read_many(session, [territory])[0]
    if fmt.name == "geojson":
        return JSONResponse(service.feature(read, territory), media_type=GEOJSON)
    return read
