"""SVG (or PNG) chart of a trajectory: emissions stacked by sector, sequestration below zero,
the net line, the target path (dashed), the linear trend and its neutrality year, the gap to the
target in the last observed year; below, the sources and licences (attribution) and, on
synthetic data, a "données de démonstration" mark.

Uses ``matplotlib.figure.Figure`` directly (never pyplot), so concurrent requests share no
global figure state.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import matplotlib
from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import Patch

from datahub.carbon.plan_schemas import ScenarioOut
from datahub.carbon.schemas import TrajectoryRead, TrajectoryScope
from datahub.carbon.sectors import SECTOR_LABELS_FR, SECTORS
from datahub.carbon.trajectory import Projection, TargetPath, TrajectoryResult, YearFigures

SECTOR_COLOURS: Final[dict[str, str]] = {
    "residential": "#e15759",
    "tertiary": "#f28e2b",
    "road_transport": "#4e79a7",
    "other_transport": "#a0cbe8",
    "agriculture": "#b6992d",
    "waste": "#9c755f",
    "industry": "#79706e",
    "energy": "#b07aa1",
}
_OTHER_COLOURS: Final = ("#76b7b2", "#ff9da7", "#bab0ac", "#d4a6c8", "#86bcb6", "#fabfd2")
SEQUESTRATION_COLOUR: Final = "#59a14f"
NET_COLOUR: Final = "#1b1b1b"
TARGET_COLOUR: Final = "#d62728"
TREND_COLOUR: Final = "#7f7f7f"
TITLE: Final = "Émissions, séquestration et trajectoire (GES, {unit}/an)"
DEMO_MARK: Final = "DONNÉES DE DÉMONSTRATION"


@dataclass(frozen=True)
class Captions:
    """What the chart says around the figures that the trajectory itself does not carry."""

    #: "Sources : … · Licences : …" (attribution, required by Etalab 2.0 and ODbL).
    credits: str | None = None
    #: Drawn from synthetic demonstration data: a visible mark across the chart.
    demo: bool = False


def _scale(values: Sequence[float]) -> tuple[float, str]:
    peak = max((abs(v) for v in values), default=0.0)
    if peak >= 5e6:
        return 1e6, "MtCO₂e"
    if peak >= 5e3:
        return 1e3, "ktCO₂e"
    return 1.0, "tCO₂e"


def _key_order(keys: set[str]) -> list[str]:
    known = [s for s in SECTORS if s in keys]
    return known + sorted(keys - set(known))


_BASIS_FR: Final = {"inventory": "inventaire territorial", "actors": "somme des acteurs"}
_APPROACH_FR: Final = {"territorial": "approche cadastrale", "footprint": "empreinte"}


def subtitle_for(scope: TrajectoryScope, territory_name: str | None) -> str:
    """The scope in words: ``CA de La Rochelle · inventaire territorial · PRG GIEC AR5``."""
    parts = (
        territory_name or scope.territory,
        SECTOR_LABELS_FR.get(scope.sector, scope.sector) if scope.sector else None,  # type: ignore[call-overload]
        f"acteur {scope.actor}" if scope.actor else None,
        _BASIS_FR.get(scope.basis, scope.basis) if scope.basis else None,
        _APPROACH_FR.get(scope.approach, scope.approach),
        f"PRG à 100 ans GIEC {scope.gwp.upper()}",
        "corrigé du climat" if scope.climate_corrected else None,
    )
    return " · ".join(p for p in parts if p)


def captions_for(read: TrajectoryRead, licence_titles: Sequence[str], demo: bool) -> Captions:
    """Sources (their attribution texts) and licences, as the chart must credit them."""
    if not read.sources:
        return Captions(demo=demo)
    sources = "; ".join(dict.fromkeys(s.attribution for s in read.sources))
    licences = ", ".join(dict.fromkeys(licence_titles))
    return Captions(credits=f"Sources : {sources} · Licences : {licences}", demo=demo)


def render_svg(
    result: TrajectoryResult,
    *,
    title: str | None = None,
    subtitle: str | None = None,
    labels: Mapping[str, str] | None = None,
    captions: Captions | None = None,
    scenario: ScenarioOut | None = None,
) -> bytes:
    """The chart as SVG bytes (UTF-8). ``labels`` names breakdown keys (default: sectors)."""
    return render(
        result,
        title=title,
        subtitle=subtitle,
        labels=labels,
        captions=captions,
        fmt="svg",
        scenario=scenario,
    )


def _fmt(value: float) -> str:
    """French number: thin-space thousands, decimal comma (``1 234,5``)."""
    return f"{value:,.1f}".replace(",", "\u202f").replace(".", ",").removesuffix(",0")


def _last_gap(result: TrajectoryResult) -> tuple[int, float] | None:
    observed = [y.year for y in result.series if y.net is not None and not y.interpolated]
    gaps = {p.year: p.value for p in result.gap}
    year = max((y for y in observed if y in gaps), default=None)
    return None if year is None else (year, gaps[year])


@dataclass
class _Canvas:
    """The axes being drawn on, the scale of its figures and what the elements share: the top
    and bottom of each year's stack, and the legend's entries."""

    ax: Any
    divisor: float
    unit: str
    up: dict[int, float]
    down: dict[int, float]
    handles: list[object] = field(default_factory=list)

    def stack(self, year: int, value: float, **style: Any) -> None:
        """A bar on top of the year's stack (below it, for a negative value)."""
        base = self.up if value >= 0 else self.down
        self.ax.bar(year, value, _BAR_WIDTH, bottom=base[year], **style)
        base[year] += value


