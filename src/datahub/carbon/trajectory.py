"""Trajectory maths over plain data (contract §5): series, target path, gap, projection.

All figures are tCO2e per year. Inputs are dicts keyed by ``(year, key)`` (key = sector, gas or
any breakdown id) and by year for sequestration; no database, no web framework.

Order of operations in :func:`build_trajectory`: climate correction (optional, by the caller,
per sector, with :func:`climate_correct`) → secrecy (:mod:`datahub.carbon.secrecy`) → series
with interpolation → target, gap and projection on what is shown. Interpolation, the target and
the projection only ever read shown values, so they cannot leak a withheld one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from datahub.carbon.secrecy import SecrecyOutcome, WithheldCell
from datahub.errors import FieldError, ValidationFailed

Pathway = Literal["linear", "exponential"]
SequestrationFill = Literal["zero", "nearest", "none"]
UNIT: Final = "tCO2e"


@dataclass(frozen=True)
class Point:
    year: int
    value: float


@dataclass(frozen=True)
class YearFigures:
    """One year of the series; None means withheld (or, for sequestration, unknown)."""

    year: int
    emissions: float | None
    sequestration: float | None
    net: float | None
    breakdown: dict[str, float] = field(default_factory=dict)
    interpolated: bool = False


@dataclass(frozen=True)
class TargetSpec:
    reference_year: int
    target_year: int
    target_net: float = 0.0
    pathway: Pathway = "linear"
    #: The reference year's net stored with the target (the same for every caller); None:
    #: the net the caller is shown for that year.
    reference_net: float | None = None


@dataclass(frozen=True)
class TargetPath:
    spec: TargetSpec
    reference_net: float
    path: tuple[Point, ...]


@dataclass(frozen=True)
class Projection:
    """Least-squares line ``net = intercept + slope × year`` over the observed, shown nets."""

    slope: float
    intercept: float
    neutrality_year: int | None
    first_year: int
    last_year: int
    method: Literal["linear"] = "linear"

    def at(self, year: float) -> float:
        return self.intercept + self.slope * year


@dataclass(frozen=True)
class TrajectoryResult:
    series: tuple[YearFigures, ...]
    target: TargetPath | None = None
    gap: tuple[Point, ...] = ()
    projection: Projection | None = None
    withheld: tuple[WithheldCell, ...] = ()
    unit: str = UNIT


def _invalid(field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(detail=message, errors=[FieldError(None, field_name, message)])


# --- target path -----------------------------------------------------------------------------


def target_path(reference_net: float, spec: TargetSpec) -> tuple[Point, ...]:
    """Yearly path from ``reference_net`` (reference year) to ``target_net`` (target year).

    Linear: ``E0 + (ET − E0)(t − t0)/(T − t0)``. Exponential (constant annual rate):
    ``E0 × (ET/E0)^((t − t0)/(T − t0))``, impossible towards 0 or across a sign change.
    """
    t0, t1 = spec.reference_year, spec.target_year
    if t1 <= t0:
        raise _invalid("target_year", "the target year must come after the reference year")
    e0, e1, span = reference_net, spec.target_net, t1 - t0
    if spec.pathway == "linear":
        return tuple(Point(t, e0 + (e1 - e0) * (t - t0) / span) for t in range(t0, t1 + 1))
    if e0 == 0 or e1 == 0 or (e0 > 0) != (e1 > 0):
        raise _invalid(
            "pathway",
            "a constant annual rate cannot reach a net of zero or change sign "
            f"({e0:g} → {e1:g} tCO2e); use the linear pathway",
        )
    ratio = e1 / e0
    return tuple(Point(t, e0 * ratio ** ((t - t0) / span)) for t in range(t0, t1 + 1))


def gap(series: Iterable[YearFigures], path: Iterable[Point]) -> tuple[Point, ...]:
    """``net − target path`` for every year that has both (positive = above the path)."""
    targets = {p.year: p.value for p in path}
    return tuple(
        Point(y.year, y.net - targets[y.year])
        for y in series
        if y.net is not None and y.year in targets
    )


# --- projection ------------------------------------------------------------------------------


def linear_fit(points: Iterable[Point]) -> tuple[float, float] | None:
    """Ordinary least squares ``(slope, intercept)``; None with fewer than two distinct years."""
    pts = list(points)
    if len({p.year for p in pts}) < 2:
        return None
    n = len(pts)
    mean_x = sum(p.year for p in pts) / n
    mean_y = sum(p.value for p in pts) / n
    sxx = sum((p.year - mean_x) ** 2 for p in pts)
    sxy = sum((p.year - mean_x) * (p.value - mean_y) for p in pts)
    slope = sxy / sxx
    return slope, mean_y - slope * mean_x


def project(points: Iterable[Point], *, horizon: int | None = None) -> Projection | None:
    """Linear trend and the first whole year (from the first observation) where it is ≤ 0.

    ``neutrality_year`` is None when the trend never reaches 0, or only after ``horizon``.
    """
    pts = sorted(points, key=lambda p: p.year)
    fit = linear_fit(pts)
    if fit is None:
        return None
    slope, intercept = fit
    first, last = pts[0].year, pts[-1].year
    scale = max(1.0, max(abs(p.value) for p in pts))
    tolerance = 1e-9 * scale

    def reached(year: int) -> bool:
        return intercept + slope * year <= tolerance

    year: int | None
    if reached(first):
        year = first
    elif slope < 0:
        year = math.ceil(-intercept / slope - 1e-9)
        while year > first and reached(year - 1):
            year -= 1
        while not reached(year):
            year += 1
    else:
        year = None
    if year is not None and horizon is not None and year > horizon:
        year = None
    return Projection(slope, intercept, year, first, last)


# --- climate correction ----------------------------------------------------------------------


def climate_correction_factor(hdd_year: float, hdd_ref: float, heating_share: float) -> float:
    """``1 − h + h × HDD_ref / HDD_year`` (DJU, base 18 °C): scales the heating share only."""
    if not 0.0 <= heating_share <= 1.0:
        raise _invalid("heating_share", f"heating share must be within [0, 1], not {heating_share}")
    if hdd_year <= 0 or hdd_ref <= 0:
        raise _invalid("hdd", "heating degree days must be positive")
    return 1.0 - heating_share + heating_share * hdd_ref / hdd_year


def reference_hdd(hdd_by_year: Mapping[int, float], first_year: int, last_year: int) -> float:
    """Mean HDD over the reference period (the years of it that are known)."""
    values = [v for y, v in hdd_by_year.items() if first_year <= y <= last_year]
    if not values:
        raise _invalid("hdd", f"no heating degree days between {first_year} and {last_year}")
    return sum(values) / len(values)


def climate_correct(
    values: Mapping[tuple[int, str], float],
    hdd_by_year: Mapping[int, float],
    hdd_ref: float,
    heating_shares: Mapping[str, float],
) -> dict[tuple[int, str], float]:
    """Correct the cells whose key has a heating share; a year without HDD is a 422."""
    corrected: dict[tuple[int, str], float] = {}
    for (year, key), value in values.items():
        share = heating_shares.get(key)
        if share is None:
            corrected[(year, key)] = value
            continue
        hdd = hdd_by_year.get(year)
        if hdd is None:
            raise _invalid("climate_corrected", f"no heating degree days for {year}")
        corrected[(year, key)] = value * climate_correction_factor(hdd, hdd_ref, share)
    return corrected


# --- series ----------------------------------------------------------------------------------


def _lerp(a: float, b: float, fraction: float) -> float:
    return a + (b - a) * fraction


def _fill_sequestration(
    sequestration: Mapping[int, float], year: int, fill: SequestrationFill
) -> float | None:
    if year in sequestration:
        return sequestration[year]
    if fill == "zero" or (fill == "nearest" and not sequestration):
        return 0.0
    if fill == "none":
        return None
    known = sorted(sequestration)
    before = [y for y in known if y < year]
    after = [y for y in known if y > year]
    if before and after:
        y0, y1 = before[-1], after[0]
        return _lerp(sequestration[y0], sequestration[y1], (year - y0) / (y1 - y0))
    return sequestration[before[-1] if before else after[0]]


def build_series(
    emissions: Mapping[tuple[int, str], float],
    sequestration: Mapping[int, float] | None = None,
    *,
    secrecy: SecrecyOutcome | None = None,
    interpolate: bool = False,
    sequestration_fill: SequestrationFill = "zero",
) -> tuple[tuple[YearFigures, ...], tuple[WithheldCell, ...]]:
    """Per-year figures from cell values, hiding what ``secrecy`` withholds.

    The series covers the years with emission cells; with ``interpolate`` it also fills every
    year between two of them linearly on whole years (TeT interpolates on dates; inventories are
    yearly, so years it is), marking those points ``interpolated``. A filled value is shown only
    when both neighbours show it; otherwise it is withheld too (reason ``complementary``).
    ``emissions`` of an observed year is the sum of all its cells, withheld ones included, unless
    secrecy withholds the total. Sequestration of a year without land-use data follows
    ``sequestration_fill``: ``zero`` (the contract's sum over no rows), ``nearest`` (linear
    between known years, nearest known value outside, as TeT does), or ``none`` (unknown, so the
    net is unknown).
    """
    outcome = secrecy or SecrecyOutcome()
    cells: dict[int, dict[str, float]] = {}
    for (year, key), value in emissions.items():
        cells.setdefault(year, {})[key] = value
    figures = [_observed(year, cells[year], outcome) for year in sorted(cells)]
    withheld = [c for c in outcome.withheld if c.year in cells]
    if interpolate and len(figures) > 1:
        figures = _interpolated(figures, cells, outcome, withheld)
    seq = dict(sequestration or {})
    series = []
    for f in figures:
        removal = _fill_sequestration(seq, f.year, sequestration_fill)
        net = None if f.emissions is None or removal is None else f.emissions - removal
        series.append(YearFigures(f.year, f.emissions, removal, net, f.breakdown, f.interpolated))
    withheld.sort(key=lambda c: (c.year, c.key is None, c.key or ""))
    return tuple(series), tuple(withheld)


def _observed(year: int, cells: Mapping[str, float], outcome: SecrecyOutcome) -> YearFigures:
    """An observed year's figures, without what secrecy withholds."""
    hidden = outcome.hidden_keys(year)
    return YearFigures(
        year=year,
        emissions=None if outcome.hides_total(year) else sum(cells.values()),
        sequestration=None,
        net=None,
        breakdown={k: v for k, v in sorted(cells.items()) if k not in hidden},
    )


