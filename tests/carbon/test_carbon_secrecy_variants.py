"""The exact attacker over every published figure of every query variant (contract §5b).

Random hierarchies (a region, two départements, EPCIs, communes with two parents, sometimes a
figure counted at an EPCI itself) hold random aggregate-only figures: several sectors (two of
them heating-sensitive), gases given as CO2e or as tonnes of CH4, non-fossil CH4 or N2O,
actors from a few organisations, years with a gap. For every territory, every table family
(``by=sector|ghg|none``, the sector endpoint ``by=sector|ghg``) and every variant
(``gwp=ar4|ar5|ar6`` × ``climate_corrected`` with random heating degree days per territory and
year, ``interpolate``, ``from``/``to``), the production code decides what is withheld
(:class:`datahub.carbon.disclosure.Disclosure`) and builds the series
(:func:`datahub.carbon.trajectory.build_trajectory`). Every number shown is a linear form over
the figures; the attacker stacks them all. Nothing withheld may lie in their span: no withheld
cell in any variant, no single figure, no actor's figure in a cell.

Callers differ in what they read in full (contract §2): the figures come from datasets of a
few organisations, some shared (a charter member reads them), some restricted-stat (only
their producer, and a grantee); each possible caller is a *knower* and has its own *view*
(the datasets it sees only in aggregate). A knower holds the responses of its own view and of
every less privileged one (the anonymous view at least), every variant of each, and every
figure it reads in full: the same must hold for it — nothing withheld in its view, no figure
it cannot read, no actor's figure and no withheld cell of any view whose unread part fails
the rule lies in the span. Every cell shown to a view passes the rule part by part, less what
any caller able to see that view reads in full. The test also measures the information loss:
the share of the cells that pass the rule on their own that are withheld anyway.
"""

from __future__ import annotations

import random
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import cast

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from datahub.carbon.disclosure import BY_SECTOR, Disclosure, Family, Figure, key_of, part
from datahub.carbon.secrecy import SecrecyOutcome, SecrecyRule, split_failure
from datahub.carbon.trajectory import build_trajectory, climate_correction_factor
from datahub.carbon.units import Gas, GwpSet, gwp

SHARES = {"residential": 0.7, "tertiary": 0.5}
SECTORS = ("residential", "tertiary", "industry", "agriculture")
GASES = (("CO2e", "CO2"), ("CH4", "CH4"), ("CH4_non_fossil", "CH4b"), ("N2O", "N2O"))
YEARS = (2019, 2020, 2022)
HDD_REF = 2500.0
WORLDS = int(__import__("os").environ.get("SECRECY_WORLDS", "200"))
Vector = npt.NDArray[np.float64]


@dataclass
class World:
    figures: list[Figure]
    edges: dict[str, set[str]]
    levels: dict[str, int]
    hdd: dict[tuple[str, int], float]
    #: what each possible caller reads in full (the anonymous caller, nothing, first)
    knowers: list[frozenset[str]]

    @property
    def sources(self) -> frozenset[str]:
        return frozenset(f.source for f in self.figures)

    @property
    def territories(self) -> list[str]:
        return sorted(self.levels)

    def inside(self, territory: str, figure: Figure) -> bool:
        return figure.scope == territory or territory in self.edges.get(figure.scope, ())


def random_world(rng: random.Random) -> World:
    edges: dict[str, set[str]] = {}
    levels = {"region": 4}
    for d in ("d0", "d1"):
        levels[d] = 3
        for e in range(rng.randint(1, 2)):
            epci = f"{d}-e{e}"
            levels[epci], edges[epci] = 2, {d, "region"}
            for c in range(rng.randint(1, 3)):
                levels[f"{epci}-c{c}"] = 1
                edges[f"{epci}-c{c}"] = {epci, d, "region"}
    sectors = rng.sample(SECTORS, rng.randint(2, 4))
    owners = [f"org{i}" for i in range(rng.randint(1, 3))]
    # each organisation publishes one or two datasets, shared or restricted-stat
    datasets = {o: [f"{o}-{rng.choice(['shared', 'restricted'])}{j}"] for o in owners for j in [0]}
    for o in owners:
        if rng.random() < 0.5:
            datasets[o].append(f"{o}-{rng.choice(['shared', 'restricted'])}1")
    figures = []
    communes = [t for t, level in levels.items() if level == 1]
    for place in communes:
        for year in YEARS:
            for sector in sectors:
                actors = rng.sample(range(12), rng.choice([0, 1, 2, 3, 4]))
                for actor in actors:
                    gas, ghg = GASES[0] if rng.random() < 0.7 else rng.choice(GASES[1:])
                    owner = rng.choice(owners)
                    figures.append(
                        Figure(
                            place,
                            year,
                            sector,
                            ghg,
                            gas,
                            f"actor{actor}",
                            owner,
                            float(rng.randint(1, 60)),
                            rng.choice(datasets[owner]),
                        )
                    )
    if rng.random() < 0.4:
        epci = rng.choice(sorted(t for t, level in levels.items() if level == 2))
        for year in YEARS:
            figure = Figure(epci, year, sectors[0], "CO2", "CO2e", "epci-actor", "org0", 50)
            figures.append(replace(figure, source=datasets["org0"][0]))
    hdd = {(t, y): float(rng.randint(1800, 3000)) for t in levels for y in YEARS}
    used = {f.source for f in figures}
    shared = frozenset(d for d in used if "shared" in d)
    knowers = {frozenset[str](), shared}  # the anonymous caller; a charter member
    for o in owners:
        own = frozenset(datasets[o]) & used
        knowers |= {own, own | shared}  # a producer outside the charter, and in it
    if used:  # a grantee of one dataset, sometimes also a member
        granted = frozenset({rng.choice(sorted(used))})
        knowers.add(granted | shared if rng.random() < 0.5 else granted)
    return World(figures, edges, levels, hdd, sorted(knowers, key=lambda k: (len(k), sorted(k))))


