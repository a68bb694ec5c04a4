"""Trajectories over the pre-aggregated facts (contract §5), with licences flowing into results.

A trajectory is computed in stages, each a module with one job and a plain-data boundary
(design.md, "The carbon read path as a pipeline"):

1. :mod:`~datahub.carbon.sources`: which datasets the caller may use, in full or in aggregate
   only (under statistical secrecy).
2. :mod:`~datahub.carbon.inputs`: the records of the facts in scope (GWP of the request,
   activity × factor, climate correction if asked), the territory's chain and target.
3. :mod:`~datahub.carbon.cells` (pure): cells ``(year, key)``, key = sector, gas or ``total``,
   and the aggregate-only contributions.
4. :mod:`~datahub.carbon.disclosures`: what secrecy withholds (:mod:`datahub.carbon.disclosure`).
5. Sequestration (:mod:`~datahub.carbon.sequestration_inputs`), then target, gap and projection
   (:mod:`~datahub.carbon.trajectory`, pure) and the plan's scenario and reference
   (:mod:`~datahub.carbon.steering`).
6. :mod:`~datahub.carbon.present`: the API's read model; one ``dataset.trajectory_use`` audit
   event per shared or restricted dataset used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session

from datahub.accounts.caller import ANONYMOUS, Caller, RequestContext
from datahub.audit import service as audit
from datahub.carbon import disclosures, inputs, plans, present, repository, steering, targets
from datahub.carbon.cells import Record, cells_of
from datahub.carbon.schemas import (
    Approach,
    Basis,
    TargetRead,
    TargetWrite,
    TrajectoryRead,
)
from datahub.carbon.scope import Scope as Scope
from datahub.carbon.scope import TrajectoryParams as TrajectoryParams
from datahub.carbon.sectors import SECTORS
from datahub.carbon.sources import Source, Sources, facts_of, in_aggregate_somewhere
from datahub.carbon.trajectory import TrajectoryResult, trajectory_with_target
from datahub.db.models import Target
from datahub.errors import FieldError, NotFound, ValidationFailed
from datahub.licensing import service as grants
from datahub.licensing.registry import Licence, LicenceRegistry
from datahub.settings import Settings
from datahub.territories import service as territories
from datahub.vocabulary import DEMO_TAG


@dataclass
class Trajectory:
    """A computed trajectory: the maths result plus what the response must say about it."""

    read: TrajectoryRead
    result: TrajectoryResult
    licences: list[Licence] = field(default_factory=list)
    #: The name of the scope's territory (an actor's: its home), for people.
    territory_name: str | None = None
    #: Drawn (partly) from synthetic demonstration datasets (tagged ``DEMO_TAG``).
    demo: bool = False


def _compute(
    session: Session,
    licences: LicenceRegistry,
    settings: Settings,
    ctx: RequestContext,
    scope: Scope,
    params: TrajectoryParams,
) -> Trajectory:
    gwp_set = params.gwp or settings.gwp
    sources = Sources.for_scope(
        session, licences, settings, ctx.caller, scope.kind == "actor", params.approach
    )
    found = inputs.load(session, settings, sources, scope, params, gwp_set)
    by_version = sources.by_version()

    def aggregate_of(record: Record) -> str | None:
        source = by_version[record.version_id]
        return source.current.dataset.id if source.use == "aggregate" else None

    cells, contributions = cells_of(found.records, params.by, aggregate_of)
    secrecy = disclosures.outcome(
        session,
        licences,
        settings,
        sources,
        found.designated("emission_factors"),
        scope,
        params,
        contributions,
    )
    removals = inputs.removals(session, sources, scope, found, {year for year, _ in cells})
    result, note = trajectory_with_target(
        cells,
        removals,
        found.target,
        secrecy=secrecy,
        interpolate=params.interpolate,
        year_from=params.year_from,
        year_to=params.year_to,
    )
    used = sources.used(found.used)
    _audit(session, ctx, used, scope)
    read = present.trajectory_read(
        scope, params, gwp_set, found.home, result, (found.target, note), used
    )
    steered = steering.steer(
        session, licences, ctx, read, result, params.reference, params.scenario
    )
    licence_list = {s.licence.id: s.licence for s in used}
    licence_list |= {licence.id: licence for licence in steered.licences}
    return Trajectory(
        steered.read,
        result,
        [licence_list[k] for k in sorted(licence_list)],
        territory_name=territories.get(session, found.home).name if found.home else None,
        demo=any(DEMO_TAG in (s.current.dataset.tags or ()) for s in used),
    )


def _audit(session: Session, ctx: RequestContext, sources: Sequence[Source], scope: Scope) -> None:
    where = {k: v for k, v in vars(scope).items() if v is not None}
    for source in sources:
        dataset = source.current.dataset
        if dataset.level == "open":
            continue
        audit.record(
            session,
            audit.event_for(
                ctx,
                "dataset.trajectory_use",
                dataset_id=dataset.id,
                version=source.current.number,
                licence=dataset.licence_id,
                basis=source.decision.basis if source.use == "full" else "aggregate",
                detail={"use": source.use, **where},
            ),
        )


# --- public entry points ------------------------------------------------------------------------


def territory_trajectory(
    session: Session,
    licences: LicenceRegistry,
    settings: Settings,
    ctx: RequestContext,
    code: str,
    params: TrajectoryParams,
) -> Trajectory:
    territories.get(session, code)
    return _with_coverage(session, licences, settings, ctx, Scope(territory=code), params)


def sector_trajectory(
    session: Session,
    licences: LicenceRegistry,
    settings: Settings,
    ctx: RequestContext,
    sector: str,
    code: str,
    params: TrajectoryParams,
) -> Trajectory:
    if sector not in SECTORS:
        raise NotFound(f"no sector {sector!r}; one of {', '.join(SECTORS)}")
    territories.get(session, code)
    scope = Scope(territory=code, sector=sector)
    return _with_coverage(session, licences, settings, ctx, scope, params)


def actor_trajectory(
    session: Session,
    licences: LicenceRegistry,
    settings: Settings,
    ctx: RequestContext,
    actor_id: str,
    params: TrajectoryParams,
) -> Trajectory:
    actor = territories.get_actor(session, actor_id)
    trajectory = _compute(session, licences, settings, ctx, Scope(actor=actor_id), params)
    home = TrajectoryParams(
        params.year_from,
        params.year_to,
        approach=params.approach,
        gwp=params.gwp,
        climate_corrected=params.climate_corrected,
    )
    territory = _compute(
        session, licences, settings, ctx, Scope(territory=actor.territory_code), home
    )
    read = steering.with_contribution(
        trajectory.read, trajectory.result, territory.result, actor.territory_code, actor.sector
    )
    return replace(trajectory, read=read)


def _with_coverage(
    session: Session,
    licences: LicenceRegistry,
    settings: Settings,
    ctx: RequestContext,
    scope: Scope,
    params: TrajectoryParams,
) -> Trajectory:
    """The trajectory, with ``coverage`` (actors over inventory) when asked: the other basis
    is computed for the same caller, with the same options."""
    trajectory = _compute(session, licences, settings, ctx, scope, params)
    if not params.coverage:
        return trajectory
    other: Basis = "inventory" if params.basis == "actors" else "actors"
    plain = replace(params, basis=other, reference=None, scenario=None, coverage=False)
    second = _compute(session, licences, settings, ctx, scope, plain)
    actors, inventory = (trajectory, second) if other == "inventory" else (second, trajectory)
    read = steering.with_coverage(trajectory.read, actors.result, inventory.result)
    return replace(trajectory, read=read)


def caller_view(
    session: Session,
    licences: LicenceRegistry,
    settings: Settings,
    caller: Caller,
    scope: Scope,
    approach: Approach,
) -> tuple[tuple[object, ...], ...]:
    """What a trajectory of ``scope`` may use for ``caller``, as plain values for a cache key:
    per dataset version, its use (full or aggregate), the basis audited and whether the caller
    may know it exists, with the dataset's licence and last change. Same sources as
    :func:`_compute` takes, so two callers with the same view get the same result."""
    sources = Sources.for_scope(
        session, licences, settings, caller, scope.kind == "actor", approach
    )
    view = tuple(
        (
            s.version_id,
            s.use,
            s.decision.basis if s.use == "full" else "aggregate",
            s.decision.metadata,
            s.current.dataset.licence_id,
            s.current.dataset.level,
            s.current.dataset.updated_at.isoformat(),
        )
        for s in (*sources.emission, *sources.aux)
    )
    if not sources.aggregate():
        return view
    # What is withheld depends on what every possible caller reads in full (a new grant to
    # anyone changes it): see carbon.disclosures.
    aggregate = [facts_of(s) for s in sources.emission if in_aggregate_somewhere(s)]
    readers = sorted(tuple(sorted(k)) for k in grants.readers(session, aggregate))
    return (*view, ("readers", *readers))


# --- targets ------------------------------------------------------------------------------------


def _target_read(target: Target) -> TargetRead:
    return TargetRead(
        territory=target.territory_code,
        reference_net=target.reference_net,
        **targets.read_fields(target),
    )


def get_target(session: Session, code: str) -> TargetRead:
    territories.get(session, code)
    target = targets.existing(repository.get_target(session, code), f"territory {code!r}")
    return _target_read(target)


def published_net(
    session: Session, licences: LicenceRegistry, settings: Settings, code: str, year: int
) -> float | None:
    """The net of ``year`` as everyone is shown it (an anonymous caller's view), None when the
    year has no data; a withheld one is a 422, since a path drawn from it would disclose it."""
    public = RequestContext(ANONYMOUS, purpose="target reference figure")
    params = TrajectoryParams(by="none")
    series = _compute(session, licences, settings, public, Scope(territory=code), params)
    shown = next((p for p in series.read.series if p.year == year), None)
    if shown is None:
        return None
    if shown.net is None:
        raise ValidationFailed(
            f"the net of {year} is withheld from the public (statistical secrecy)",
            errors=[
                FieldError(
                    None, "reference_net", "give the reference figure published with the target"
                )
            ],
        )
    return shown.net


def put_target(
    session: Session,
    licences: LicenceRegistry,
    settings: Settings,
    ctx: RequestContext,
    code: str,
    data: TargetWrite,
) -> TargetRead:
    """A caller sets a territory's target: who may is who may write its plan (audited)."""
    territories.get(session, code)
    plans.check_writer(session, ctx, code, "target.update")
    target = set_target(session, licences, settings, code, data)
    audit.record(
        session,
        audit.event_for(
            ctx,
            "target.update",
            detail={
                "territory": code,
                "reference_year": target.reference_year,
                "target_year": target.target_year,
                "target_net": target.target_net,
                "pathway": target.pathway,
            },
        ),
    )
    return target


def set_target(
    session: Session, licences: LicenceRegistry, settings: Settings, code: str, data: TargetWrite
) -> TargetRead:
    """Create or replace a territory's target (for the demo and ``datahub init``; callers go
    through :func:`put_target`).

    The reference year's net is stored with it — as given, or as published now — so that every
    caller gets the same path, whatever data each may read.
    """
    territories.get(session, code)
    reference_net = data.reference_net
    if reference_net is None:
        reference_net = published_net(session, licences, settings, code, data.reference_year)
    target = repository.save_target(
        session,
        repository.get_target(session, code) or Target(territory_code=code),
        {**targets.path_fields(data), "reference_net": reference_net},
    )
    return _target_read(target)