_BAR_WIDTH: Final = 0.72
_MASKED_STYLE: Final[dict[str, Any]] = {
    "color": "#e6e6e6",
    "hatch": "xx",
    "edgecolor": "#9a9a9a",
    "linewidth": 0.4,
}


def _extent(result: TrajectoryResult, scenario: ScenarioOut | None) -> list[float]:
    """Every value the axis must show, for its scale."""
    extent: list[float] = [0.0]
    for y in result.series:
        extent.append(sum(v for v in y.breakdown.values() if v > 0) or (y.emissions or 0.0))
        extent.extend([-(y.sequestration or 0.0), y.net or 0.0, y.emissions or 0.0])
    if result.target:
        extent.extend(p.value for p in result.target.path)
    if scenario:
        extent.extend(v for p in scenario.series for v in (p.baseline, p.net))
    return extent


def _last_year(result: TrajectoryResult, scenario: ScenarioOut | None) -> int:
    """The last year drawn: the series', the target's, the scenario's, or the trend's
    neutrality year when it comes within 30 years."""
    target = result.target.path if result.target else ()
    x_max = max([*(y.year for y in result.series), *(p.year for p in target)], default=0)
    if scenario and scenario.series:
        x_max = max(x_max, scenario.to_year)
    neutral = result.projection.neutrality_year if result.projection else None
    if neutral is not None and x_max and neutral <= x_max + 30:
        x_max = max(x_max, neutral)
    return x_max


def _colours(keys: Sequence[str]) -> dict[str, str]:
    return {
        key: SECTOR_COLOURS.get(key, _OTHER_COLOURS[i % len(_OTHER_COLOURS)])
        for i, key in enumerate(k for k in keys if k not in SECTOR_COLOURS)
    } | {k: v for k, v in SECTOR_COLOURS.items() if k in keys}


def _draw_sectors(
    canvas: _Canvas, series: Sequence[YearFigures], keys: Sequence[str], names: Mapping[str, str]
) -> None:
    """Stacked emissions: positive parts up from 0, negative parts down."""
    colours = _colours(keys)
    for key in keys:
        for y in series:
            value = y.breakdown.get(key)
            if value is None:
                continue
            canvas.stack(
                y.year,
                value / canvas.divisor,
                color=colours[key],
                alpha=0.45 if y.interpolated else 1.0,
                hatch="//" if y.interpolated else None,
                edgecolor="white",
                linewidth=0.4,
            )
        canvas.handles.append(Patch(facecolor=colours[key], label=names.get(key, key)))
    canvas.handles.reverse()  # legend from the top of the stack down, like the bars


