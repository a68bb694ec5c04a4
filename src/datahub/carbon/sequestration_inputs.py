"""Sequestration of a territory, for the inputs stage of the read path: the factors and the
rolled-up land areas that may apply, read once, and the territory's projects; the sums are
:func:`datahub.carbon.sequestration.compute_sequestration`'s, the code the golden (ALDO) tests
run.

Reads O(years × keys × territories-with-their-own-factor-inside) area rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from datahub.carbon import project_inputs, repository
from datahub.carbon.indexing import most_specific_first
from datahub.carbon.sequestration import (
    FactorTable,
    SequestrationFactor,
    compute_sequestration,
    residual_areas,
)
from datahub.carbon.sources import Reference, Source, by_producer
from datahub.territories import service as territories

_Index = tuple[str, str | None]


@dataclass(frozen=True)
class _Factors:
    table: FactorTable
    #: Territories with their own factor, per key.
    specific: dict[str, set[str]]
    #: The version that gave each factor, by (key, territory).
    origin: dict[_Index, int]


def _factors(session: Session, sources: Sequence[Source]) -> _Factors:
    """Factors of the usable datasets; for a (key, territory) given twice, the most recently
    updated dataset wins."""
    order = {s.version_id: i for i, s in enumerate(sources)}
    rows = sorted(
        repository.sequestration_factors(session, list(order)), key=lambda r: (order[r[0]], r[1])
    )
    factors: list[SequestrationFactor] = []
    origin: dict[_Index, int] = {}
    specific: dict[str, set[str]] = defaultdict(set)
    for version_id, _row, kind, key, territory, value in rows:
        if (key, territory) in origin:
            continue
        origin[(key, territory)] = version_id
        if territory:
            specific[key].add(territory)
        if kind == "flow":
            factors.append(
                SequestrationFactor(value, "tCO2e/ha/yr", land_use=key, territory=territory)
            )
        else:
            start, _, end = key.partition("->")
            factors.append(
                SequestrationFactor(
                    value, "tCO2e/ha", from_land_use=start, to_land_use=end, territory=territory
                )
            )
    return _Factors(FactorTable(factors), specific, origin)


def _credited(
    factors: _Factors, code: str, own_chain: Sequence[str], where: str, key: str
) -> int | None:
    """The version credited for the factor of an area row of ``where`` (``code`` or an owner
    inside it): an owner's own; for ``code``, the default's if any, else the first along its
    chain."""
    if where != code:
        return factors.origin.get((key, where))
    if (key, None) in factors.origin:
        return factors.origin[(key, None)]
    hit = next((c for c in own_chain if (key, c) in factors.origin), None)
    return factors.origin.get((key, hit))


def _land(
    session: Session,
    land_sources: Sequence[Source],
    factor_sources: Sequence[Source],
    code: str,
    chain: Sequence[str],
    used: set[int],
) -> dict[int, float]:
    """Σ area × flow − Σ change area × change factor, for ``code`` and what lies inside it
    (see :func:`datahub.carbon.sequestration.residual_areas`)."""
    if not land_sources or not factor_sources:
        return {}
    factors = _factors(session, factor_sources)
    all_specific = set().union(*factors.specific.values()) if factors.specific else set()
    inside: set[str] = set()
    if all_specific - set(chain):
        inside = (all_specific & territories.scope(session, code)) - {code}
    chains = {t: most_specific_first(territories.ancestors(session, t)) for t in inside}
    areas: dict[tuple[str, int, str, str], float] = defaultdict(float)
    for version_id, scope, year, kind, key, hectares in repository.land_areas(
        session, [s.version_id for s in land_sources], [code, *sorted(inside)]
    ):
        areas[(scope, year, kind, key)] += hectares
        used.add(version_id)
    owners = {key: territories_ & inside for key, territories_ in factors.specific.items()}
    flows, changes = residual_areas(areas, code, owners, chains)
    result = compute_sequestration(flows, changes, factors.table, {code: chain})
    own_chain = [code, *chain]
    for where, key in result.matched:
        credited = _credited(factors, code, own_chain, where, key)
        if credited is not None:
            used.add(credited)
    return result.by_year


def sequestration(
    session: Session,
    land: Sequence[Source],
    removal: Reference,
    projects: Sequence[Source],
    code: str,
    chain: Sequence[str],
    years: set[int],
    used: set[int],
) -> dict[int, float]:
    """Removals per year of ``code``: its land (each producer's with the factors that may
    apply to it), then its projects, counted once (:mod:`datahub.carbon.project_inputs`)."""
    total: dict[int, float] = {}
    for producer, land_of in by_producer(land).items():
        found = _land(session, land_of, removal.to(producer), code, chain, used)
        for year, value in found.items():
            total[year] = total.get(year, 0.0) + value
    years = years | set(total)
    for producer, projects_of in by_producer(projects).items():
        removal_factors = removal.to(producer)
        if not removal_factors:
            continue
        factors = _factors(session, removal_factors)
        extra = project_inputs.adjustment(
            session,
            [s.version_id for s in projects_of],
            [s.version_id for s in land],
            factors.table,
            code,
            years,
        )
        if extra:
            used.update([s.version_id for s in projects_of], factors.origin.values())
        for year, value in extra.items():
            total[year] = total.get(year, 0.0) + value
    return total
