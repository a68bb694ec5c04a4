"""Sequestration: Σ land-use area × flow factor − Σ land-use change area × change factor.

Sign convention (contract §5): the result is a removal, positive when the territory absorbs.
Flow factors are tCO2e/ha/yr with positive = removal; change factors are tCO2e/ha with
positive = emission, so a change counts with a minus sign. Factors given in carbon (``tC/ha``)
are converted to CO2 by 44/12 through the unit registry. ALDO publishes its fluxes with
positive = storage, so an ALDO change flux enters as ``-flux`` (see the tests).

Factor choice: for each area row, the factor of the most specific territory in the row's
ancestor chain wins (a commune's own soil-zone factor before its EPCI's, before the
territory-less default).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from datahub.carbon.sectors import LAND_USES
from datahub.carbon.units import convert
from datahub.errors import FieldError, ValidationFailed

FLOW_UNIT: Final = "tCO2e/ha/yr"
CHANGE_UNIT: Final = "tCO2e/ha"


@dataclass(frozen=True)
class LandUseArea:
    year: int
    territory: str
    land_use: str
    area_ha: float


@dataclass(frozen=True)
class LandUseChange:
    """``area_ha`` converted from ``from_land_use`` to ``to_land_use`` during ``year``."""

    year: int
    territory: str
    from_land_use: str
    to_land_use: str
    area_ha: float


@dataclass(frozen=True)
class SequestrationFactor:
    """One row of a ``sequestration_factors`` dataset: a flow (``land_use``) or a change
    (``from_land_use`` → ``to_land_use``); ``territory`` None is the default."""

    value: float
    unit: str
    land_use: str | None = None
    from_land_use: str | None = None
    to_land_use: str | None = None
    territory: str | None = None
    row: int | None = None

    @property
    def kind(self) -> Literal["flow", "change"]:
        return "flow" if self.land_use else "change"

    @property
    def key(self) -> str:
        return self.land_use or change_key(self.from_land_use or "", self.to_land_use or "")


@dataclass(frozen=True)
class SequestrationResult:
    """tCO2e/yr removals per year, and per (year, key) with key a land use or ``"from->to"``."""

    by_year: dict[int, float]
    by_year_key: dict[tuple[int, str], float]
    #: (territory, key) of area rows for which no factor matched: they count as zero.
    unmatched: tuple[tuple[str, str], ...] = field(default=())
    #: (territory, key) of area rows that a factor matched, in the order given.
    matched: tuple[tuple[str, str], ...] = field(default=())


def change_key(from_land_use: str, to_land_use: str) -> str:
    return f"{from_land_use}->{to_land_use}"


def _invalid(row: int | None, field_name: str, message: str) -> ValidationFailed:
    where = f"row {row}: " if row is not None else ""
    return ValidationFailed(detail=where + message, errors=[FieldError(row, field_name, message)])


class FactorTable:
    """Sequestration factors indexed by (key, territory), values in tCO2e/ha/yr or tCO2e/ha."""

    def __init__(self, factors: Iterable[SequestrationFactor]) -> None:
        self._values: dict[tuple[str, str | None], float] = {}
        for factor in factors:
            self._add(factor)

    def _add(self, factor: SequestrationFactor) -> None:
        row = factor.row
        if factor.land_use and (factor.from_land_use or factor.to_land_use):
            raise _invalid(row, "land_use", "give either land_use or from/to_land_use, not both")
        names = (
            [("land_use", factor.land_use)]
            if factor.land_use
            else [("from_land_use", factor.from_land_use), ("to_land_use", factor.to_land_use)]
        )
        for name, land_use in names:
            if land_use not in LAND_USES:
                raise _invalid(row, name, f"unknown land use {land_use!r}")
        target = FLOW_UNIT if factor.kind == "flow" else CHANGE_UNIT
        value = convert(factor.value, factor.unit, target, row=row)
        index = (factor.key, factor.territory or None)
        if index in self._values:
            where = factor.territory or "the default"
            raise _invalid(row, "territory", f"duplicate factor for {factor.key} in {where}")
        self._values[index] = value

    def lookup(self, key: str, chain: Sequence[str]) -> float | None:
        """The factor of the first territory in ``chain`` that has one, else the default."""
        for territory in chain:
            value = self._values.get((key, territory))
            if value is not None:
                return value
        return self._values.get((key, None))


def compute_sequestration(
    areas: Iterable[LandUseArea],
    changes: Iterable[LandUseChange],
    factors: FactorTable | Iterable[SequestrationFactor],
    ancestors: Mapping[str, Sequence[str]] | None = None,
) -> SequestrationResult:
    """Sum the flows and changes of the given rows (already scoped to the territory).

    ``ancestors[t]`` lists the territories containing ``t``, most specific first (e.g.
    ``["epci:200007177", "departement:18", "region:24", "country:FR"]``); ``t`` itself is
    always tried first.
    """
    table = factors if isinstance(factors, FactorTable) else FactorTable(factors)
    parents = ancestors or {}
    by_key: dict[tuple[int, str], float] = defaultdict(float)
    unmatched: dict[tuple[str, str], None] = {}
    matched: dict[tuple[str, str], None] = {}

    def chain(territory: str) -> list[str]:
        return [territory, *parents.get(territory, ())]

    for area in areas:
        flow = table.lookup(area.land_use, chain(area.territory))
        if flow is None:
            unmatched[(area.territory, area.land_use)] = None
            continue
        matched[(area.territory, area.land_use)] = None
        by_key[(area.year, area.land_use)] += area.area_ha * flow
    for change in changes:
        key = change_key(change.from_land_use, change.to_land_use)
        emission = table.lookup(key, chain(change.territory))
        if emission is None:
            unmatched[(change.territory, key)] = None
            continue
        matched[(change.territory, key)] = None
        by_key[(change.year, key)] -= change.area_ha * emission

    by_year: dict[int, float] = defaultdict(float)
    for (year, _key), value in by_key.items():
        by_year[year] += value
    return SequestrationResult(
        by_year=dict(sorted(by_year.items())),
        by_year_key=dict(by_key),
        unmatched=tuple(unmatched),
        matched=tuple(matched),
    )


Areas = Mapping[tuple[str, int, str, str], float]


def residual_areas(
    areas: Areas,
    code: str,
    owners_of: Mapping[str, set[str]],
    chains: Mapping[str, Sequence[str]],
) -> tuple[list[LandUseArea], list[LandUseChange]]:
    """The rolled-up areas of ``code`` as rows that :func:`compute_sequestration` can match
    with the factor of the most specific territory having one.

    ``areas[(territory, year, kind, key)]`` holds hectares rolled up per territory (kind
    ``flow``: key a land use; ``change``: ``from->to``), for ``code`` and the territories inside
    it that have their own factor for some key (``owners_of[key]``); ``chains[t]`` lists the
    territories containing such a ``t``, most specific first. For each key, every owner takes
    its area minus that of the owners nested in it; ``code`` takes the rest. Owners are
    expected to nest (commune inside EPCI inside département). Zero areas are left out.
    """
    flows: list[LandUseArea] = []
    changes: list[LandUseChange] = []
    for (scope, year, kind, key), total in areas.items():
        if scope != code:
            continue
        owners = owners_of.get(key, set())
        nested: dict[str | None, float] = defaultdict(float)  # parent owner → area inside it
        for t in owners:
            parent = next((p for p in chains[t] if p in owners), None)
            nested[parent] += areas.get((t, year, kind, key), 0.0)
        parts = [(code, total - nested[None])]
        parts += [(t, areas.get((t, year, kind, key), 0.0) - nested.get(t, 0.0)) for t in owners]
        for where, hectares in parts:
            if hectares == 0:
                continue
            if kind == "flow":
                flows.append(LandUseArea(year, where, key, hectares))
            else:
                start, _, end = key.partition("->")
                changes.append(LandUseChange(year, where, start, end, hectares))
    return flows, changes
