"""Steering parts of a trajectory (contract §8): budget, reference trajectory, plan scenario.

Called once a trajectory is computed and disclosed: the maths (:mod:`datahub.carbon.budget`,
:mod:`datahub.carbon.reference`, :mod:`datahub.carbon.scenario`) reads only what the
trajectory shows, so statistical secrecy carries over to every figure added here.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from threading import Lock
from typing import Literal

from sqlalchemy.orm import Session

from datahub.accounts.caller import RequestContext
from datahub.carbon import plans, repository
from datahub.carbon.budget import compute_budget
from datahub.carbon.contribution import contributions, coverage
from datahub.carbon.plan_schemas import (
    BudgetOut,
    ContributionOut,
    ContributionPoint,
    CoveragePoint,
    PlanRead,
    ReferenceOut,
    ReferencePoint,
    ScenarioAction,
    ScenarioOut,
    ScenarioPoint,
)
from datahub.carbon.reference import compare
from datahub.carbon.scenario import Scenario, build_scenario
from datahub.carbon.schemas import SourceOut, TrajectoryRead
from datahub.carbon.trajectory import TrajectoryResult
from datahub.carbon.units import to_tco2e
from datahub.catalog import rows
from datahub.catalog import service as catalog
from datahub.db.models import DatasetVersion
from datahub.errors import FieldError, NotFound, ValidationFailed
from datahub.licensing.registry import Licence, LicenceRegistry

REFERENCE_KIND = "reference_trajectory"
_DIGITS = 6


@dataclass(frozen=True)
class Steered:
    read: TrajectoryRead
    licences: list[Licence]


def _invalid(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(detail=message, errors=[FieldError(None, name, message)])


def _r(value: float) -> float:
    return round(value, _DIGITS) + 0.0


_ReferenceValues = dict[str, dict[tuple[int, str], float]]
_MEMO: OrderedDict[tuple[int, str], _ReferenceValues] = OrderedDict()
_MEMO_SIZE = 16
_MEMO_LOCK = Lock()


def _reference_values(session: Session, version: DatasetVersion) -> _ReferenceValues:
    """tCO2e per territory and ``(year, key)`` of a reference version, read once per process:
    a stored version never changes (keyed by id and SHA-256, so another database's version
    with the same id is not mistaken for it)."""
    key = (version.id, version.sha256)
    with _MEMO_LOCK:
        found = _MEMO.get(key)
        if found is not None:
            _MEMO.move_to_end(key)
            return found
    values: _ReferenceValues = defaultdict(lambda: defaultdict(float))
    for _, row in rows.iter_version(session, version):
        cell = (int(row["year"]), row["sector"])
        values[row["territory"]][cell] += to_tco2e(float(row["value"]), row["unit"])
    frozen = {t: dict(v) for t, v in values.items()}
    with _MEMO_LOCK:
        _MEMO[key] = frozen
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return frozen


def _reference(
    session: Session,
    licences: LicenceRegistry,
    ctx: RequestContext,
    dataset_id: str,
    territory: str,
    sector: str | None,
    result: TrajectoryResult,
    by_sector: bool,
) -> tuple[ReferenceOut, SourceOut, Licence]:
    """The reference dataset's rows for the territory (and sector), compared with the result.

    Access as for the dataset's rows: 404 when the caller may not know it, 401/403 (audited)
    when they may not read it.
    """
    resolved = catalog.authorize_data(session, licences, ctx, dataset_id, "dataset.trajectory_use")
    if resolved.dataset.kind != REFERENCE_KIND:
        raise _invalid("reference", f"dataset {dataset_id!r} is not a {REFERENCE_KIND} dataset")
    version = catalog.get_version(session, resolved, None)
    by_territory = _reference_values(session, version)
    values = {
        key: value
        for key, value in by_territory.get(territory, {}).items()
        if sector is None or key[1] == sector
    }
    if resolved.dataset.level != "open":  # as the trajectory's other sources: open is not audited
        catalog.record_read(session, ctx, resolved, version, "dataset.trajectory_use", len(values))
    years = compare(result, values, by_sector=by_sector)
    out = ReferenceOut(
        dataset=resolved.dataset.id,
        version=version.number,
        years=[
            ReferencePoint(
                year=y.year,
                values={k: _r(v) for k, v in y.values.items()},
                gap={k: _r(v) for k, v in y.gap.items()},
            )
            for y in years
        ],
    )
    source = SourceOut(
        dataset=resolved.dataset.id,
        version=version.number,
        licence=resolved.licence.id,
        licence_url=resolved.licence.url,
        attribution=catalog.attribution(resolved),
        use="full",
    )
    return out, source, resolved.licence


def _scenario_out(scenario: Scenario, plan: PlanRead) -> ScenarioOut:
    by_id = {a.id: a for a in plan.actions}
    return ScenarioOut(
        plan_version=plan.version,
        from_year=scenario.from_year,
        to_year=scenario.to_year,
        series=[
            ScenarioPoint(
                year=y.year,
                baseline=_r(y.baseline),
                net=_r(y.scenario),
                avoided=_r(y.avoided),
                gap=None if y.gap is None else _r(y.gap),
                contributions={k: _r(v) for k, v in y.contributions.items()},
            )
            for y in scenario.series
        ],
        actions=[
            ScenarioAction(
                id=a.id,
                title=by_id[a.id].title,
                sector=by_id[a.id].sector,
                full_effect=_r(a.full_effect),
                avoided=_r(a.avoided),
                share=None if a.share is None else _r(a.share),
            )
            for a in sorted(scenario.actions, key=lambda a: -a.avoided)
        ],
        neutrality_year=scenario.neutrality_year,
        unavailable=list(scenario.unavailable),
    )


def steer(
    session: Session,
    licences: LicenceRegistry,
    ctx: RequestContext,
    read: TrajectoryRead,
    result: TrajectoryResult,
    reference: str | None = None,
    scenario_of: Literal["plan"] | None = None,
) -> Steered:
    """``read`` with its budget, and the reference and scenario when asked."""
    territory, sector = read.scope.territory, read.scope.sector
    if read.scope.actor is not None and (reference or scenario_of):
        raise _invalid(
            "reference" if reference else "scenario",
            "references and scenarios apply to territory and sector trajectories",
        )
    scenario = None
    scenario_out = None
    if scenario_of == "plan" and territory is not None:
        if read.scope.by != "sector":
            raise _invalid("scenario", "a plan's scenario needs by=sector")
        plan = plans.latest(session, territory)
        if plan is None:
            raise NotFound(f"territory {territory!r} has no plan")
        horizon = result.target.spec.target_year if result.target else None
        if sector is not None:  # a sector's scenario runs to its territory's target year
            target = repository.get_target(session, territory)
            horizon = target.target_year if target else None
        scenario = build_scenario(result, plans.scenario_actions(plan, sector), horizon=horizon)
        scenario_out = _scenario_out(scenario, plan) if scenario else None
    budget = compute_budget(result, scenario.avoided() if scenario else None)
    update: dict[str, object] = {
        "budget": BudgetOut(**{k: _round_any(v) for k, v in vars(budget).items()})
        if budget
        else None,
        "scenario": scenario_out,
    }
    extra: list[Licence] = []
    if reference and territory is not None:
        compared, source, licence = _reference(
            session,
            licences,
            ctx,
            reference,
            territory,
            sector,
            result,
            read.scope.by == "sector",
        )
        update["reference"] = compared
        update["sources"] = [*read.sources, source]
        extra.append(licence)
    return Steered(read.model_copy(update=update), extra)


def _round_any(value: object) -> object:
    return _r(value) if isinstance(value, float) else value


def with_contribution(
    read: TrajectoryRead,
    actor: TrajectoryResult,
    territory: TrajectoryResult,
    code: str,
    sector: str | None,
) -> TrajectoryRead:
    """An actor's trajectory with its share of its sector and territory."""
    years = contributions(actor, territory, sector)
    out = ContributionOut(
        territory=code,
        sector=sector,
        series=[
            ContributionPoint(
                year=y.year,
                emissions=_r(y.emissions),
                sector_emissions=_maybe(y.sector_emissions),
                territory_emissions=_maybe(y.territory_emissions),
                share_of_sector=_maybe(y.share_of_sector),
                share_of_territory=_maybe(y.share_of_territory),
            )
            for y in years
        ],
    )
    return read.model_copy(update={"contribution": out})


def with_coverage(
    read: TrajectoryRead, actors: TrajectoryResult, inventory: TrajectoryResult
) -> TrajectoryRead:
    points = [
        CoveragePoint(
            year=y.year,
            sectors={k: _r(v) for k, v in y.sectors.items()},
            total=_maybe(y.total),
        )
        for y in coverage(actors, inventory)
    ]
    return read.model_copy(update={"coverage": points})


def _maybe(value: float | None) -> float | None:
    return None if value is None else _r(value)
