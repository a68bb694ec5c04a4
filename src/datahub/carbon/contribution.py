"""Actors against the inventory (contract §8): pure maths over disclosed trajectories.

- An actor's **contribution** per year: its emissions, its sector's and its territory's in the
  territorial inventory (the by-sector table of the actor's territory), and the shares
  ``actor / sector`` and ``actor / territory`` — only where both figures are shown to the
  caller (and the denominator is not 0). Actor figures (bottom-up, often a BEGES) and the
  inventory are different measures: a share above 1 is possible and is shown as it is.
- **Coverage** per year: the bottom-up total of the actors located in the territory
  (``basis=actors``) over the inventory, per sector and in total, where both are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from datahub.carbon.trajectory import TrajectoryResult


@dataclass(frozen=True)
class ContributionYear:
    year: int
    emissions: float
    sector_emissions: float | None
    territory_emissions: float | None
    share_of_sector: float | None
    share_of_territory: float | None


@dataclass(frozen=True)
class CoverageYear:
    year: int
    sectors: dict[str, float]
    total: float | None


def _ratio(part: float | None, whole: float | None) -> float | None:
    if part is None or whole is None or whole == 0:
        return None
    return part / whole


def contributions(
    actor: TrajectoryResult, territory: TrajectoryResult, sector: str | None
) -> tuple[ContributionYear, ...]:
    inventory = {y.year: y for y in territory.series}
    out = []
    for year in actor.series:
        if year.emissions is None or year.interpolated:
            continue
        found = inventory.get(year.year)
        whole = found.emissions if found else None
        part = found.breakdown.get(sector) if found and sector else None
        out.append(
            ContributionYear(
                year.year,
                year.emissions,
                part,
                whole,
                _ratio(year.emissions, part),
                _ratio(year.emissions, whole),
            )
        )
    return tuple(out)


def coverage(actors: TrajectoryResult, inventory: TrajectoryResult) -> tuple[CoverageYear, ...]:
    by_year = {y.year: y for y in inventory.series if not y.interpolated}
    out = []
    for year in actors.series:
        found = by_year.get(year.year)
        if found is None or year.interpolated:
            continue
        sectors = {
            key: ratio
            for key, value in year.breakdown.items()
            if (ratio := _ratio(value, found.breakdown.get(key))) is not None
        }
        out.append(CoverageYear(year.year, sectors, _ratio(year.emissions, found.emissions)))
    return tuple(out)
