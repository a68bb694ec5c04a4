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
from dataclasses import dataclass
from typing import Any, Final, Literal

import matplotlib
from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import Patch

from datahub.carbon.plan_schemas import ScenarioOut
from datahub.carbon.schemas import TrajectoryRead, TrajectoryScope
from datahub.carbon.sectors import SECTOR_LABELS_FR, SECTORS
from datahub.carbon.trajectory import TrajectoryResult

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
    series = result.series
    target = result.target.path if result.target else ()
    projection = result.projection

    extent: list[float] = [0.0]
    for y in series:
        extent.append(sum(v for v in y.breakdown.values() if v > 0) or (y.emissions or 0.0))
        extent.extend([-(y.sequestration or 0.0), y.net or 0.0, y.emissions or 0.0])
    extent.extend(p.value for p in target)
    if scenario:
        extent.extend(v for p in scenario.series for v in (p.baseline, p.net))
    divisor, unit = _scale(extent)
    title = title or TITLE.format(unit=unit)

    years = [y.year for y in series]
    x_max = max([*years, *(p.year for p in target)], default=0)
    if scenario and scenario.series:
        x_max = max(x_max, scenario.to_year)
    neutral = projection.neutrality_year if projection else None
    if neutral is not None and x_max and neutral <= x_max + 30:
        x_max = max(x_max, neutral)

    fig = Figure(figsize=(width_in, height_in), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    keys = _key_order({k for y in series for k in y.breakdown})
    colours = {
        key: SECTOR_COLOURS.get(key, _OTHER_COLOURS[i % len(_OTHER_COLOURS)])
        for i, key in enumerate(k for k in keys if k not in SECTOR_COLOURS)
    } | {k: v for k, v in SECTOR_COLOURS.items() if k in keys}
    handles: list[object] = []
    names: dict[str, str] = {str(k): v for k, v in SECTOR_LABELS_FR.items()}
    names.update({"all": "Émissions", "total": "Émissions", **(labels or {})})

    # Stacked emissions: positive parts up from 0, negative parts down; sequestration below.
    width = 0.72
    up = {y.year: 0.0 for y in series}
    down = {y.year: 0.0 for y in series}
    for key in keys:
        for y in series:
            value = y.breakdown.get(key)
            if value is None:
                continue
            v = value / divisor
            base = up if v >= 0 else down
            ax.bar(
                y.year,
                v,
                width,
                bottom=base[y.year],
                color=colours[key],
                alpha=0.45 if y.interpolated else 1.0,
                hatch="//" if y.interpolated else None,
                edgecolor="white",
                linewidth=0.4,
            )
            base[y.year] += v
        handles.append(Patch(facecolor=colours[key], label=names.get(key, key)))
    handles.reverse()  # legend from the top of the stack down, like the bars
    masked = False
    for y in series:  # what secrecy hides, as one grey block: the total shows its sum anyway
        if keys and y.emissions is not None:
            rest = (y.emissions - sum(y.breakdown.values())) / divisor
            if abs(rest) > 1e-9 * max(1.0, abs(y.emissions / divisor)):
                base = up if rest >= 0 else down
                ax.bar(
                    y.year,
                    rest,
                    width,
                    bottom=base[y.year],
                    color="#e6e6e6",
                    hatch="xx",
                    edgecolor="#9a9a9a",
                    linewidth=0.4,
                )
                base[y.year] += rest
                masked = True
    if masked:
        handles.insert(
            0,
            Patch(
                facecolor="#e6e6e6",
                hatch="xx",
                edgecolor="#9a9a9a",
                label="Masqué (secret statistique)",
            ),
        )
    if not keys:  # no breakdown asked: one grey bar per year
        for y in series:
            if y.emissions is not None:
                ax.bar(y.year, y.emissions / divisor, width, color="#8c8c8c")
                up[y.year] = y.emissions / divisor
        handles.append(Patch(facecolor="#8c8c8c", label="Émissions"))
    seq_years = [y for y in series if y.sequestration]
    for y in seq_years:
        v = -(y.sequestration or 0.0) / divisor
        base = down if v < 0 else up
        ax.bar(
            y.year,
            v,
            width,
            bottom=base[y.year],
            color=SEQUESTRATION_COLOUR,
            alpha=0.45 if y.interpolated else 1.0,
            edgecolor="white",
            linewidth=0.4,
        )
        base[y.year] += v
    if seq_years:
        handles.append(Patch(facecolor=SEQUESTRATION_COLOUR, label="Séquestration (puits)"))
    if any(y.interpolated for y in series):
        handles.append(
            Patch(facecolor="#cccccc", hatch="//", edgecolor="white", label="Année interpolée")
        )

    net_x = [y.year for y in series]
    net_y = [float("nan") if y.net is None else y.net / divisor for y in series]
    if any(y.net is not None for y in series):
        (line,) = ax.plot(
            net_x,
            net_y,
            color=NET_COLOUR,
            marker="o",
            markersize=4,
            linewidth=2,
            label="Émissions nettes",
            path_effects=[patheffects.withStroke(linewidth=4, foreground="white")],
            zorder=5,
        )
        handles.append(line)
    if target and result.target:
        spec = result.target.spec
        kind = "linéaire" if spec.pathway == "linear" else "taux annuel constant"
        (line,) = ax.plot(
            [p.year for p in target],
            [p.value / divisor for p in target],
            color=TARGET_COLOUR,
            linestyle="--",
            linewidth=2,
            zorder=6,
            label=f"Trajectoire cible ({kind}) {spec.reference_year}→{spec.target_year}",
        )
        handles.append(line)
    if projection is not None:
        end = neutral if neutral is not None and neutral <= x_max else x_max
        end = max(end, projection.last_year)
        (line,) = ax.plot(
            [projection.first_year, end],
            [projection.at(projection.first_year) / divisor, projection.at(end) / divisor],
            color=TREND_COLOUR,
            linestyle=":",
            linewidth=1.8,
            zorder=4,
            label="Tendance observée (moindres carrés)",
        )
        handles.append(line)
        if neutral is not None and neutral <= x_max:
            ax.axvline(neutral, color=SEQUESTRATION_COLOUR, linestyle="-.", linewidth=1.2)
            ax.annotate(
                f"Neutralité (tendance) : {neutral}",
                xy=(neutral, 0),
                xytext=(-6, 10),
                textcoords="offset points",
                ha="right",
                fontsize=9,
                color="#2f6b2a",
                fontweight="bold",
            )
        else:
            ax.text(
                0.99,
                0.98,
                f"Neutralité en {neutral} au rythme observé"
                if neutral is not None
                else "Neutralité non atteinte selon la tendance observée",
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize=9,
                color="#2f6b2a",
            )
    last_gap = _last_gap(result)
    if last_gap is not None:
        gap_year, gap_value = last_gap
        sign = "+" if gap_value > 0 else ""
        ax.text(
            0.99,
            0.92,
            f"Écart à la cible en {gap_year} : {sign}{_fmt(gap_value / divisor)} {unit}"
            + (" (au-dessus)" if gap_value > 0 else " (en avance)" if gap_value < 0 else ""),
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=9,
            color=TARGET_COLOUR,
        )

    if scenario and scenario.series:
        handles.extend(_draw_scenario(ax, scenario, divisor))

    ax.axhline(0, color="#333333", linewidth=0.8)
    ax.set_xlabel("Année")
    ax.set_ylabel(f"{unit} par an")
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if years or target:
        x_min = min([*years, *(p.year for p in target)])
        ax.set_xlim(x_min - 0.8, x_max + 0.8)
        span = x_max - x_min
        step = 1 if span <= 12 else 2 if span <= 24 else 5
        start = x_min - x_min % step if step > 1 else x_min
        ax.set_xticks(range(start, x_max + 1, step))
    fig.suptitle(title, fontsize=14, fontweight="bold", x=0.01, ha="left")
    if subtitle:
        ax.set_title(subtitle, fontsize=10, loc="left", color="#555555")
    notes = []
    hidden = len(result.withheld)
    if hidden:
        notes.append(f"{hidden} valeur(s) masquée(s) par le secret statistique.")
    sources_years = [y.year for y in series if (y.sequestration or 0.0) < 0]
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
    if notes:
        # Room below the axes for the notes (the layout engine does not place figure texts).
        bottom = 0.03 * len(notes) + 0.01
        layout = fig.get_layout_engine()
        if isinstance(layout, ConstrainedLayoutEngine):
            layout.set(rect=(0, bottom, 1, 1 - bottom))
        fig.text(0.01, 0.005, "\n".join(notes), fontsize=7.5, color="#555555", va="bottom")
    if captions.demo:
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
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9
    )
    if not series:
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
