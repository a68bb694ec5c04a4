"""The dashboard map's figures: each territory inside, its net emissions per inhabitant or per km²
in one year, and its colour class (the table under the map shows the same figures).

Pure: the figures come from each child's trajectory as the carbon service disclosed it to the
caller, so a child whose net is withheld is ``secret`` (drawn grey), never coloured or valued.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from datahub.carbon.schemas import TrajectoryRead
from datahub.web import fmt

Metric = Literal["habitant", "km2"]
METRICS: Final[dict[Metric, str]] = {
    "habitant": "par habitant (tCO₂e/hab.)",
    "km2": "par km² (tCO₂e/km²)",
}
#: ColorBrewer "OrRd", 5 classes (Cynthia Brewer, Apache-2.0): light = low, dark = high.
SHADES: Final = ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000")
#: Below zero the territory absorbs more than it emits.
SINK: Final = "#1a9850"
SECRET: Final = "#8c8c8c"
NO_DATA: Final = "#ffffff"
CLASSES: Final = len(SHADES)


@dataclass(frozen=True)
class Place:
    """A territory inside, as the page knows it before its figures."""

    code: str
    name: str
    population: int | None
    area_km2: float | None
    has_geometry: bool


@dataclass(frozen=True)
class Cell:
    code: str
    name: str
    net: float | None
    value: float | None  # net per inhabitant or per km²
    state: Literal["value", "secret", "none"]
    colour: str
    label: str  # what the tooltip and the table say, in French


@dataclass(frozen=True)
class LegendEntry:
    colour: str
    label: str


@dataclass(frozen=True)
class Choropleth:
    year: int | None
    metric: Metric
    cells: list[Cell]
    legend: list[LegendEntry]
    mapped: bool  # at least one territory has an outline


def year_net(read: TrajectoryRead, year: int | None) -> tuple[float | None, bool]:
    """The net of ``year`` as shown to the caller, and whether its totals are withheld."""
    if year is None:
        return None, False
    if any(w.year == year and w.key is None for w in read.withheld):
        return None, True
    point = next((p for p in read.series if p.year == year and not p.interpolated), None)
    return (point.net if point else None), False


def _per(net: float, place: Place, metric: Metric) -> float | None:
    divisor = place.population if metric == "habitant" else place.area_km2
    return net / divisor if divisor else None


def _breaks(values: Sequence[float]) -> list[float]:
    """Upper bounds of equal-count classes over the non-negative values (at most five)."""
    ordered = sorted(values)
    if not ordered:
        return []
    bounds: list[float] = []
    for index in range(1, CLASSES + 1):
        bound = ordered[min(len(ordered) - 1, -(-index * len(ordered) // CLASSES) - 1)]
        if not bounds or bound > bounds[-1]:
            bounds.append(bound)
    return bounds


def _digits(metric: Metric) -> int:
    return 1 if metric == "habitant" else 0


def build(
    places: Sequence[Place],
    nets: dict[str, tuple[float | None, bool]],
    year: int | None,
    metric: Metric,
) -> Choropleth:
    """Cells and legend; ``nets`` maps each code to ``year_net`` of its trajectory."""
    digits = _digits(metric)
    values: dict[str, float | None] = {}
    for place in places:
        net, secret = nets.get(place.code, (None, False))
        values[place.code] = None if secret or net is None else _per(net, place, metric)
    positive = [v for v in values.values() if v is not None and v >= 0]
    bounds = _breaks(positive)
    cells = []
    for place in places:
        net, secret = nets.get(place.code, (None, False))
        value = values[place.code]
        if secret:
            cells.append(
                Cell(place.code, place.name, None, None, "secret", SECRET, "secret statistique")
            )
        elif value is None:
            cells.append(Cell(place.code, place.name, net, None, "none", NO_DATA, "pas de donnée"))
        else:
            shade = SINK if value < 0 else SHADES[_shade(value, bounds)]
            label = f"{fmt.number(value, digits)} tCO₂e"
            cells.append(Cell(place.code, place.name, net, value, "value", shade, label))
    legend = _legend(bounds, digits, cells)
    mapped = any(p.has_geometry for p in places)
    return Choropleth(year, metric, cells, legend, mapped)


def _shade(value: float, bounds: list[float]) -> int:
    index = next((i for i, bound in enumerate(bounds) if value <= bound), len(bounds) - 1)
    # Fewer distinct classes than shades: spread them over the scale, darkest kept for the top.
    if len(bounds) < CLASSES and len(bounds) > 1:
        return round(index * (CLASSES - 1) / (len(bounds) - 1))
    return index if len(bounds) > 1 else CLASSES - 1


def _legend_digits(bounds: list[float], digits: int) -> int:
    """Enough decimals for the class bounds to read apart (close values: up to three)."""
    while digits < 3 and len({fmt.number(b, digits) for b in bounds}) < len(bounds):
        digits += 1
    return digits


def _legend(bounds: list[float], digits: int, cells: list[Cell]) -> list[LegendEntry]:
    digits = _legend_digits(bounds, digits)
    entries = []
    if any(c.state == "value" and c.value is not None and c.value < 0 for c in cells):
        entries.append(LegendEntry(SINK, "négatif : le territoire absorbe plus qu'il n'émet"))
    low = 0.0
    for index, bound in enumerate(bounds):
        colour = SHADES[_shade(bound, bounds)]
        start = "de 0" if index == 0 else f"plus de {fmt.number(low, digits)}"
        entries.append(LegendEntry(colour, f"{start} à {fmt.number(bound, digits)}"))
        low = bound
    if any(c.state == "secret" for c in cells):
        entries.append(LegendEntry(SECRET, "secret statistique (valeur masquée)"))
    if any(c.state == "none" for c in cells):
        entries.append(LegendEntry(NO_DATA, "pas de donnée"))
    return entries