def _draw_masked(canvas: _Canvas, series: Sequence[YearFigures], keys: Sequence[str]) -> None:
    """What secrecy hides, as one grey block a year: the total shows its sum anyway."""
    masked = False
    for y in series:
        if keys and y.emissions is not None:
            rest = (y.emissions - sum(y.breakdown.values())) / canvas.divisor
            if abs(rest) > 1e-9 * max(1.0, abs(y.emissions / canvas.divisor)):
                canvas.stack(y.year, rest, **_MASKED_STYLE)
                masked = True
    if masked:
        style = {k: v for k, v in _MASKED_STYLE.items() if k not in ("color", "linewidth")}
        canvas.handles.insert(
            0, Patch(facecolor="#e6e6e6", label="Masqué (secret statistique)", **style)
        )


def _draw_totals(canvas: _Canvas, series: Sequence[YearFigures]) -> None:
    """No breakdown asked: one grey bar per year."""
    for y in series:
        if y.emissions is not None:
            canvas.ax.bar(y.year, y.emissions / canvas.divisor, _BAR_WIDTH, color="#8c8c8c")
            canvas.up[y.year] = y.emissions / canvas.divisor
    canvas.handles.append(Patch(facecolor="#8c8c8c", label="Émissions"))


def _draw_sequestration(canvas: _Canvas, series: Sequence[YearFigures]) -> None:
    """Removals below the stack (a net source of land use: on top of it)."""
    seq_years = [y for y in series if y.sequestration]
    for y in seq_years:
        canvas.stack(
            y.year,
            -(y.sequestration or 0.0) / canvas.divisor,
            color=SEQUESTRATION_COLOUR,
            alpha=0.45 if y.interpolated else 1.0,
            edgecolor="white",
            linewidth=0.4,
        )
    if seq_years:
        canvas.handles.append(Patch(facecolor=SEQUESTRATION_COLOUR, label="Séquestration (puits)"))


def _draw_bars(canvas: _Canvas, series: Sequence[YearFigures], names: Mapping[str, str]) -> None:
    keys = _key_order({k for y in series for k in y.breakdown})
    _draw_sectors(canvas, series, keys, names)
    _draw_masked(canvas, series, keys)
    if not keys:
        _draw_totals(canvas, series)
    _draw_sequestration(canvas, series)
    if any(y.interpolated for y in series):
        canvas.handles.append(
            Patch(facecolor="#cccccc", hatch="//", edgecolor="white", label="Année interpolée")
        )


def _draw_net(canvas: _Canvas, series: Sequence[YearFigures]) -> None:
    if not any(y.net is not None for y in series):
        return
    (line,) = canvas.ax.plot(
        [y.year for y in series],
        [float("nan") if y.net is None else y.net / canvas.divisor for y in series],
        color=NET_COLOUR,
        marker="o",
        markersize=4,
        linewidth=2,
        label="Émissions nettes",
        path_effects=[patheffects.withStroke(linewidth=4, foreground="white")],
        zorder=5,
    )
    canvas.handles.append(line)


def _draw_target(canvas: _Canvas, target: TargetPath | None) -> None:
    if not target or not target.path:
        return
    spec = target.spec
    kind = "linéaire" if spec.pathway == "linear" else "taux annuel constant"
    (line,) = canvas.ax.plot(
        [p.year for p in target.path],
        [p.value / canvas.divisor for p in target.path],
        color=TARGET_COLOUR,
        linestyle="--",
        linewidth=2,
        zorder=6,
        label=f"Trajectoire cible ({kind}) {spec.reference_year}→{spec.target_year}",
    )
    canvas.handles.append(line)


def _draw_neutrality(canvas: _Canvas, neutral: int | None, x_max: int) -> None:
    """The trend's neutrality year: a line when drawn, else said in a corner."""
    if neutral is not None and neutral <= x_max:
        canvas.ax.axvline(neutral, color=SEQUESTRATION_COLOUR, linestyle="-.", linewidth=1.2)
        canvas.ax.annotate(
            f"Neutralité (tendance) : {neutral}",
            xy=(neutral, 0),
            xytext=(-6, 10),
            textcoords="offset points",
            ha="right",
            fontsize=9,
            color="#2f6b2a",
            fontweight="bold",
        )
        return
    canvas.ax.text(
        0.99,
        0.98,
        f"Neutralité en {neutral} au rythme observé"
        if neutral is not None
        else "Neutralité non atteinte selon la tendance observée",
        transform=canvas.ax.transAxes,
        ha="right",
        va="top",
        fontsize=9,
        color="#2f6b2a",
    )


