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
    ``owner`` the organisation that published it; ``source`` the dataset it comes from (the
    owner's name when empty): what a view uses in aggregate and a knower reads in full."""

    scope: str
    year: int
    sector: str
    ghg: str
    gas: str
    actor: str
    owner: str
    tonnes: float
    source: str = ""

    @property
    def label(self) -> str:
        return self.source or self.owner


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
    when the instance holds no climate data: the variant does not exist).

    **Views.** Callers differ in what they read in full: a charter member reads the shared
    datasets an anonymous caller sees only in aggregate, a producer its own, a grantee what it
    was granted. The figures are every source *some* view uses in aggregate, and ``knowers``
    what each possible caller reads in full among them (default: each owner its own sources).
    One set of decisions is taken for all views, with every rule and the exact attacker
    holding for each knower (:func:`datahub.carbon.secrecy.decide`), and each view is asked
    with the sources it uses in aggregate (:meth:`outcome`): it withholds a decided cell only
    where that cell holds some of them (the others it reads in full). So a caller who combines
    its own view with any less privileged one (anonymous, at least) learns, beyond what it
    reads, only the cells that are shown in the decisions, in which what it cannot read passes
    the rule: a member cannot subtract the shared figures it reads from an anonymous aggregate
    and be left with one restricted actor."""

    def __init__(
        self,
        figures: Sequence[Figure],
        edges: Mapping[str, Iterable[str]],
        rule: SecrecyRule,
        heating_shares: Mapping[str, float],
        *,
        levels: Mapping[str, int] | None = None,
        knowers: Iterable[frozenset[str]] | None = None,
    ) -> None:
        self.figures = list(figures)
        self.edges = {t: frozenset(up) for t, up in edges.items()}
        self.rule = rule
        self.shares = dict(heating_shares)
        self.knowers = None if knowers is None else sorted(set(knowers), key=sorted)
        if levels is None:
            codes = set(self.edges).union(*self.edges.values()) if self.edges else set()
            levels = {code: i for i, code in enumerate(_most_specific_first(codes))}
        self.levels = dict(levels)
        self._decided: Decisions | None = None
        self._views: dict[frozenset[str] | None, _View] = {}
        self._lock = Lock()
        # (territory, year, sector or None) → the sources of the figures counted in it
        self.sources: dict[tuple[str, int, str | None], set[str]] = defaultdict(set)
        self.labels = frozenset(f.label for f in self.figures)
        for f in self.figures:
            for territory in {f.scope, *self.edges.get(f.scope, ())}:
                for sector in (None, f.sector):
                    self.sources[(territory, f.year, sector)].add(f.label)

    def outcome(
        self, territory: str, family: Family, view: Iterable[str] | None = None
    ) -> SecrecyOutcome:
        """What ``territory``'s table of ``family`` withholds, for a caller using the sources
        ``view`` in aggregate (None: every source; the others it reads in full).

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
        seen = self._view(None if view is None else frozenset(view))
        decided = seen.decided.outcome(territory)
        if family == BY_SECTOR:
            return decided
        heads = {c.year: c.reason for c in decided.withheld if c.key == family.sector}
        cells = [WithheldCell(year, None, "complementary") for year in sorted(heads)]
        if family.sector is not None and family.by == "sector":
            cells += [WithheldCell(y, family.sector, why) for y, why in sorted(heads.items())]
        elif family.by == "none":
            cells += [WithheldCell(y, TOTAL_KEY, why) for y, why in sorted(heads.items())]
        elif family.by == "ghg":
            labels = seen.labels.get((territory, family.sector), {})
            for year, found in sorted(labels.items()):
                free = _free_labels(found)
                hidden = decided.hidden_keys(year)
                for label in sorted(found):
                    if label not in free:
                        cells.append(WithheldCell(year, label, "complementary"))
                    elif year in heads and (seen.label_sectors[(territory, year, label)] & hidden):
                        # not every sector cell holding the label is shown: the label's cell
                        # is not a sum of parts of shown cells
                        cells.append(WithheldCell(year, label, heads[year]))
        return SecrecyOutcome(tuple(cells))

    def _view(self, view: frozenset[str] | None) -> _View:
        decided = self.decisions()
        with self._lock:
            found = self._views.get(view)
            if found is None:
                found = self._views[view] = _View(self, decided, view)
            return found

    def decisions(self) -> Decisions:
        """The by-sector decisions of every territory, for every view at once (computed
        once)."""
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
                        f.label,
                    )
                    for f in self.figures
                ]
                self._decided = decide(
                    contributions,
                    self.edges,
                    levels=self.levels,
                    rule=self.rule,
                    knowers=self.knowers,
                )
            return self._decided


class _View:
    """The decisions and gas labels as one view sees them: a decided cell is withheld where it
    holds figures the view uses in aggregate and the view's caller, reading the others, cannot
    recompute it from what is shown; gas labels count the figures used in aggregate only."""

    def __init__(
        self, disclosure: Disclosure, decided: Decisions, view: frozenset[str] | None
    ) -> None:
        def uses(source: str) -> bool:
            return view is None or source in view

        sources = disclosure.sources
        known = frozenset() if view is None else disclosure.labels - view
        self.decided = Decisions(
            {
                territory: kept
                for territory, cells in decided.seen_by(known).by_territory.items()
                if (
                    kept := tuple(
                        c
                        for c in cells
                        if any(uses(s) for s in sources.get((territory, c.year, c.key), ()))
                    )
                )
            }
        )
        # (territory, sector or None) → year → gas label → gases of the figures inside it
        self.labels: dict[tuple[str, str | None], dict[int, dict[str, set[str]]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(set))
        )
        # (territory, year, label) → sectors holding figures with that label
        self.label_sectors: dict[tuple[str, int, str], set[str]] = defaultdict(set)
        for f in disclosure.figures:
            if not uses(f.label):
                continue
            gas = part(f.gas, "", {})
            for territory in {f.scope, *disclosure.edges.get(f.scope, ())}:
                self.label_sectors[(territory, f.year, f.ghg)].add(f.sector)
                for sector in (None, f.sector):
                    self.labels[(territory, sector)][f.year][f.ghg].add(gas)


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
