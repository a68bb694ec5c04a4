"""Local sequestration projects (contract §8), counted once: pure maths.

A project (hedges planted, a mini-forest, a restored wetland) is ``area_ha`` of ``land_use`` in
``territory`` from ``start_year``. In every year y ≥ start_year it removes
``area × flow factor(land_use, territory)`` tCO2e (the factor the land-use survey would use for
that territory). The same hectares also appear in the land data once they are surveyed; the
rule that they count once, as the project:

- **land use**: in a year where the survey (``land_use``) gives an area of that land use at the
  project's territory, the survey's flow loses ``min(Σ projects' areas started by then, survey
  area) × factor`` — the project is carved out of the survey, never below zero;
- **land-use change**: in the project's start year, the changes towards its land use at its
  territory lose up to the project's area (shared between their origins in proportion to their
  areas), so the conversion is not counted as a change besides the project's removals.

The result is the adjustment to add to each year's sequestration (positive = more removed).
Projects are expected at the level the survey is given (usually communes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Project:
    territory: str
    land_use: str
    area_ha: float
    start_year: int


FlowFactor = Callable[[str, str], float | None]
"""tCO2e/ha/yr removed by ``land_use`` in ``territory`` (None: no factor known)."""
ChangeFactor = Callable[[str, str, str], float | None]
"""tCO2e/ha emitted by converting ``from`` to ``to`` in ``territory``."""


def project_adjustment(
    projects: Iterable[Project],
    years: Iterable[int],
    flow_factor: FlowFactor,
    survey: Mapping[tuple[str, int, str], float],
    changes: Mapping[tuple[str, int, str], Mapping[str, float]],
    change_factor: ChangeFactor,
) -> dict[int, float]:
    """Per year: what the projects remove, minus the survey's and changes' double count.

    ``survey[(territory, year, land_use)]`` = surveyed area; ``changes[(territory, year,
    to_land_use)]`` = {from_land_use: area converted that year}.
    """
    groups: dict[tuple[str, str], list[Project]] = defaultdict(list)
    for project in projects:
        groups[(project.territory, project.land_use)].append(project)
    out: dict[int, float] = defaultdict(float)
    for (territory, land_use), members in groups.items():
        factor = flow_factor(land_use, territory)
        for year in years:
            area = sum(p.area_ha for p in members if p.start_year <= year)
            if area == 0:
                continue
            if factor is not None:
                surveyed = survey.get((territory, year, land_use), 0.0)
                out[year] += (area - min(area, surveyed)) * factor
            started = sum(p.area_ha for p in members if p.start_year == year)
            converted = changes.get((territory, year, land_use), {})
            total = sum(converted.values())
            if started and total:
                removed = min(started, total)
                for origin, origin_area in converted.items():
                    change = change_factor(origin, land_use, territory)
                    if change is not None:
                        # The change counted −area × factor; carving it out adds it back.
                        out[year] += removed * origin_area / total * change
    return dict(out)