def _draw_projection(canvas: _Canvas, projection: Projection | None, x_max: int) -> None:
    if projection is None:
        return
    neutral = projection.neutrality_year
    end = neutral if neutral is not None and neutral <= x_max else x_max
    end = max(end, projection.last_year)
    (line,) = canvas.ax.plot(
        [projection.first_year, end],
        [
            projection.at(projection.first_year) / canvas.divisor,
            projection.at(end) / canvas.divisor,
        ],
        color=TREND_COLOUR,
        linestyle=":",
        linewidth=1.8,
        zorder=4,
        label="Tendance observée (moindres carrés)",
    )
    canvas.handles.append(line)
    _draw_neutrality(canvas, neutral, x_max)


def _draw_gap(canvas: _Canvas, result: TrajectoryResult) -> None:
    last_gap = _last_gap(result)
    if last_gap is None:
        return
    gap_year, gap_value = last_gap
    sign = "+" if gap_value > 0 else ""
    canvas.ax.text(
        0.99,
        0.92,
        f"Écart à la cible en {gap_year} : {sign}{_fmt(gap_value / canvas.divisor)} {canvas.unit}"
        + (" (au-dessus)" if gap_value > 0 else " (en avance)" if gap_value < 0 else ""),
        transform=canvas.ax.transAxes,
        ha="right",
        va="top",
        fontsize=9,
        color=TARGET_COLOUR,
    )


def _draw_axes(ax: Any, result: TrajectoryResult, unit: str, x_max: int) -> None:
    """The zero line, the axes' labels and grid, and the years shown (ticks every 1, 2 or 5)."""
    ax.axhline(0, color="#333333", linewidth=0.8)
    ax.set_xlabel("Année")
    ax.set_ylabel(f"{unit} par an")
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    years = [y.year for y in result.series]
    target = result.target.path if result.target else ()
    if years or target:
        x_min = min([*years, *(p.year for p in target)])
        ax.set_xlim(x_min - 0.8, x_max + 0.8)
        span = x_max - x_min
        step = 1 if span <= 12 else 2 if span <= 24 else 5
        start = x_min - x_min % step if step > 1 else x_min
        ax.set_xticks(range(start, x_max + 1, step))


def _notes(result: TrajectoryResult, captions: Captions) -> list[str]:
    """What the chart says below the axes: withheld values, net land-use sources, credits."""
    notes = []
    hidden = len(result.withheld)
    if hidden:
        notes.append(f"{hidden} valeur(s) masquée(s) par le secret statistique.")
    sources_years = [y.year for y in result.series if (y.sequestration or 0.0) < 0]
    if sources_years:
        notes.append(
            "Séquestration négative en "
            + ", ".join(str(y) for y in sources_years[:5])
            + (" …" if len(sources_years) > 5 else "")
            + " : les changements d'usage des sols y émettent plus que les puits n'absorbent "
            "(source nette, ajoutée aux émissions)."
        )
    if captions.credits:
        notes.extend(textwrap.wrap(captions.credits, 170)[:3])
    return notes


def _draw_notes(fig: Figure, notes: Sequence[str]) -> None:
    if not notes:
        return
    # Room below the axes for the notes (the layout engine does not place figure texts).
    bottom = 0.03 * len(notes) + 0.01
    layout = fig.get_layout_engine()
    if isinstance(layout, ConstrainedLayoutEngine):
        layout.set(rect=(0, bottom, 1, 1 - bottom))
    fig.text(0.01, 0.005, "\n".join(notes), fontsize=7.5, color="#555555", va="bottom")


def _draw_demo_mark(fig: Figure) -> None:
    fig.text(
        0.5,
        0.5,
        DEMO_MARK,
        fontsize=42,
        color="#d62728",
        alpha=0.18,
        rotation=20,
        ha="center",
        va="center",
        fontweight="bold",
    )


def _names(labels: Mapping[str, str] | None) -> dict[str, str]:
    names: dict[str, str] = {str(k): v for k, v in SECTOR_LABELS_FR.items()}
    names.update({"all": "Émissions", "total": "Émissions", **(labels or {})})
    return names


