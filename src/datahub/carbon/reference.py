"""Observed figures against a reference trajectory (contract §8): pure maths.

A reference gives tCO2e per ``(year, key)`` where key is a sector, ``total`` (gross emissions)
or ``net``. The gap of a year and key is the *shown* observed figure minus the reference:
a sector against the sector's breakdown cell (by-sector trajectories), ``total`` against the
year's ``emissions`` and ``net`` against its ``net``. A withheld cell has no gap: the reference
is public, so a gap would disclose the cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from datahub.carbon.trajectory import TrajectoryResult, YearFigures

TOTAL: Final = "total"
NET: Final = "net"


@dataclass(frozen=True)
class ReferenceYear:
    year: int
    values: dict[str, float]
    gap: dict[str, float]


def _observed(figures: YearFigures, key: str, by_sector: bool) -> float | None:
    if key == TOTAL:
        return figures.emissions
    if key == NET:
        return figures.net
    return figures.breakdown.get(key) if by_sector else None


def compare(
    result: TrajectoryResult,
    reference: Mapping[tuple[int, str], float],
    *,
    by_sector: bool,
) -> tuple[ReferenceYear, ...]:
    """The reference per year with the observed gap to it, over the reference's years."""
    shown = {y.year: y for y in result.series}
    years: dict[int, dict[str, float]] = {}
    for (year, key), value in reference.items():
        years.setdefault(year, {})[key] = value
    out = []
    for year in sorted(years):
        values = dict(sorted(years[year].items()))
        gaps: dict[str, float] = {}
        figures = shown.get(year)
        if figures is not None:
            for key, value in values.items():
                observed = _observed(figures, key, by_sector)
                if observed is not None:
                    gaps[key] = observed - value
        out.append(ReferenceYear(year, values, gaps))
    return tuple(out)
