"""Stage 2 of the read path: everything a trajectory is computed from, loaded for its scope
and handed on as plain data — the records of the facts (converted to tCO2e, activity × factor,
climate-corrected if asked), the territory's chain, its removals and its target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, cast

from sqlalchemy.orm import Session

from datahub.carbon import climate_inputs, repository, sequestration_inputs
from datahub.carbon.activity import activity_records
from datahub.carbon.cells import Record, emission_records
from datahub.carbon.indexing import most_specific_first
from datahub.carbon.scope import Scope, TrajectoryParams
from datahub.carbon.sectors import LULUCF
from datahub.carbon.sources import Reference, Sources
from datahub.carbon.trajectory import TargetSpec
from datahub.carbon.units import GwpSet
from datahub.db.models import ActorTarget, Target
from datahub.settings import Settings
from datahub.territories import service as territories


@dataclass
class Inputs:
    records: list[Record]
    #: The scope's territory (an actor's: its home) and the territories containing it, most
    #: specific first.
    home: str | None
    chain: list[str]
    designations: dict[str, frozenset[str]]
    target: TargetSpec | None = None
    #: The versions that entered the figures (listed as sources, audited).
    used: set[int] = field(default_factory=set)

    def designated(self, kind: str) -> frozenset[str]:
        return self.designations.get(kind, frozenset())


def _records(
    session: Session,
    sources: Sources,
    scope: Scope,
    params: TrajectoryParams,
    gwp_set: GwpSet,
    inputs: Inputs,
) -> list[Record]:
    """The facts in scope: emission cells in tCO2e, activity quantities × their factor."""
    emissions_ids = [s.version_id for s in sources.emission if s.kind == "emissions"]
    activity_ids = [s.version_id for s in sources.emission if s.kind == "activity"]
    filters: dict[str, object] = {"sector": scope.sector}
    if scope.kind == "actor":
        filters["actor"] = scope.actor
    else:
        # A territory's cells need no actor: secrecy is decided elsewhere (disclosures), so
        # the read is a few rows per year whatever the number of actors in scope.
        filters.update(scope=scope.territory, actors_only=params.basis == "actors")
        filters["by_actor"] = False
    raw_emissions = repository.emission_cells(session, emissions_ids, **filters)  # type: ignore[arg-type]
    raw_activity = repository.activity_cells(session, activity_ids, **filters)  # type: ignore[arg-type]
    records = emission_records(raw_emissions, gwp_set)
    records += activity_records(
        session,
        raw_activity,
        sources.of_kind("emission_factors"),
        sources.by_version(),
        inputs.used,
        inputs.designated("emission_factors"),
    )
    inputs.used.update(r.version_id for r in records)
    return records


def target_spec(session: Session, scope: Scope) -> TargetSpec | None:
    """The target of a territory, or an actor's own."""
    row: Target | ActorTarget | None = None
    if scope.kind == "territory" and scope.territory:
        row = repository.get_target(session, scope.territory)
    elif scope.kind == "actor" and scope.actor:
        row = repository.get_actor_target(session, scope.actor)
    if row is None:
        return None
    return TargetSpec(
        row.reference_year,
        row.target_year,
        row.target_net,
        cast(Literal["linear", "exponential"], row.pathway),
        # An actor's own target starts from its own figures, which its organisation sees.
        row.reference_net if isinstance(row, Target) else None,
    )


def load(
    session: Session,
    settings: Settings,
    sources: Sources,
    scope: Scope,
    params: TrajectoryParams,
    gwp_set: GwpSet,
) -> Inputs:
    home = scope.territory
    if scope.kind == "actor":
        home = territories.get_actor(session, scope.actor or "").territory_code
    chain = most_specific_first(territories.ancestors(session, home)) if home else []
    inputs = Inputs([], home, chain, repository.designations(session))
    records = _records(session, sources, scope, params, gwp_set, inputs)
    if params.climate_corrected and home:
        records = climate_inputs.corrected(
            session,
            settings,
            Reference(sources.of_kind("climate"), inputs.designated("climate")),
            [home, *chain],
            records,
            sources.by_version(),
            inputs.used,
        )
    inputs.records = records
    inputs.target = target_spec(session, scope)
    return inputs


def removals(
    session: Session, sources: Sources, scope: Scope, inputs: Inputs, years: set[int]
) -> dict[int, float]:
    """The scope's sequestration per year: a territory's, or its land-use sector's."""
    if not scope.territory or not (scope.kind == "territory" or scope.sector == LULUCF):
        return {}
    return sequestration_inputs.sequestration(
        session,
        sources.of_kind("land_use") + sources.of_kind("land_use_change"),
        Reference(
            sources.of_kind("sequestration_factors"), inputs.designated("sequestration_factors")
        ),
        sources.of_kind("sequestration_project"),
        scope.territory,
        inputs.chain,
        years,
        inputs.used,
    )