@dataclass(frozen=True)
class Variant:
    gwp: GwpSet
    climate: bool
    interpolate: bool
    year_from: int | None
    year_to: int | None


def variants(rng: random.Random) -> Iterator[Variant]:
    """Every GWP set without correction and two with it: any two GWP sets, or a corrected and
    an uncorrected figure, are there to be differenced."""
    for gwp_set, climate in (("ar4", False), ("ar5", False), ("ar6", False), ("ar5", True)):
        year_from = rng.choice([None, 2020])
        year_to = rng.choice([None, 2020, 2022])
        yield Variant(cast(GwpSet, gwp_set), climate, rng.random() < 0.5, year_from, year_to)


def coefficient(world: World, figure: Figure, territory: str, variant: Variant) -> float:
    """What one tonne of the figure weighs in ``territory``'s table under ``variant``, as the
    service computes it: the GWP of its gas, then the climate factor of its sector."""
    weight = 1.0 if figure.gas == "CO2e" else gwp(cast(Gas, figure.gas), variant.gwp)
    share = SHARES.get(figure.sector)
    if variant.climate and share is not None:
        hdd = world.hdd[(territory, figure.year)]
        weight *= climate_correction_factor(hdd, HDD_REF, share)
    return weight


def families(world: World) -> list[Family]:
    sectors = sorted({f.sector for f in world.figures})
    return [
        BY_SECTOR,
        Family(None, "ghg"),
        Family(None, "none"),
        *(Family(s, by) for s in sectors for by in ("sector", "ghg")),
    ]


@dataclass
class Shown:
    """What one view publishes: its rows (keys into :attr:`Published.rows`), its withheld cells
    as linear forms, and the cells it shows."""

    rows: set[bytes] = field(default_factory=set)
    withheld: list[tuple[Family, Vector]] = field(default_factory=list)
    cells: set[tuple[str, int, Family, str | None]] = field(default_factory=set)


