"""Carbon budget and effort (contract §8) over an already-disclosed trajectory: pure maths.

Every figure reads only what the trajectory shows (observed, non-interpolated nets that secrecy
let through, the least-squares trend fitted on them, the target path), so a withheld year is
never used and never inferred. Definitions (t0 = reference year, T = target year, L = last
observed year with a shown net):

- ``target_path`` = Σ_{t=t0..T} path(t), both ends included (T − t0 + 1 yearly values).
- ``trend`` = Σ_{t=t0..T} (intercept + slope × t), the least-squares line of the projection.
- ``scenario`` = ``trend`` − Σ_{t=L..T} Σ_actions effect(t): the trend until the plan's
  baseline starts, the scenario from L on (see :mod:`datahub.carbon.scenario`).
- ``required_rate`` = (target_net / net_L)^(1 / (T − L)) − 1, the compound annual rate still
  needed (−0.05 = −5 %/yr); null when no compound rate links the two (target 0, sign change,
  L ≥ T). ``required_annual_change`` = (target_net − net_L) / (T − L) in tCO2e per year, the
  linear equivalent, defined towards 0 too.
- ``observed_rate`` = (net_L / net_y0)^(1 / (L − y0)) − 1 with y0 the first observed year with
  a shown net in [L − 5, L − 1]: the compound average annual rate over the last five years;
  ``observed_annual_change`` = (net_L − net_y0) / (L − y0) tCO2e per year.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from datahub.carbon.trajectory import Point, TrajectoryResult

OBSERVED_WINDOW = 5


@dataclass(frozen=True)
class Budget:
    from_year: int
    to_year: int
    target_path: float
    trend: float | None
    scenario: float | None
    last_observed_year: int | None
    required_rate: float | None
    required_annual_change: float | None
    observed_from_year: int | None
    observed_rate: float | None
    observed_annual_change: float | None


def compound_rate(start: float, end: float, years: int) -> float | None:
    """(end / start)^(1 / years) − 1, or None when no constant rate links them."""
    if years <= 0 or start == 0 or end == 0 or (start > 0) != (end > 0):
        return None
    return float((end / start) ** (1 / years) - 1)


def observed_points(result: TrajectoryResult) -> list[Point]:
    """The shown, observed (not interpolated) nets, by year."""
    return [Point(y.year, y.net) for y in result.series if y.net is not None and not y.interpolated]


def compute_budget(
    result: TrajectoryResult, avoided: Iterable[Point] | None = None
) -> Budget | None:
    """The budget of a trajectory with a target; None without one.

    ``avoided`` is the plan's total effect per year (tCO2e/yr, from the last observed year on);
    when given (even empty), ``scenario`` is the trend's budget minus what the plan avoids
    within t0..T.
    """
    if result.target is None:
        return None
    spec = result.target.spec
    t0, t1 = spec.reference_year, spec.target_year
    path = sum(p.value for p in result.target.path)
    trend = None
    scenario = None
    if result.projection is not None:
        fit = result.projection
        trend = sum(fit.at(t) for t in range(t0, t1 + 1))
        if avoided is not None:
            scenario = trend - sum(p.value for p in avoided if t0 <= p.year <= t1)
    observed = observed_points(result)
    last = observed[-1] if observed else None
    required_rate = required_change = None
    first = None
    observed_rate = observed_change = None
    if last is not None:
        if last.year < t1:
            required_rate = compound_rate(last.value, spec.target_net, t1 - last.year)
            required_change = (spec.target_net - last.value) / (t1 - last.year)
        window = [p for p in observed if last.year - OBSERVED_WINDOW <= p.year < last.year]
        if window:
            first = window[0]
            observed_rate = compound_rate(first.value, last.value, last.year - first.year)
            observed_change = (last.value - first.value) / (last.year - first.year)
    return Budget(
        from_year=t0,
        to_year=t1,
        target_path=path,
        trend=trend,
        scenario=scenario,
        last_observed_year=last.year if last else None,
        required_rate=required_rate,
        required_annual_change=required_change,
        observed_from_year=first.year if first else None,
        observed_rate=observed_rate,
        observed_annual_change=observed_change,
    )
