"""The steering blocks of a dashboard (contract §8) as a page shows them: the budget, the plan's
scenario and its actions, the gap to a reference trajectory. Read from the trajectory the carbon
service computed for the caller, so every figure is the API's (and as withheld as the API's)."""

from __future__ import annotations

from dataclasses import dataclass

from datahub.carbon.schemas import TrajectoryRead


@dataclass(frozen=True)
class ScenarioRow:
    year: int
    baseline: float
    avoided: float
    net: float
    target: float | None
    gap: float | None


@dataclass(frozen=True)
class ReferenceRow:
    year: int
    key: str  # a sector, ``total`` or ``net``
    reference: float
    observed: float
    gap: float


def scenario_rows(read: TrajectoryRead) -> list[ScenarioRow]:
    if read.scenario is None:
        return []
    target = {p.year: p.net for p in read.target.path} if read.target else {}
    return [
        ScenarioRow(p.year, p.baseline, p.avoided, p.net, target.get(p.year), p.gap)
        for p in read.scenario.series
    ]


def reference_rows(read: TrajectoryRead) -> list[ReferenceRow]:
    """The years and keys where the caller is shown an observed figure to compare: the
    reference, the observed figure (reference + gap) and the gap, as the API computed it."""
    if read.reference is None:
        return []
    return [
        ReferenceRow(ref.year, key, ref.values[key], ref.values[key] + gap, gap)
        for ref in read.reference.years
        for key, gap in ref.gap.items()
    ]


def percent(rate: float | None) -> float | None:
    """A rate (−0.05) as a percentage (−5.0) for the ``nombre`` filter."""
    return None if rate is None else rate * 100