class Published:
    """Every number shown to each view, as a linear form over the figures (tonnes ×
    coefficient each). A cell's form does not depend on the view (a view reads some figures in
    full and the others in aggregate, but the number shown is the cell's whole sum); only what
    is withheld does."""

    def __init__(self, world: World) -> None:
        self.world = world
        figures = world.figures
        self.years = np.array([f.year for f in figures])
        self.sectors = np.array([f.sector for f in figures])
        self.keys = {
            by: np.array([key_of(f.sector, f.ghg, by) for f in figures])
            for by in ("sector", "ghg", "none")
        }
        self.inside = {
            t: np.array([world.inside(t, f) for f in figures]) for t in world.territories
        }
        self.coefficients: dict[tuple[str, Variant], Vector] = {}
        self.rows: dict[bytes, Vector] = {}
        self.views: dict[frozenset[str], Shown] = defaultdict(Shown)
        self._tables: dict[tuple[object, ...], Shown] = {}

    def coefficient(self, territory: str, v: Variant) -> Vector:
        found = self.coefficients.get((territory, v))
        if found is None:
            found = np.array(
                [f.tonnes * coefficient(self.world, f, territory, v) for f in self.world.figures]
            )
            self.coefficients[(territory, v)] = found
        return found

    def vector(
        self, territory: str, year: int, family: Family, key: str | None, v: Variant
    ) -> Vector:
        mask = self.inside[territory] & (self.years == year)
        if family.sector is not None:
            mask &= self.sectors == family.sector
        if key is not None:
            mask &= self.keys[family.by] == key
        return np.where(mask, self.coefficient(territory, v), 0.0)

    def add(
        self,
        disclosure: Disclosure,
        territory: str,
        family: Family,
        v: Variant,
        known: frozenset[str],
    ) -> None:
        """The table as the view of a caller reading ``known`` in full gets it."""
        outcome = disclosure.outcome(territory, family, view=self.world.sources - known)
        memo = (territory, family, v, outcome.withheld)
        table = self._tables.get(memo)
        if table is None:
            table = self._tables[memo] = self._table(outcome, territory, family, v)
        view = self.views[known]
        view.rows |= table.rows
        view.withheld += table.withheld
        view.cells |= table.cells

    def _table(self, outcome: SecrecyOutcome, territory: str, family: Family, v: Variant) -> Shown:
        world = self.world
        table = Shown()
        cells: dict[tuple[int, str], float] = defaultdict(float)
        weights = self.coefficient(territory, v)
        for i, f in enumerate(world.figures):
            if self.inside[territory][i] and family.sector in (None, f.sector):
                cells[(f.year, key_of(f.sector, f.ghg, family.by))] += weights[i]
        if not cells:
            return table
        result = build_trajectory(
            cells,
            interpolate=v.interpolate,
            secrecy=outcome,
            year_from=v.year_from,
            year_to=v.year_to,
        )
        observed = sorted({y for y, _ in cells})
        for point in result.series:
            shown = [(k, value) for k, value in point.breakdown.items()]
            if point.emissions is not None:
                shown.append((None, point.emissions))
            for key, value in shown:
                if point.interpolated:
                    before = max(y for y in observed if y < point.year)
                    after = min(y for y in observed if y > point.year)
                    fraction = (point.year - before) / (after - before)
                    vec = (1 - fraction) * self.vector(territory, before, family, key, v)
                    vec += fraction * self.vector(territory, after, family, key, v)
                else:
                    vec = self.vector(territory, point.year, family, key, v)
                    table.cells.add((territory, point.year, family, key))
                # the attacker's model is the hub's: each shown number is its form's sum
                assert abs(vec.sum() - value) < 1e-6 * max(1.0, abs(value))
                row = np.round(vec, 9).tobytes()
                self.rows.setdefault(row, vec)
                table.rows.add(row)
        for cell in result.withheld:
            if cell.year in observed:
                vec = self.vector(territory, cell.year, family, cell.key, v)
                table.withheld.append((family, vec))
        return table


def span_of(rows: Iterable[Vector], size: int, drop: npt.NDArray[np.bool_]) -> Vector:
    """An orthonormal basis (columns) of the rows' span, with the ``drop`` columns removed
    (figures the attacker knows)."""
    listed = list(rows)
    if not listed or drop.all():
        return np.zeros((size - int(drop.sum()), 0))
    matrix = np.array(listed)[:, ~drop]
    matrix = matrix / np.maximum(np.abs(matrix).max(axis=1, keepdims=True), 1e-12)
    gram = matrix.T @ matrix
    values, vectors = np.linalg.eigh(gram)
    keep = values > max(values.max(initial=0.0), 1.0) * 1e-10
    return cast(Vector, vectors[:, keep])


def recoverable(targets: Vector, span: Vector) -> npt.NDArray[np.bool_]:
    """Which rows of ``targets`` lie in the span (a zero row never does)."""
    norms = np.linalg.norm(targets, axis=1)
    units = targets / np.maximum(norms, 1e-300)[:, None]
    residual = units - (units @ span) @ span.T
    return cast(npt.NDArray[np.bool_], (np.linalg.norm(residual, axis=1) < 1e-6) & (norms > 0))


def secrets(world: World, variants: list[Variant]) -> list[tuple[str, Vector]]:
    """Single figures, and each actor's figures in one cell of its own territory."""
    size = len(world.figures)
    out = []
    groups: dict[tuple[str, int, str, str], list[int]] = defaultdict(list)
    for i, f in enumerate(world.figures):
        unit = np.zeros(size)
        unit[i] = 1.0
        out.append((f"figure {f}", unit))
        groups[(f.scope, f.year, f.sector, f.actor)].append(i)
    for v in variants:
        for group, members in groups.items():
            if len(members) > 1:
                vec = np.zeros(size)
                for i in members:
                    f = world.figures[i]
                    vec[i] = f.tonnes * coefficient(world, f, f.scope, v)
                out.append((f"actor cell {group}", vec))
    return out


