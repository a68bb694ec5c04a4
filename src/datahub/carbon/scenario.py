"""An action plan's scenario over an already-disclosed trajectory (contract §8): pure maths.

- **baseline**(t) = the least-squares trend of the shown nets (``intercept + slope × t``), for
  every year t from the last observed year L to the horizon (the target year, else 2050).
- an action's **effect**(t), tCO2e per year avoided (or removed, for ``lulucf``): 0 before
  ``start_year``, ``F × (t − start) / (end − start)`` between ``start_year`` and ``end_year``
  (``F`` at once when they are equal), ``F`` afterwards. ``absolute``: ``F = value``;
  ``relative``: ``F = value × E_sector(start_year)``, where ``E_sector`` is the sector's
  least-squares trend over its shown observed figures (its one shown figure when there is
  one). A relative action whose sector shows no figure (withheld) has no effect and is listed
  in ``unavailable``: its effect would disclose the withheld figure.
- **scenario**(t) = baseline(t) − Σ effects(t); **gap**(t) = scenario(t) − target path(t);
  **neutrality_year** = the first year with scenario ≤ 0 up to the horizon, else None.
Every action's ``status`` counts alike: the plan says what is expected of each one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from datahub.carbon.budget import observed_points
from datahub.carbon.trajectory import Point, Projection, TrajectoryResult, linear_fit

DEFAULT_HORIZON: Final = 2050
EffectKind = Literal["absolute", "relative"]


@dataclass(frozen=True)
class Action:
    id: str
    sector: str
    start_year: int
    end_year: int
    kind: EffectKind
    value: float


@dataclass(frozen=True)
class ScenarioYear:
    year: int
    baseline: float
    scenario: float
    avoided: float
    gap: float | None
    contributions: dict[str, float]


@dataclass(frozen=True)
class ActionTotal:
    id: str
    full_effect: float
    avoided: float
    share: float | None


@dataclass(frozen=True)
class Scenario:
    from_year: int
    to_year: int
    series: tuple[ScenarioYear, ...]
    actions: tuple[ActionTotal, ...]
    neutrality_year: int | None
    unavailable: tuple[str, ...]

    def avoided(self) -> list[Point]:
        return [Point(y.year, y.avoided) for y in self.series]


def ramp(full: float, start: int, end: int, year: int) -> float:
    """The share of ``full`` reached in ``year``, linear from ``start`` (0) to ``end`` (all)."""
    if year < start:
        return 0.0
    if year >= end:
        return full
    return full * (year - start) / (end - start)


def sector_level(result: TrajectoryResult, sector: str, year: int) -> float | None:
    """The sector's trend in ``year`` from its shown, observed figures; None if none shown."""
    points = [
        Point(y.year, y.breakdown[sector])
        for y in result.series
        if not y.interpolated and sector in y.breakdown
    ]
    if not points:
        return None
    fit = linear_fit(points)
    if fit is None:
        return points[-1].value
    slope, intercept = fit
    return intercept + slope * year


def _full_effects(
    result: TrajectoryResult, actions: Sequence[Action]
) -> tuple[dict[str, float], list[str]]:
    """Each counted action's full effect, and the relative actions whose sector shows no
    figure (not counted: their effect would disclose it)."""
    full: dict[str, float] = {}
    unavailable = []
    for action in actions:
        if action.kind == "absolute":
            full[action.id] = action.value
            continue
        level = sector_level(result, action.sector, action.start_year)
        if level is None:
            unavailable.append(action.id)
        else:
            full[action.id] = action.value * level
    return full, unavailable


def _year(
    projection: Projection,
    counted: Sequence[Action],
    full: dict[str, float],
    path: dict[int, float],
    year: int,
) -> ScenarioYear:
    contributions = {a.id: ramp(full[a.id], a.start_year, a.end_year, year) for a in counted}
    baseline = projection.at(year)
    avoided = sum(contributions.values())
    net = baseline - avoided
    gap = net - path[year] if year in path else None
    return ScenarioYear(year, baseline, net, avoided, gap, contributions)


def _neutrality_year(years: Sequence[ScenarioYear]) -> int | None:
    return next((y.year for y in years if y.scenario <= 1e-9 * max(1.0, abs(y.baseline))), None)


def _totals(
    counted: Sequence[Action], full: dict[str, float], years: Sequence[ScenarioYear]
) -> tuple[ActionTotal, ...]:
    total = sum(y.avoided for y in years)
    return tuple(
        ActionTotal(
            a.id,
            full[a.id],
            sum(y.contributions[a.id] for y in years),
            sum(y.contributions[a.id] for y in years) / total if total else None,
        )
        for a in counted
    )


def build_scenario(
    result: TrajectoryResult, actions: Sequence[Action], *, horizon: int | None = None
) -> Scenario | None:
    """The scenario from the last observed year; None without a trend (fewer than 2 years)."""
    observed = observed_points(result)
    if result.projection is None or not observed:
        return None
    last = observed[-1].year
    end = horizon or (result.target.spec.target_year if result.target else DEFAULT_HORIZON)
    path = {p.year: p.value for p in result.target.path} if result.target else {}
    full, unavailable = _full_effects(result, actions)
    counted = [a for a in actions if a.id in full]
    years = [_year(result.projection, counted, full, path, y) for y in range(last, end + 1)]
    return Scenario(
        last,
        end,
        tuple(years),
        _totals(counted, full, years),
        _neutrality_year(years),
        tuple(unavailable),
    )
