"""Dashboards of a territory, of a sector in a territory, and of an actor."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response

from datahub.carbon import service as carbon
from datahub.carbon.sectors import SECTOR_LABELS_FR
from datahub.territories import service as territories
from datahub.web import figures
from datahub.web.deps import context, page_caller, runtime_of, unit_of_work
from datahub.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute)


def _page(trajectory: carbon.Trajectory, population: int | None, api: str) -> dict[str, Any]:
    read = trajectory.read
    keys = figures.sector_keys(read)
    return {
        "figures": figures.key_figures(read, population),
        "years": figures.year_rows(read),
        "breakdown": [(p.year, [p.breakdown.get(k) for k in keys]) for p in read.series],
        "keys": keys,
        "withheld": figures.withheld(read),
        "sources": read.sources,
        "api": api,
        "joiner": "&" if "?" in api else "?",
    }


@router.get("/territories/{code}", name="web_territory")
def territory(request: Request, code: str) -> Response:
    caller = page_caller(request)
    runtime = runtime_of(request)
    ctx = context(request, caller)
    with unit_of_work(runtime) as session:
        place = territories.read_many(session, [territories.get(session, code)])[0]
        trajectory = carbon.territory_trajectory(
            session, runtime.licences, runtime.settings, ctx, code, carbon.TrajectoryParams()
        )
        inside, _total, _rows = territories.list_page(
            session, level=None, parent=code, page=1, page_size=200
        )
    page = _page(trajectory, place.population, f"/api/v1/territories/{code}/trajectory")
    return render(
        request,
        caller,
        "dashboard.html",
        {
            **page,
            "place": place,
            "inside": inside,
            "title": place.name,
            "sectors": SECTOR_LABELS_FR,
        },
    )


@router.get("/sectors/{sector}", name="web_sector")
def sector(
    request: Request, sector: str, territory: Annotated[str, Query(max_length=64)]
) -> Response:
    caller = page_caller(request)
    runtime = runtime_of(request)
    ctx = context(request, caller)
    with unit_of_work(runtime) as session:
        place = territories.read_many(session, [territories.get(session, territory)])[0]
        trajectory = carbon.sector_trajectory(
            session,
            runtime.licences,
            runtime.settings,
            ctx,
            sector,
            territory,
            carbon.TrajectoryParams(),
        )
    api = f"/api/v1/sectors/{sector}/trajectory?" + urlencode({"territory": territory})
    label = SECTOR_LABELS_FR.get(sector, sector)  # type: ignore[call-overload]
    return render(
        request,
        caller,
        "dashboard.html",
        {
            **_page(trajectory, None, api),
            "place": place,
            "inside": [],
            "title": f"{label} — {place.name}",
            "sector": sector,
            "sectors": SECTOR_LABELS_FR,
        },
    )


@router.get("/actors/{actor_id}", name="web_actor")
def actor(request: Request, actor_id: str) -> Response:
    caller = page_caller(request)
    runtime = runtime_of(request)
    ctx = context(request, caller)
    with unit_of_work(runtime) as session:
        found = territories.actor_read(territories.get_actor(session, actor_id))
        trajectory = carbon.actor_trajectory(
            session, runtime.licences, runtime.settings, ctx, actor_id, carbon.TrajectoryParams()
        )
    page = _page(trajectory, None, f"/api/v1/actors/{actor_id}/trajectory")
    return render(
        request,
        caller,
        "dashboard.html",
        {
            **page,
            "place": None,
            "actor": found,
            "inside": [],
            "title": found.name,
            "sectors": SECTOR_LABELS_FR,
        },
    )
