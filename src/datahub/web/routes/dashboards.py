"""Dashboards of a territory, of a sector in a territory, and of an actor."""

from __future__ import annotations

from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from datahub.accounts.caller import Caller, RequestContext
from datahub.carbon import plans
from datahub.carbon import service as carbon
from datahub.carbon.sectors import SECTOR_LABELS_FR
from datahub.carbon.steering import REFERENCE_KIND
from datahub.catalog import service as catalog
from datahub.runtime import Runtime
from datahub.territories import service as territories
from datahub.territories.codes import rank
from datahub.territories.schemas import TerritoryRead
from datahub.web import choropleth, figures, forms, map_memo, organisations, steering
from datahub.web.deps import context, page_caller, runtime_of, unit_of_work
from datahub.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute)
#: Beyond this many territories inside, the dashboard lists them without figures or map.
MAP_MAX: Final = 100


def _page(
    trajectory: carbon.Trajectory,
    population: int | None,
    api: str,
    names: dict[str, str],
) -> dict[str, Any]:
    read = trajectory.read
    keys = figures.sector_keys(read)
    return {
        "attributions": [organisations.attribution(s.attribution, names) for s in read.sources],
        "budget": read.budget,
        "scenario": read.scenario,
        "scenario_rows": steering.scenario_rows(read),
        "reference_rows": steering.reference_rows(read),
        "percent": steering.percent,
        "figures": figures.key_figures(read, population),
        "years": figures.year_rows(read),
        "breakdown": [(p.year, [p.breakdown.get(k) for k in keys]) for p in read.series],
        "keys": keys,
        "withheld": figures.withheld(read),
        "sources": read.sources,
        "api": api,
        "joiner": "&" if "?" in api else "?",
    }


def _references(session: Session, runtime: Runtime, caller: Caller) -> list[tuple[str, str]]:
    """The reference trajectories the caller may read (the choice offered to compare with)."""
    found, _total = catalog.search(
        session,
        runtime.licences,
        caller,
        catalog.SearchFilters(kind=REFERENCE_KIND),
        page=1,
        page_size=100,
    )
    return [(d.id, d.title) for d in found if d.access.data]


def _map(
    session: Session,
    runtime: Runtime,
    ctx: RequestContext,
    code: str,
    year: int | None,
    metric: choropleth.Metric,
    memo: map_memo.NetsMemo,
) -> tuple[choropleth.Choropleth | None, str | None, list[TerritoryRead]]:
    """The territories inside at the level just below (EPCI in a département, communes in an
    EPCI), each with its net as its own trajectory shows it to this caller; the others listed."""
    reads, total, rows = territories.list_page(
        session, level=None, parent=code, page=1, page_size=MAP_MAX + 1
    )
    if not reads or total > MAP_MAX:
        return None, None, reads
    level = max((r.level for r in reads), key=rank)
    places = [
        choropleth.Place(r.code, r.name, r.population, territories.area_km2(t), r.has_geometry)
        for r, t in zip(reads, rows, strict=True)
        if r.level == level
    ]
    codes = [place.code for place in places]
    nets = memo.get_or_compute(
        map_memo.key_of(session, runtime, ctx.caller, codes, year),
        lambda: {
            code: choropleth.year_net(
                carbon.territory_trajectory(
                    session,
                    runtime.licences,
                    runtime.settings,
                    ctx,
                    code,
                    carbon.TrajectoryParams(),
                ).read,
                year,
            )
            for code in codes
        },
    )
    others = [r for r in reads if r.level != level]
    return choropleth.build(places, nets, year, metric), level, others


@router.get("/territories/{code}", name="web_territory")
def territory(
    request: Request,
    code: str,
    carte: choropleth.Metric = "habitant",
    reference: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    caller = page_caller(request)
    runtime = runtime_of(request)
    ctx = context(request, caller)
    chosen = forms.clean(reference)
    with unit_of_work(runtime) as session:
        place = territories.read_many(session, [territories.get(session, code)])[0]
        has_plan = plans.latest(session, code) is not None
        params = carbon.TrajectoryParams(reference=chosen, scenario="plan" if has_plan else None)
        trajectory = carbon.territory_trajectory(
            session, runtime.licences, runtime.settings, ctx, code, params
        )
        year = figures.latest_year(trajectory.read)
        shown, level, others = _map(
            session, runtime, ctx, code, year, carte, request.app.state.map_memo
        )
        references = _references(session, runtime, caller)
        names = organisations.names(session)
    query = {k: v for k, v in (("scenario", params.scenario), ("reference", chosen)) if v}
    api = f"/api/v1/territories/{code}/trajectory" + (f"?{urlencode(query)}" if query else "")
    return render(
        request,
        caller,
        "dashboard.html",
        {
            **_page(trajectory, place.population, api, names),
            "place": place,
            "choropleth": shown,
            "map_level": level,
            "metrics": choropleth.METRICS,
            "inside": others,
            "references": references,
            "reference": chosen,
            "tiles": runtime.settings.map_tiles_url,
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
        names = organisations.names(session)
    api = f"/api/v1/sectors/{sector}/trajectory?" + urlencode({"territory": territory})
    label = SECTOR_LABELS_FR.get(sector, sector)  # type: ignore[call-overload]
    return render(
        request,
        caller,
        "dashboard.html",
        {
            **_page(trajectory, None, api, names),
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
        names = organisations.names(session)
    page = _page(trajectory, None, f"/api/v1/actors/{actor_id}/trajectory", names)
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