def _interpolated(
    figures: list[YearFigures],
    cells: Mapping[int, Mapping[str, float]],
    outcome: SecrecyOutcome,
    withheld: list[WithheldCell],
) -> list[YearFigures]:
    """``figures`` with every year between two of them filled in (see :func:`build_series`);
    what a filled year cannot show is added to ``withheld``."""
    filled: list[YearFigures] = []
    for before, after in zip(figures, figures[1:], strict=False):
        filled.append(before)
        keys = sorted(set(cells[before.year]) | set(cells[after.year]))
        for year in range(before.year + 1, after.year):
            filled.append(_between(before, after, year, keys, outcome, withheld))
    filled.append(figures[-1])
    return filled


def _between(
    before: YearFigures,
    after: YearFigures,
    year: int,
    keys: Iterable[str],
    outcome: SecrecyOutcome,
    withheld: list[WithheldCell],
) -> YearFigures:
    """``year`` filled linearly between two observed years: a value only where both show it."""
    fraction = (year - before.year) / (after.year - before.year)
    breakdown: dict[str, float] = {}
    for key in keys:
        a, b = before.breakdown.get(key), after.breakdown.get(key)
        if a is not None and b is not None:
            breakdown[key] = _lerp(a, b, fraction)
        elif outcome.hides(before.year, key) or outcome.hides(after.year, key):
            withheld.append(WithheldCell(year, key, "complementary"))
    total: float | None = None
    if before.emissions is not None and after.emissions is not None:
        total = _lerp(before.emissions, after.emissions, fraction)
    else:
        withheld.append(WithheldCell(year, None, "complementary"))
    return YearFigures(year, total, None, None, breakdown, interpolated=True)


