"""Disclosure: what a trajectory may show of data used only in aggregate (contract §5, §5b).

Pure (no database): built from the aggregate-only figures at their own territories and the
roll-up hierarchy, once per *data version* (the caller memoises a :class:`Disclosure` on the
versions of the datasets involved), then asked, per request, which cells of one territory's
table are withheld. Nothing here depends on the request's ``gwp``, ``climate_corrected``,
``interpolate``, ``from``/``to`` or on the territory viewed, so every variant of every query
sees the same decisions:

- **GWP and climate correction** change the coefficient of a figure, not which figures a cell
  sums. Figures are grouped into *parts* by those coefficients: the gas (tonnes of CO2e, of
  fossil CH4, of non-fossil CH4, of N2O: each GWP set weighs them differently) and the heating
  share of the sector (climate correction scales residential and tertiary by a public factor
  per year and territory, when the instance holds climate data at all). Asking a cell in every
  variant tells at most each of its parts' sums, so :mod:`datahub.carbon.secrecy` treats every
  part of a shown cell as published on its own (a cell whose CH4 comes from one farm is
  withheld even when its CO2 has many actors; a withheld residential cell needs a partner
  among the other residential figures, not the industry ones). Decisions use the values of
  one GWP set (AR5) and no correction; inside a part the coefficient is common, so shares of
  actors do not depend on it.
- **Interpolation, windows, target, gap, projection** only combine shown values
  (:mod:`datahub.carbon.trajectory`), so they add nothing to what the shown cells give.
- **``by``** and the sector endpoint: only the by-sector tables are decided; every other table
  follows from them (see :meth:`Disclosure.outcome`), so no two tables can disagree.
- **``basis``** and **``approach``** select disjoint rows: each is its own system (the caller
  builds one :class:`Disclosure` per basis).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from threading import Lock
from typing import Final, Literal

from datahub.carbon.secrecy import (
    Contribution,
    Decisions,
    SecrecyOutcome,
    SecrecyRule,
    WithheldCell,
    decide,
)
from datahub.carbon.units import DEFAULT_GWP_SET, Gas, gwp
from datahub.territories.codes import level_of, rank

By = Literal["sector", "ghg", "none"]
TOTAL_KEY: Final = "total"


@dataclass(frozen=True)
class Figure:
    """One aggregate-only fact at the territory it is counted at (before roll-up).

    ``tonnes`` are tonnes of ``gas`` (``CO2e`` for a CO2e mass); ``actor`` is whom the figure
    belongs to (the caller turns rows naming no actor into a per-dataset pseudo-actor);
    ``owner`` the organisation that published it."""

    scope: str
    year: int
    sector: str
    ghg: str
    gas: str
    actor: str
    owner: str
    tonnes: float


@dataclass(frozen=True)
class Family:
    """Tables with the same rows, key and sector filter: one secrecy decision for all
    territories."""

    sector: str | None
    by: By


BY_SECTOR: Final = Family(None, "sector")


def key_of(sector: str, ghg: str, by: By) -> str:
    if by == "sector":
        return sector
    if by == "ghg":
        return ghg
    return TOTAL_KEY


def part(gas: str, sector: str, heating_shares: Mapping[str, float]) -> str:
    """The coefficient class of a figure across query variants: its gas (CH4 unqualified is
    fossil CH4, as :func:`datahub.carbon.units.gwp` reads it) and its heating share."""
    gas_class = "CH4_fossil" if gas == "CH4" else gas
    share = heating_shares.get(sector, 0.0)
    return f"{gas_class}|heating {share:g}" if share else gas_class


def tco2e(figure: Figure) -> float:
    """The figure in tCO2e with the decision GWP set (any set gives the same decisions)."""
    if figure.gas == "CO2e":
        return figure.tonnes
    gas: Gas = figure.gas  # type: ignore[assignment]
    return figure.tonnes * gwp(gas, DEFAULT_GWP_SET)


class Disclosure:
    """Every family's decisions over one set of aggregate-only figures, computed on first use.

    ``edges`` maps each figure's territory to every territory its figures are rolled up into;
    ``heating_shares`` are the sectors' shares when climate correction can be asked (empty
    when the instance holds no climate data: the variant does not exist)."""

    def __init__(
        self,
        figures: Sequence[Figure],
        edges: Mapping[str, Iterable[str]],
        rule: SecrecyRule,
        heating_shares: Mapping[str, float],
        *,
        levels: Mapping[str, int] | None = None,
    ) -> None:
        self.figures = list(figures)
        self.edges = {t: frozenset(up) for t, up in edges.items()}
        self.rule = rule
        self.shares = dict(heating_shares)
        if levels is None:
            codes = set(self.edges).union(*self.edges.values()) if self.edges else set()
            levels = {code: i for i, code in enumerate(_most_specific_first(codes))}
        self.levels = dict(levels)
        self._decided: Decisions | None = None
        self._lock = Lock()
        # (territory, sector or None) → year → gas label → gases of the figures inside it
        self._labels: dict[tuple[str, str | None], dict[int, dict[str, set[str]]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(set))
        )
        # (territory, year, label) → sectors holding figures with that label
        self._label_sectors: dict[tuple[str, int, str], set[str]] = defaultdict(set)
        for f in self.figures:
            gas = part(f.gas, "", {})
            for territory in {f.scope, *self.edges.get(f.scope, ())}:
                self._label_sectors[(territory, f.year, f.ghg)].add(f.sector)
                for sector in (None, f.sector):
                    self._labels[(territory, sector)][f.year][f.ghg].add(gas)

    def holds(self, territory: str) -> bool:
        """Whether any figure is counted in ``territory``."""
        return (territory, None) in self._labels

    def outcome(self, territory: str, family: Family) -> SecrecyOutcome:
        """What ``territory``'s table of ``family`` withholds.

        Only the by-sector tables are decided (:func:`datahub.carbon.secrecy.decide`); every
        other table follows from them. Its total is a year's total (or, on the sector
        endpoint, the sector's cell), withheld where the by-sector table withholds it. Its
        cells split that total by gas (``by=ghg``) or not at all (``by=none``, or a sector's
        own cell). Where there is no split, or a gas cell says nothing the total's parts do
        not (:func:`_free_labels`), it follows the total. Any other gas cell holding
        aggregate-only figures is withheld: a territory's by-gas table and its sectors' by-gas
        tables cross-tabulate sector × gas, and a (sector, gas) part could be recomputed from
        the two margins.
        """
        decided = self.decisions().outcome(territory)
        if family == BY_SECTOR:
            return decided
        heads = {c.year: c.reason for c in decided.withheld if c.key == family.sector}
        cells = [WithheldCell(year, None, "complementary") for year in sorted(heads)]
        if family.sector is not None and family.by == "sector":
            cells += [WithheldCell(y, family.sector, why) for y, why in sorted(heads.items())]
        elif family.by == "none":
            cells += [WithheldCell(y, TOTAL_KEY, why) for y, why in sorted(heads.items())]
        elif family.by == "ghg":
            labels = self._labels.get((territory, family.sector), {})
            for year, found in sorted(labels.items()):
                free = _free_labels(found)
                hidden = decided.hidden_keys(year)
                for label in sorted(found):
                    if label not in free:
                        cells.append(WithheldCell(year, label, "complementary"))
                    elif year in heads and not self._parts_shown(territory, year, label, hidden):
                        cells.append(WithheldCell(year, label, heads[year]))
        return SecrecyOutcome(tuple(cells))

    def _parts_shown(
        self, territory: str, year: int, label: str, hidden_sectors: frozenset[str]
    ) -> bool:
        """Whether every sector cell holding ``label`` is shown: a free label's cell is then the
        sum of parts of shown cells, and showing it adds nothing (its total may be withheld)."""
        return not (self._label_sectors[(territory, year, label)] & hidden_sectors)

    def decisions(self) -> Decisions:
        """The by-sector decisions of every territory (computed once)."""
        with self._lock:
            if self._decided is None:
                contributions = [
                    Contribution(
                        f.year,
                        f.sector,
                        f.actor,
                        tco2e(f),
                        f.scope,
                        part(f.gas, f.sector, self.shares),
                        f.owner,
                    )
                    for f in self.figures
                ]
                self._decided = decide(
                    contributions, self.edges, levels=self.levels, rule=self.rule
                )
            return self._decided


def _free_labels(labels: Mapping[str, set[str]]) -> set[str]:
    """The gas labels (label → gases of its figures) whose cells say nothing their total does
    not: no other label shares a gas with them, so each such cell is the sum of whole parts
    of the total (one label alone is the total itself), which its GWP variants give anyway."""
    free = set()
    for label, gases in labels.items():
        if not any(gases & other for name, other in labels.items() if name != label):
            free.add(label)
    return free


def _most_specific_first(codes: Iterable[str]) -> list[str]:
    """Territory codes from the smallest level to the largest (unknown levels first)."""

    def order(code: str) -> tuple[int, str]:
        level = level_of(code)
        return (rank(level) if level is not None else -1, code)

    return sorted(codes, key=order)
