"""Trajectories of a territory, of a sector in it, of an actor (JSON, CSV, XLSX, SVG), targets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from datahub.accounts.caller import RequestContext
from datahub.api import trajectory_cache
from datahub.api.cache import ResultCache
from datahub.api.charts import ChartRenderer
from datahub.api.deps import (
    ContextDep,
    LicencesDep,
    RuntimeDep,
    SessionDep,
    SettingsDep,
)
from datahub.api.formats import Negotiated, formats
from datahub.api.header_values import content_disposition, header_text
from datahub.api.trajectory_cache import Rendered
from datahub.carbon import chart, service
from datahub.carbon.schemas import (
    Approach,
    Basis,
    By,
    TargetRead,
    TargetWrite,
    TrajectoryRead,
)
from datahub.carbon.units import GwpSet
from datahub.catalog import xlsx_writer
from datahub.catalog.csv_writer import iter_csv_rows
from datahub.licensing.registry import LicenceRegistry
from datahub.settings import Settings

router = APIRouter(tags=["trajectories"])

CSV_COLUMNS = ("year", "key", "value", "interpolated", "withheld")
_FORMATS = {
    200: {
        "content": {
            "application/json": {},
            "text/csv": {"schema": {"type": "string"}},
            "image/svg+xml": {"schema": {"type": "string"}},
            "image/png": {"schema": {"type": "string", "format": "binary"}},
            xlsx_writer.MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
        "description": 'The trajectory; CSV, XLSX and SVG carry `Link: <licence>; rel="license"`.',
    }
}


def trajectory_params(
    year_from: Annotated[
        int | None, Query(alias="from", ge=1900, le=2100, description="First year shown.")
    ] = None,
    year_to: Annotated[
        int | None, Query(alias="to", ge=1900, le=2100, description="Last year shown.")
    ] = None,
    by: Annotated[By, Query(description="Breakdown of each year.")] = "sector",
    basis: Annotated[
        Basis,
        Query(description="inventory: rows naming no actor; actors: rows of actors located here."),
    ] = "inventory",
    approach: Annotated[
        Approach, Query(description="territorial (PCAET inventory) or footprint; never summed.")
    ] = "territorial",
    gwp: Annotated[
        GwpSet | None, Query(description="GWP-100 set for gas masses (default: the instance's).")
    ] = None,
    climate_corrected: Annotated[
        bool, Query(description="Scale heating-sensitive sectors by heating degree days.")
    ] = False,
    interpolate: Annotated[
        bool, Query(description="Fill the years between observations linearly (marked).")
    ] = False,
    reference: Annotated[
        str | None,
        Query(
            max_length=200,
            description="A `reference_trajectory` dataset id: adds `reference` (per year and "
            "sector) and the observed gap to it (territory and sector trajectories).",
        ),
    ] = None,
    scenario: Annotated[
        Literal["plan"] | None,
        Query(
            description="`plan`: adds `scenario`, the trend from the last observed year minus "
            "the territory plan's ramped action effects, up to the target year."
        ),
    ] = None,
    coverage: Annotated[
        bool,
        Query(
            description="Add `coverage`: the actors' bottom-up total over the inventory, per "
            "year and sector, where both are shown (territory and sector trajectories)."
        ),
    ] = False,
) -> service.TrajectoryParams:
    return service.TrajectoryParams(
        year_from=year_from,
        year_to=year_to,
        by=by,
        basis=basis,
        approach=approach,
        gwp=gwp,
        climate_corrected=climate_corrected,
        interpolate=interpolate,
        reference=reference,
        scenario=scenario,
        coverage=coverage,
    )


ParamsDep = Annotated[service.TrajectoryParams, Depends(trajectory_params)]
TrajectoryFormat = Annotated[Negotiated, Depends(formats("json", "csv", "svg", "png", "xlsx"))]


def _licence_headers(trajectory: service.Trajectory) -> dict[str, str]:
    if not trajectory.licences:
        return {}
    attributions = "; ".join(
        s.attribution for s in trajectory.read.sources if s.dataset is not None
    )
    return {
        "Link": ", ".join(f'<{licence.url}>; rel="license"' for licence in trajectory.licences),
        "X-Licence": ", ".join(licence.id for licence in trajectory.licences),
        "X-Attribution": header_text(attributions, 1000),
    }


def csv_rows(read: TrajectoryRead) -> Iterator[dict[str, Any]]:
    """One row per year and breakdown key, then the year's totals, target path and gap."""
    withheld = {(w.year, w.key): w.reason for w in read.withheld}
    target = {p.year: p.net for p in read.target.path} if read.target else {}
    gaps = {g.year: g.value for g in read.gap}
    for point in read.series:
        hidden = sorted(k for (y, k) in withheld if y == point.year and k is not None)
        for key in sorted({*point.breakdown, *hidden}):
            yield {
                "year": point.year,
                "key": key,
                "value": point.breakdown.get(key),
                "interpolated": point.interpolated,
                "withheld": withheld.get((point.year, key)),
            }
        total_reason = withheld.get((point.year, None))
        for key, value in (
            ("emissions", point.emissions),
            ("sequestration", point.sequestration),
            ("net", point.net),
        ):
            yield {
                "year": point.year,
                "key": key,
                "value": value,
                "interpolated": point.interpolated,
                "withheld": total_reason if value is None and key != "sequestration" else None,
            }
        if point.year in target:
            yield {"year": point.year, "key": "target", "value": target[point.year]}
        if point.year in gaps:
            yield {"year": point.year, "key": "gap", "value": gaps[point.year]}
    yield from steering_csv_rows(read)


