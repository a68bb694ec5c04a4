"""A trajectory as a page shows it: the key figures of the latest year and one row per year."""

from __future__ import annotations

from dataclasses import dataclass

from datahub.carbon.schemas import TrajectoryRead
from datahub.web import fmt


@dataclass(frozen=True)
class KeyFigures:
    year: int
    emissions: float | None
    sequestration: float | None
    net: float | None
    target: float | None
    gap: float | None
    neutrality_year: int | None
    target_year: int | None
    per_inhabitant: float | None


@dataclass(frozen=True)
class YearRow:
    year: int
    emissions: float | None
    sequestration: float | None
    net: float | None
    target: float | None
    gap: float | None
    interpolated: bool


@dataclass(frozen=True)
class Withheld:
    year: int
    what: str
    reason: str


def key_figures(read: TrajectoryRead, population: int | None) -> KeyFigures | None:
    """Figures of the latest year with observed emissions; None without any."""
    observed = [p for p in read.series if p.emissions is not None and not p.interpolated]
    if not observed:
        return None
    point = observed[-1]
    target = {p.year: p.net for p in read.target.path} if read.target else {}
    gaps = {g.year: g.value for g in read.gap}
    per_head = point.net / population if point.net is not None and population else None
    return KeyFigures(
        year=point.year,
        emissions=point.emissions,
        sequestration=point.sequestration,
        net=point.net,
        target=target.get(point.year),
        gap=gaps.get(point.year),
        neutrality_year=read.projection.neutrality_year if read.projection else None,
        target_year=read.target.target_year if read.target else None,
        per_inhabitant=per_head,
    )


def year_rows(read: TrajectoryRead) -> list[YearRow]:
    target = {p.year: p.net for p in read.target.path} if read.target else {}
    gaps = {g.year: g.value for g in read.gap}
    return [
        YearRow(
            p.year,
            p.emissions,
            p.sequestration,
            p.net,
            target.get(p.year),
            gaps.get(p.year),
            p.interpolated,
        )
        for p in read.series
    ]


def sector_keys(read: TrajectoryRead) -> list[str]:
    """Breakdown keys in the order of their weight over the whole series."""
    weight: dict[str, float] = {}
    for point in read.series:
        for key, value in point.breakdown.items():
            weight[key] = weight.get(key, 0.0) + abs(value)
    return sorted(weight, key=lambda k: -weight[k])


def withheld(read: TrajectoryRead) -> list[Withheld]:
    return [
        Withheld(w.year, fmt.sector(w.key), fmt.WITHHELD_REASONS.get(w.reason, w.reason))
        for w in read.withheld
    ]


def latest_year(read: TrajectoryRead) -> int | None:
    """The last observed (not interpolated) year, shown or withheld."""
    observed = [p.year for p in read.series if not p.interpolated]
    return max(observed) if observed else None
