"""The home page: search, the instance territory's figures and chart, the latest datasets."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from datahub.carbon import service as carbon
from datahub.catalog import service as catalog
from datahub.errors import NotFound
from datahub.settings import Settings
from datahub.territories import service as territories
from datahub.web import figures, organisations
from datahub.web.deps import context, page_caller, runtime_of, unit_of_work
from datahub.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute)
LATEST = 6


def home_territory(session: Session, settings: Settings) -> str | None:
    """The instance's territory: the setting, else the first EPCI, département or region."""
    if settings.territory:
        return settings.territory
    for level in ("epci", "departement", "region"):
        reads, _total, _rows = territories.list_page(
            session, level=level, parent=None, page=1, page_size=1
        )
        if reads:
            return reads[0].code
    return None


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def json_index() -> dict[str, Any]:
    return {
        "name": "datahub",
        "links": {
            "api": "/api/v1",
            "openapi": "/openapi.json",
            "docs": "/docs",
            "datasets": "/datasets",
            "dcat": "/api/v1/catalog/dcat",
            "login": "/login",
        },
    }


@router.get("/", name="web_home")
def home(request: Request) -> Response:
    if _wants_json(request):
        return JSONResponse(json_index())
    caller = page_caller(request)
    runtime = runtime_of(request)
    ctx = context(request, caller)
    page: dict[str, Any] = {"territory": None, "figures": None}
    with unit_of_work(runtime) as session:
        code = home_territory(session, runtime.settings)
        if code is not None:
            try:
                territory = territories.read_many(session, [territories.get(session, code)])[0]
                trajectory = carbon.territory_trajectory(
                    session,
                    runtime.licences,
                    runtime.settings,
                    ctx,
                    code,
                    carbon.TrajectoryParams(),
                )
                page["territory"] = territory
                page["figures"] = figures.key_figures(trajectory.read, territory.population)
            except NotFound:
                pass
        latest, total = catalog.search(
            session, runtime.licences, caller, catalog.SearchFilters(), page=1, page_size=LATEST
        )
        page["names"] = organisations.names(session)
    return render(request, caller, "home.html", {**page, "latest": latest, "total": total})