def steering_csv_rows(read: TrajectoryRead) -> Iterator[dict[str, Any]]:
    """The reference (``reference:<key>``, ``reference_gap:<key>``), the scenario (``baseline``,
    ``scenario``, ``avoided``, ``avoided:<action>``, ``scenario_gap``) and the budget (no year,
    ``budget:<figure>``)."""
    for ref in read.reference.years if read.reference else ():
        for key, value in ref.values.items():
            yield {"year": ref.year, "key": f"reference:{key}", "value": value}
        for key, value in ref.gap.items():
            yield {"year": ref.year, "key": f"reference_gap:{key}", "value": value}
    for point in read.scenario.series if read.scenario else ():
        yield {"year": point.year, "key": "baseline", "value": point.baseline}
        yield {"year": point.year, "key": "scenario", "value": point.net}
        yield {"year": point.year, "key": "avoided", "value": point.avoided}
        for action, value in point.contributions.items():
            yield {"year": point.year, "key": f"avoided:{action}", "value": value}
        if point.gap is not None:
            yield {"year": point.year, "key": "scenario_gap", "value": point.gap}
    for name, value in read.budget.model_dump().items() if read.budget else ():
        if value is not None:
            yield {"year": None, "key": f"budget:{name}", "value": value}


def _render(
    trajectory: service.Trajectory,
    fmt: str,
    dialect: Literal["default", "fr"],
    name: str,
    charts: ChartRenderer,
) -> Rendered:
    headers = _licence_headers(trajectory)
    read = trajectory.read
    if fmt == "xlsx":
        body = b"".join(xlsx_writer.iter_xlsx(csv_rows(read), CSV_COLUMNS, title="trajectoire"))
        headers["Content-Disposition"] = content_disposition(f"{name}-trajectory.xlsx")
        return Rendered(body, xlsx_writer.MEDIA_TYPE, headers)
    if fmt == "csv":
        body = b"".join(iter_csv_rows(csv_rows(read), CSV_COLUMNS, dialect=dialect))
        headers["Content-Disposition"] = content_disposition(f"{name}-trajectory.csv")
        return Rendered(body, "text/csv; charset=utf-8", headers)
    if fmt in ("svg", "png"):
        body = charts.render(
            trajectory.result,
            subtitle=chart.subtitle_for(read.scope, trajectory.territory_name),
            captions=chart.captions_for(
                read, [lic.title for lic in trajectory.licences], trajectory.demo
            ),
            fmt="png" if fmt == "png" else "svg",
            scenario=read.scenario,
        )
        return Rendered(body, "image/png" if fmt == "png" else "image/svg+xml", headers)
    return Rendered(read.model_dump_json().encode("utf-8"), "application/json", headers)


