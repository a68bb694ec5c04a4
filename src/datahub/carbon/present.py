"""Stage 6 of the read path: a computed trajectory as the API reads it (:class:`TrajectoryRead`,
which the JSON, CSV, XLSX and SVG outputs and the pages are drawn from), figures rounded to
:data:`DIGITS` decimals, each source as the caller may know it."""

from __future__ import annotations

from collections.abc import Sequence

from datahub.carbon.schemas import (
    GapPoint,
    PathPoint,
    ProjectionOut,
    SeriesPoint,
    SourceOut,
    TargetOut,
    TrajectoryRead,
    TrajectoryScope,
    WithheldOut,
)
from datahub.carbon.scope import Scope, TrajectoryParams
from datahub.carbon.sources import Source
from datahub.carbon.trajectory import TargetSpec, TrajectoryResult, YearFigures
from datahub.carbon.units import GwpSet
from datahub.catalog.service import Resolved, attribution

DIGITS = 6


def rounded(value: float) -> float:
    return round(value, DIGITS) + 0.0


def _round(value: float | None) -> float | None:
    return None if value is None else rounded(value)


def _target_out(
    spec: TargetSpec | None, result: TrajectoryResult, note: str | None
) -> TargetOut | None:
    if spec is None:
        return None
    target = result.target
    return TargetOut(
        reference_year=spec.reference_year,
        target_year=spec.target_year,
        target_net=spec.target_net,
        pathway=spec.pathway,
        reference_net=_round(target.reference_net) if target else None,
        path=[PathPoint(year=p.year, net=rounded(p.value)) for p in target.path] if target else [],
        note=note,
    )


def _source_order(source: Source) -> tuple[int, str]:
    return (0 if source.decision.metadata else 1, source.current.dataset.id)


def _source_out(source: Source) -> SourceOut:
    if not source.decision.metadata:
        # Used in aggregate only, by a caller who may not know the dataset exists (§2).
        return SourceOut(
            dataset=None,
            version=None,
            licence=source.licence.id,
            licence_url=source.licence.url,
            attribution=f"confidential data ({source.licence.title}), aggregated under "
            "statistical secrecy",
            use="aggregate",
        )
    resolved = Resolved(source.current.dataset, source.licence, source.decision)
    return SourceOut(
        dataset=source.current.dataset.id,
        version=source.current.number,
        licence=source.licence.id,
        licence_url=source.licence.url,
        attribution=attribution(resolved),
        use=source.use,
    )


def _point(y: YearFigures) -> SeriesPoint:
    return SeriesPoint(
        year=y.year,
        emissions=_round(y.emissions),
        sequestration=_round(y.sequestration),
        net=_round(y.net),
        interpolated=y.interpolated,
        breakdown={k: rounded(v) for k, v in y.breakdown.items()},
    )


def _projection(result: TrajectoryResult) -> ProjectionOut | None:
    if result.projection is None:
        return None
    return ProjectionOut(
        neutrality_year=result.projection.neutrality_year,
        slope=round(result.projection.slope, DIGITS),
        intercept=round(result.projection.intercept, DIGITS),
    )


def trajectory_read(
    scope: Scope,
    params: TrajectoryParams,
    gwp_set: GwpSet,
    home: str | None,
    result: TrajectoryResult,
    target: tuple[TargetSpec | None, str | None],
    sources: Sequence[Source],
) -> TrajectoryRead:
    """The trajectory of ``scope`` (an actor's is shown at its ``home``); ``target`` is the
    spec and the note saying why its path could not be drawn, if so."""
    return TrajectoryRead(
        scope=TrajectoryScope(
            territory=scope.territory if scope.kind != "actor" else home,
            sector=scope.sector,
            actor=scope.actor,
            basis=None if scope.kind == "actor" else params.basis,
            approach=params.approach,
            gwp=gwp_set,
            by=params.by,
            climate_corrected=params.climate_corrected,
        ),
        series=[_point(y) for y in result.series],
        target=_target_out(target[0], result, target[1]),
        gap=[GapPoint(year=p.year, value=rounded(p.value)) for p in result.gap],
        projection=_projection(result),
        withheld=[WithheldOut(year=c.year, key=c.key, reason=c.reason) for c in result.withheld],
        sources=[_source_out(s) for s in sorted(sources, key=_source_order)],
    )