def _draw_figures(
    canvas: _Canvas,
    result: TrajectoryResult,
    labels: Mapping[str, str] | None,
    scenario: ScenarioOut | None,
    x_max: int,
) -> None:
    """Everything drawn inside the axes, in the order the layers stack."""
    _draw_bars(canvas, result.series, _names(labels))
    _draw_net(canvas, result.series)
    _draw_target(canvas, result.target)
    _draw_projection(canvas, result.projection, x_max)
    _draw_gap(canvas, result)
    if scenario and scenario.series:
        canvas.handles.extend(_draw_scenario(canvas.ax, scenario, canvas.divisor))


def render(
    result: TrajectoryResult,
    *,
    title: str | None = None,
    subtitle: str | None = None,
    labels: Mapping[str, str] | None = None,
    captions: Captions | None = None,
    fmt: Literal["svg", "png"] = "svg",
    width_in: float = 11.0,
    height_in: float = 6.2,
    scenario: ScenarioOut | None = None,
) -> bytes:
    """The chart in ``fmt``. ``title`` defaults to one naming the unit of the axis."""
    captions = captions or Captions()
    matplotlib.use("Agg")
    # Text stays text in SVG (searchable, accessible, and lighter than glyph outlines).
    matplotlib.rcParams["svg.fonttype"] = "none"
    divisor, unit = _scale(_extent(result, scenario))
    title = title or TITLE.format(unit=unit)
    x_max = _last_year(result, scenario)

    fig = Figure(figsize=(width_in, height_in), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    years = {y.year: 0.0 for y in result.series}
    canvas = _Canvas(ax, divisor, unit, dict(years), dict(years))
    _draw_figures(canvas, result, labels, scenario, x_max)
    _draw_axes(ax, result, unit, x_max)
    fig.suptitle(title, fontsize=14, fontweight="bold", x=0.01, ha="left")
    if subtitle:
        ax.set_title(subtitle, fontsize=10, loc="left", color="#555555")
    _draw_notes(fig, _notes(result, captions))
    if captions.demo:
        _draw_demo_mark(fig)
    ax.legend(
        handles=canvas.handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        fontsize=9,
    )
    if not result.series:
        ax.text(0.5, 0.5, "Aucune donnée", transform=ax.transAxes, ha="center", fontsize=12)

    buffer = io.BytesIO()
    fig.savefig(
        buffer, format=fmt, metadata={"Date": None, "Title": title} if fmt == "svg" else None
    )
    return buffer.getvalue()


_WEDGE_COLOURS: Final = ("#8cd17d", "#b6e3a8", "#59a14f", "#cfe8c4", "#499894", "#a6d5cf")
_MAX_WEDGES: Final = 6


def _draw_scenario(ax: Any, scenario: ScenarioOut, divisor: float) -> list[object]:
    """The plan's scenario as a line, the emissions each action avoids as wedges above it (up
    to the baseline), the biggest first; the smaller ones share one wedge."""
    years = [p.year for p in scenario.series]
    handles: list[object] = []
    ranked = [a.id for a in scenario.actions]
    shown, rest = ranked[:_MAX_WEDGES], ranked[_MAX_WEDGES:]
    titles = {a.id: a.title for a in scenario.actions}
    bands = [([a], titles[a]) for a in shown] + ([(rest, "Autres actions")] if rest else [])
    lower = [p.net / divisor for p in scenario.series]
    for i, (ids, label) in enumerate(bands):
        upper = [
            low + sum(p.contributions.get(a, 0.0) for a in ids) / divisor
            for low, p in zip(lower, scenario.series, strict=True)
        ]
        colour = _WEDGE_COLOURS[i % len(_WEDGE_COLOURS)]
        ax.fill_between(years, lower, upper, color=colour, alpha=0.7, linewidth=0, zorder=3)
        handles.append(Patch(facecolor=colour, alpha=0.7, label=f"Évité : {label[:40]}"))
        lower = upper
    (line,) = ax.plot(
        years,
        [p.net / divisor for p in scenario.series],
        color="#2f6b2a",
        linewidth=2.2,
        zorder=7,
        label="Scénario du plan",
    )
    handles.append(line)
    if scenario.neutrality_year is not None:
        ax.annotate(
            f"Neutralité (plan) : {scenario.neutrality_year}",
            xy=(scenario.neutrality_year, 0),
            xytext=(6, -14),
            textcoords="offset points",
            fontsize=9,
            color="#2f6b2a",
            fontweight="bold",
        )
    return handles