def _split(figures: list[Figure], *, merge: bool) -> dict[str, dict[tuple[str, str], float]]:
    """The figures by part and (source, actor); ``merge``: as if one source held them all."""
    split: dict[str, dict[tuple[str, str], float]] = defaultdict(lambda: defaultdict(float))
    for f in figures:
        split[part(f.gas, f.sector, SHARES)][("" if merge else f.source, f.actor)] += f.tonnes
    return split


def cell_figures(
    world: World, territory: str, year: int, family: Family, key: str | None
) -> list[Figure]:
    return [
        f
        for f in world.figures
        if f.year == year
        and world.inside(territory, f)
        and family.sector in (None, f.sector)
        and (key is None or key_of(f.sector, f.ghg, family.by) == key)
    ]


def _information_loss(world: World, disclosure: Disclosure) -> tuple[int, int]:
    """(cells passing the rule on their own, of which withheld) in the anonymous view's
    by-sector tables; passing on its own means for every caller, less what it reads."""
    passing = withheld = 0
    for territory in world.territories:
        outcome = disclosure.outcome(territory, BY_SECTOR)
        for year in YEARS:
            keys = {
                f.sector for f in world.figures if f.year == year and world.inside(territory, f)
            }
            for key in [*sorted(keys), None] if keys else []:
                figures = cell_figures(world, territory, year, BY_SECTOR, key)
                if split_failure(_split(figures, merge=False), knowers=world.knowers):
                    continue
                passing += 1
                withheld += outcome.hides(year, key)
    return passing, withheld


def check_world(seed: int) -> tuple[int, int]:
    rng = random.Random(seed)
    world = random_world(rng)
    disclosure = Disclosure(
        world.figures,
        world.edges,
        SecrecyRule(),
        SHARES,
        levels=world.levels,
        knowers=world.knowers[1:],
    )
    published = Published(world)
    all_variants = list(variants(rng))
    for v in all_variants:
        for territory in world.territories:
            for family in families(world):
                for known in world.knowers:
                    published.add(disclosure, territory, family, v, known)
    size = len(world.figures)
    singles = secrets(world, [all_variants[0], all_variants[-1]])
    sources = np.array([f.source for f in world.figures])
    for known in world.knowers:
        drop = np.isin(sources, sorted(known))
        # The attacker holds its own view and every less privileged one (the anonymous view
        # at least), and reads ``known`` in full.
        views = [k for k in world.knowers if k <= known]
        rows = set().union(*(published.views[k].rows for k in views))
        span = span_of((published.rows[r] for r in rows), size, drop)
        # What the attacker must not get: a withheld cell of its own view's decided
        # (by-sector) tables, less what it reads; a withheld cell of any table of any view it
        # sees whose content, less what it reads, fails the rule (the other tables' cells are
        # sums of parts of by-sector cells: one equal to a part shown elsewhere is no secret);
        # a single figure or an actor's figures in a cell, unless it reads them.
        targets = [(w, v) for w, v in singles if not drop[np.flatnonzero(v)].any()]
        for view in views:
            for family, vec in published.views[view].withheld:
                figures = [world.figures[i] for i in np.flatnonzero(vec) if not drop[i]]
                decided = view == known and family == BY_SECTOR
                if decided or split_failure(_split(figures, merge=True)):
                    targets.append((f"withheld {family} of view {sorted(view)}", vec))
        if targets:
            found = recoverable(np.array([vec[~drop] for _, vec in targets]), span)
            what = [targets[i][0] for i in np.flatnonzero(found)]
            assert not found.any(), (seed, sorted(known), what)
    # every cell shown to a view passes the rule, part by part, less what any caller who sees
    # that view reads in full (itself, and every more privileged caller)
    for view, shown in published.views.items():
        readers = [k for k in world.knowers if view <= k]
        for territory, year, family, key in shown.cells:
            figures = cell_figures(world, territory, year, family, key)
            for known in readers:
                unread = [f for f in figures if f.source not in known]
                why = split_failure(_split(unread, merge=False), knowers=())
                assert why is None, (seed, sorted(view), sorted(known), territory, year, key)
    return _information_loss(world, disclosure)


def test_nothing_withheld_is_recoverable_over_every_variant_and_view() -> None:
    passing = withheld = 0
    with threadpool_limits(1):  # small matrices: BLAS threads only contend
        for seed in range(WORLDS):
            p, w = check_world(seed)
            passing, withheld = passing + p, withheld + w
    loss = withheld / passing
    sys.stdout.write(f"\ninformation loss: {withheld}/{passing} = {loss:.1%} withheld\n")
    # Measured: 128 of the 846 cells that pass for every caller (15.1 %) are withheld as
    # partners (the anonymous view; each other view withholds no more).
    assert loss < 0.2