@dataclass(frozen=True)
class TrajectoryCall:
    """What every trajectory route takes besides its scope, and how it answers."""

    session: Session
    licences: LicenceRegistry
    settings: Settings
    ctx: RequestContext
    params: service.TrajectoryParams
    format: str
    dialect: Literal["default", "fr"]
    cache: ResultCache
    charts: ChartRenderer
    if_none_match: str | None

    def answer(
        self, scope: service.Scope, name: str, compute: Callable[[], service.Trajectory]
    ) -> Response:
        """The rendered trajectory, from the cache when this view of the data was rendered
        before; 304 when the caller already holds it."""
        if self.params.reference is not None:
            # A reference dataset is authorised, read and audited on its own path: not cached.
            rendered = _render(compute(), self.format, self.dialect, name, self.charts)
            return Response(rendered.body, media_type=rendered.media_type, headers=rendered.headers)
        request = trajectory_cache.Request(scope, self.params, self.format, self.dialect)
        key = trajectory_cache.cache_key(
            self.session, self.licences, self.settings, self.ctx, request
        )
        entry, hit = trajectory_cache.cached_or_computed(
            self.cache,
            key,
            self.session,
            self.ctx,
            lambda: _render(compute(), self.format, self.dialect, name, self.charts),
        )
        etag = trajectory_cache.etag_of(key)
        headers = trajectory_cache.response_headers(entry, etag, hit)
        if trajectory_cache.matches(self.if_none_match, etag):
            return Response(status_code=304, headers=dict(headers))
        return Response(entry.body, media_type=entry.media_type, headers=dict(headers))


def trajectory_call(
    request: Request,
    session: SessionDep,
    licences: LicencesDep,
    settings: SettingsDep,
    ctx: ContextDep,
    params: ParamsDep,
    fmt: TrajectoryFormat,
    dialect: Literal["default", "fr"] = "default",
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> TrajectoryCall:
    state = request.app.state
    return TrajectoryCall(
        session,
        licences,
        settings,
        ctx,
        params,
        fmt.name,
        dialect,
        state.result_cache,
        state.charts,
        if_none_match,
    )


CallDep = Annotated[TrajectoryCall, Depends(trajectory_call)]


@router.get(
    "/territories/{code}/trajectory",
    summary="Trajectory of a territory (emissions, sequestration, net, target, projection)",
    response_model=TrajectoryRead,
    responses=_FORMATS,  # type: ignore[arg-type]
)
def territory_trajectory(code: str, call: CallDep) -> Any:
    return call.answer(
        service.Scope(territory=code),
        code.replace(":", "-"),
        lambda: service.territory_trajectory(
            call.session, call.licences, call.settings, call.ctx, code, call.params
        ),
    )


@router.get(
    "/sectors/{sector}/trajectory",
    summary="Trajectory of one sector in a territory",
    response_model=TrajectoryRead,
    responses=_FORMATS,  # type: ignore[arg-type]
)
def sector_trajectory(
    sector: str,
    territory: Annotated[str, Query(max_length=64, description="Territory code.")],
    call: CallDep,
) -> Any:
    return call.answer(
        service.Scope(territory=territory, sector=sector),
        f"{sector}-{territory.replace(':', '-')}",
        lambda: service.sector_trajectory(
            call.session, call.licences, call.settings, call.ctx, sector, territory, call.params
        ),
    )


@router.get(
    "/actors/{actor_id}/trajectory",
    summary="Trajectory of one actor (the rows naming it)",
    response_model=TrajectoryRead,
    responses=_FORMATS,  # type: ignore[arg-type]
)
def actor_trajectory(actor_id: str, call: CallDep) -> Any:
    return call.answer(
        service.Scope(actor=actor_id),
        f"actor-{actor_id}",
        lambda: service.actor_trajectory(
            call.session, call.licences, call.settings, call.ctx, actor_id, call.params
        ),
    )


@router.get("/territories/{code}/target", summary="The territory's carbon target")
def get_target(code: str, session: SessionDep) -> TargetRead:
    return service.get_target(session, code)


@router.put(
    "/territories/{code}/target",
    summary="Set the territory's carbon target (admin, or a producer of its organisation)",
    description="An exponential pathway (constant annual rate) cannot reach a net of 0: 422. "
    "The reference year's net is stored with the target (`reference_net`, or the net published "
    "now), so every caller gets the same target path.",
)
def put_target(
    code: str,
    data: TargetWrite,
    session: SessionDep,
    runtime: RuntimeDep,
    ctx: ContextDep,
) -> TargetRead:
    return service.put_target(session, runtime.licences, runtime.settings, ctx, code, data)