def build_trajectory(
    emissions: Mapping[tuple[int, str], float],
    sequestration: Mapping[int, float] | None = None,
    *,
    secrecy: SecrecyOutcome | None = None,
    target: TargetSpec | None = None,
    interpolate: bool = False,
    sequestration_fill: SequestrationFill = "zero",
    year_from: int | None = None,
    year_to: int | None = None,
    projection_horizon: int | None = None,
) -> TrajectoryResult:
    """Series, target path, gap and projection for one scope (see the module docstring).

    The target starts from its stored reference figure, or else from the reference year's shown
    net (a withheld or missing one is a 422: drawing a path from it would disclose it).
    ``year_from``/``year_to`` bound the series, the gap and the years the projection is fitted
    on; the target path is always whole.
    """
    full, withheld = build_series(
        emissions,
        sequestration,
        secrecy=secrecy,
        interpolate=interpolate,
        sequestration_fill=sequestration_fill,
    )

    def in_range(year: int) -> bool:
        return (year_from is None or year >= year_from) and (year_to is None or year <= year_to)

    series = tuple(y for y in full if in_range(y.year))
    target_result: TargetPath | None = None
    gaps: tuple[Point, ...] = ()
    if target is not None:
        start = target.reference_net
        if start is None:
            reference = next((y for y in full if y.year == target.reference_year), None)
            if reference is None or reference.net is None:
                raise _invalid(
                    "reference_year",
                    f"no net emissions can be shown for the reference year {target.reference_year}",
                )
            start = reference.net
        path = target_path(start, target)
        target_result = TargetPath(target, start, path)
        gaps = gap(series, path)
    observed = [Point(y.year, y.net) for y in series if y.net is not None and not y.interpolated]
    return TrajectoryResult(
        series=series,
        target=target_result,
        gap=gaps,
        projection=project(observed, horizon=projection_horizon),
        withheld=tuple(c for c in withheld if in_range(c.year)),
    )


def trajectory_with_target(
    emissions: Mapping[tuple[int, str], float],
    sequestration: Mapping[int, float],
    target: TargetSpec | None,
    *,
    secrecy: SecrecyOutcome | None,
    interpolate: bool,
    year_from: int | None,
    year_to: int | None,
) -> tuple[TrajectoryResult, str | None]:
    """:func:`build_trajectory` towards ``target``; when its path cannot be drawn (no net can
    be shown for its reference year), the trajectory without it and the reason why."""
    options = {
        "secrecy": secrecy,
        "interpolate": interpolate,
        "year_from": year_from,
        "year_to": year_to,
    }
    try:
        return build_trajectory(emissions, sequestration, target=target, **options), None  # type: ignore[arg-type]
    except ValidationFailed as exc:
        if target is None:
            raise
        return build_trajectory(emissions, sequestration, **options), exc.detail  # type: ignore[arg-type]
