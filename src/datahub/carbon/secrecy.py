"""Statistical secrecy for contributions that may only be published in aggregate.

A trajectory shows, for each year, a breakdown (cells keyed by sector, gas…), the year's total
``emissions`` and ``net = emissions − sequestration``. Sequestration is always shown, so the net
discloses exactly what the total discloses, and the two are withheld together.

What a reader knows: every row of the datasets they may read in full, every shown cell and total
of *every* territory, and the hierarchy. So the only secret is the *aggregate-only* part of a
cell, and the rule is applied to that part:

1. **Primary suppression.** A cell is withheld (reason ``secrecy``) when its aggregate-only
   contributions come from fewer than ``min_actors`` distinct actors, or when one actor holds
   more than ``max_share`` of them (shares of absolute values, an actor's rows summed first).
2. **Complementary suppression** (reason ``complementary``), over every *relation*
   ``head = Σ members + remainder`` a reader can use: a year's total against its cells (within
   one table), and a territory's cell against the same cell of the largest territories inside
   it (an EPCI against its communes, a département against its EPCIs…; the remainder is what
   is counted at the head's own level). For each relation, until a fixpoint across all of them:

   - a shown head gives away ``head − Σ shown cells`` (withheld members are expanded into the
     shown cells below them, as a reader would): that sum must pass the rule, and a single
     withheld member must not be the only unknown (it would be recomputed exactly);
   - a withheld head must not be the sum of shown members (nothing withheld, no remainder).

   While a relation breaks either rule, its shown member with aggregate-only contributions and
   the smallest absolute aggregate-only value is withheld; when none is left, the head is.

The decisions cover every territory at once and depend only on the aggregate-only contributions,
so viewers of two sibling communes (or of a commune and its EPCI) get consistent suppression.
Hence no withheld value can be recomputed, from one table or by differencing territories: each
withheld group is either hidden entirely or known only as a sum that passes the rule. As a
safety net, after the fixpoint, each year: if a withheld cell is still an exact linear
combination of shown cells and totals (least squares over the aggregate-only parts counted at
each (territory, key)), the smallest shown cell that combination needs is withheld, and the
rules run again.

The sector × gas cross-tabulation (a territory's by-gas table against its sectors' by-gas
tables) is closed by the caller, ``carbon.service``: confidential figures are split by gas only
in years where they hold a single gas, whose cell then carries the same contributions as the
total or the sector's cell.

**Callers who read different things in full.** A reader also knows every figure it reads in
full: a producer its own, a charter member the shared datasets, a grantee what it was granted.
Each such *knower* (a set of sources) is an attacker of its own: every rule above is checked
on what is left of a group once the knower's figures are subtracted (when anything is, and
when the knower reads some of it), and the exact attacker runs for each knower too, with the
unknowns it reads dropped. The decisions are then one set for every view (the caller's
:class:`datahub.carbon.disclosure.Disclosure` filters them per view), and
:meth:`Decisions.seen_by` shows a knower the withheld cells it recomputes anyway.

Not covered: a disclosed sum that fails the rule but is obtained only by combining several
relations (exact recovery of a cell is prevented within a family of tables); and coalitions
of callers who pool what they read (two producers together), unless declared as a knower.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

Reason = Literal["secrecy", "complementary"]
#: (territory, year, key); key None is the year's total.
Cell = tuple[str, int, str | None]
_Place = tuple[str, str | None]  # (territory, key) within one year
_Atom = tuple[str, str, str, str, str]  # (territory counted at, key, part, source, actor)
_Unknown = tuple[str, str, str]  # (territory counted at, key, part): what no figure splits
_Row = tuple[_Place, str]  # one published figure: a place's part
_Relation = tuple[_Place, tuple[_Place, ...]]
#: part → (source, actor) → value
Split = Mapping[str, Mapping[tuple[str, str], float]]
#: The sources (datasets) one possible caller reads in full.
Knower = frozenset[str]

DEFAULT_MIN_ACTORS: Final = 3
DEFAULT_MAX_SHARE: Final = 0.85
_EXACT: Final = 1e-7  # below this, a least-squares residual or weight is zero
_MAX_TRIALS: Final = 200_000  # complementary cells × (relations + cells) tried again, per year


@dataclass(frozen=True)
class SecrecyRule:
    min_actors: int = DEFAULT_MIN_ACTORS
    max_share: float = DEFAULT_MAX_SHARE


@dataclass(frozen=True)
class Contribution:
    """Part of a cell coming from a dataset used only in aggregate (tCO2e).

    ``territory`` is where the figure is counted before roll-up (an actor's location);
    ``part`` its coefficient class across query variants (see the module docstring);
    ``owner`` the organisation that published it and ``source`` the dataset it comes from
    (what a caller reads in full or not; the owner's name when empty)."""

    year: int
    key: str
    actor: str
    value: float
    territory: str = ""
    part: str = ""
    owner: str = ""
    source: str = ""

    @property
    def label(self) -> str:
        return self.source or self.owner


@dataclass(frozen=True)
class WithheldCell:
    """A hidden cell; ``key`` None means the year's totals (emissions and net)."""

    year: int
    key: str | None
    reason: Reason


@dataclass(frozen=True)
class SecrecyOutcome:
    withheld: tuple[WithheldCell, ...] = ()

    def hides(self, year: int, key: str | None) -> bool:
        return any(c.year == year and c.key == key for c in self.withheld)

    def hidden_keys(self, year: int) -> frozenset[str]:
        return frozenset(c.key for c in self.withheld if c.year == year and c.key is not None)

    def hides_total(self, year: int) -> bool:
        return self.hides(year, None)


@dataclass(frozen=True)
class Decisions:
    """The withheld cells of every territory's table, for one family of tables."""

    by_territory: Mapping[str, tuple[WithheldCell, ...]]
    #: per year, the tables and what they withhold (to tell what a knower recomputes)
    tables: Mapping[int, tuple[_YearTables, Mapping[_Place, Reason]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def outcome(self, territory: str) -> SecrecyOutcome:
        return SecrecyOutcome(self.by_territory.get(territory, ()))

    def seen_by(self, known: Knower) -> Decisions:
        """The decisions less the withheld cells a caller reading the ``known`` sources in
        full recomputes anyway from what is shown (what it cannot read of them passes the
        rule, or the decisions would have withheld more): showing them to that caller tells
        it nothing, and no cell withheld from it can then be recomputed by it."""
        if not known:
            return self
        open_to: dict[str, set[tuple[int, str | None]]] = defaultdict(set)
        with threadpool_limits(1):
            for year, (table, hidden) in self.tables.items():
                for territory, key in table.recoverable(hidden, known):
                    open_to[territory].add((year, key))
        return Decisions(
            {
                territory: kept
                for territory, cells in self.by_territory.items()
                if (kept := tuple(c for c in cells if (c.year, c.key) not in open_to[territory]))
            }
        )

    def cells(self, key: str | None) -> frozenset[tuple[str, int]]:
        """(territory, year) of every withheld cell with this key."""
        return frozenset(
            (territory, c.year)
            for territory, withheld in self.by_territory.items()
            for c in withheld
            if c.key == key
        )


def failure(by_actor: Mapping[str, float], rule: SecrecyRule = SecrecyRule()) -> str | None:
    """Why a set of per-actor values may not be published, or None if it may."""
    if not by_actor:
        return None
    if len(by_actor) < rule.min_actors:
        return f"fewer than {rule.min_actors} actors"
    magnitude = sum(abs(v) for v in by_actor.values())
    if magnitude > 0 and max(abs(v) for v in by_actor.values()) > rule.max_share * magnitude:
        return f"one actor above {rule.max_share:.0%} of the cell"
    return None


def _by_actor(values: Iterable[tuple[tuple[str, str], float]]) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for (_owner, actor), value in values:
        out[actor] += value
    return out


def split_failure(
    split: Split, rule: SecrecyRule = SecrecyRule(), knowers: Iterable[Knower] | None = None
) -> str | None:
    """Why a group of figures may not be published, or None if it may: each part must pass
    :func:`failure` on its own, and so must, for every caller who reads some of its sources in
    full (``knowers``), what is left once those are subtracted (when anything is). A producer
    knows its own figures, a charter member every shared dataset, a grantee what it was
    granted: padding a cell with figures one reads in full must not leave a neighbour's figure
    alone. ``knowers`` None: each source is known by its producer alone (the coalition rule
    over sources named by their owner)."""
    for part in sorted(split):
        values = split[part]
        why = failure(_by_actor(values.items()), rule)
        if why:
            return why
        sources = {source for source, _ in values}
        groups = [frozenset({s}) for s in sorted(sources)] if knowers is None else knowers
        for known in groups:
            if known.isdisjoint(sources):
                continue
            why = failure(_by_actor((k, v) for k, v in values.items() if k[0] not in known), rule)
            if why:
                return f"without what one caller reads in full, {why}"
    return None


def default_knowers(contributions: Iterable[Contribution]) -> list[Knower]:
    """Each organisation reads its own sources in full (the coalition rule)."""
    owned: dict[str, set[str]] = defaultdict(set)
    for c in contributions:
        owned[c.owner].add(c.label)
    return [frozenset(owned[owner]) for owner in sorted(owned)]


def apply_secrecy(
    contributions: Iterable[Contribution],
    cell_values: Mapping[tuple[int, str], float] | None = None,
    rule: SecrecyRule = SecrecyRule(),
) -> SecrecyOutcome:
    """Decide which cells (and totals) of a single table to withhold.

    ``cell_values`` (keyed by (year, key)), if given, rank the complementary candidates instead
    of their aggregate-only values.
    """
    sizes: dict[Cell, float] = {
        ("", year, key): abs(v) for (year, key), v in (cell_values or {}).items()
    }
    single = [replace(c, territory="") for c in contributions]
    return decide(single, rule=rule, sizes=sizes).outcome("")


def decide(
    contributions: Iterable[Contribution],
    ancestors: Mapping[str, Collection[str]] | None = None,
    *,
    levels: Mapping[str, int] | None = None,
    rule: SecrecyRule = SecrecyRule(),
    fixed_totals: Collection[tuple[str, int]] | None = None,
    sizes: Mapping[Cell, float] | None = None,
    knowers: Iterable[Knower] | None = None,
) -> Decisions:
    """Primary and complementary suppression over the tables of every territory.

    ``ancestors`` maps each contribution's territory to every territory containing it (what its
    figures were rolled up into). ``levels`` ranks territories (smaller = more specific) to
    decide which of two territories covering the same places lies inside the other.
    ``fixed_totals``, if given, means the totals were decided elsewhere (by the by-sector
    table, which shares them): exactly these (territory, year) totals are withheld.
    ``sizes`` override the aggregate-only values used to rank complementary candidates.
    ``knowers`` are what each possible caller reads in full among the contributions' sources
    (:attr:`Contribution.label`), default :func:`default_knowers`: every rule, and the exact
    attacker, hold for each of them as well as for a caller who reads none.
    """
    listed = list(contributions)
    groups = default_knowers(listed) if knowers is None else list(knowers)
    by_year: dict[int, list[Contribution]] = defaultdict(list)
    for c in listed:
        by_year[c.year].append(c)
    up = {
        c.territory: frozenset({c.territory, *(ancestors or {}).get(c.territory, ())})
        for year in by_year.values()
        for c in year
    }
    members = _largest_inside(up, levels or {})
    withheld: dict[str, list[WithheldCell]] = defaultdict(list)
    tables = {}
    # The matrices are small: BLAS threads only contend (10-30× slower on a loaded machine).
    with threadpool_limits(1):
        for year in sorted(by_year):
            table = _YearTables(
                year, by_year[year], up, members, rule, fixed_totals, sizes or {}, groups
            )
            hidden = table.solve()
            tables[year] = (table, hidden)
            for (territory, key), reason in hidden.items():
                withheld[territory].append(WithheldCell(year, key, reason))
    return Decisions(
        {territory: tuple(sorted(cells, key=_cell_order)) for territory, cells in withheld.items()},
        tables,
    )


def _largest_inside(
    up: Mapping[str, frozenset[str]], levels: Mapping[str, int]
) -> dict[str, list[str]]:
    """For each territory, the largest territories inside it, judged by the places they cover
    (the own territories of the contributions): the members of its relation."""
    places: dict[str, set[str]] = defaultdict(set)
    for place, containing in up.items():
        for territory in containing:
            places[territory].add(place)
    covering = {t: frozenset.intersection(*(up[p] for p in ps)) for t, ps in places.items()}

    def order(territory: str) -> tuple[int, str]:
        return (levels.get(territory, 0), territory)

    def inside(small: str, large: str) -> bool:
        if small == large or large not in covering[small]:
            return False
        return small not in covering[large] or order(small) < order(large)

    members: dict[str, list[str]] = defaultdict(list)
    for territory in sorted(places, key=order):
        above = [t for t in covering[territory] if inside(territory, t)]
        for parent in above:
            if not any(inside(middle, parent) for middle in above if middle != parent):
                members[parent].append(territory)
    return members


class _YearTables:
    """One year of every territory's table, and the suppression over its relations.

    A place (territory, key) publishes one figure per *part* it holds (see the module
    docstring); every rule below is checked part by part.
    """

    def __init__(
        self,
        year: int,
        contributions: Sequence[Contribution],
        up: Mapping[str, frozenset[str]],
        members: Mapping[str, Sequence[str]],
        rule: SecrecyRule,
        fixed_totals: Collection[tuple[str, int]] | None,
        sizes: Mapping[Cell, float],
        knowers: Sequence[Knower],
    ) -> None:
        self.year, self.rule, self.sizes = year, rule, sizes
        self.atoms: dict[_Atom, float] = defaultdict(float)
        self.content: dict[_Place, set[_Atom]] = defaultdict(set)
        for c in contributions:
            atom = (c.territory, c.key, c.part, c.label, c.actor)
            self.atoms[atom] += c.value
            for territory in up[c.territory]:
                self.content[(territory, c.key)].add(atom)
                self.content[(territory, None)].add(atom)
        self.parts = {p: frozenset(a[2] for a in atoms) for p, atoms in self.content.items()}
        self.fixed = None if fixed_totals is None else {t for t, y in fixed_totals if y == year}
        self.below: dict[_Place, tuple[_Place, ...]] = {}
        self.relations: list[_Relation] = []
        keys: dict[str, list[str]] = defaultdict(list)
        for territory, key in sorted(self.content, key=_order):
            if key is not None:
                keys[territory].append(key)
        for territory in _most_specific_first(keys, members):
            row = tuple((territory, key) for key in keys[territory])
            self.relations.append(((territory, None), row))
            for key in [*keys[territory], None]:
                inner = tuple(
                    (m, key) for m in members.get(territory, ()) if (m, key) in self.content
                )
                if inner:
                    self.below[(territory, key)] = inner
                    self.relations.append(((territory, key), inner))
        # The parts in which a relation's head holds more than its members (a remainder).
        self.loose = {rel: frozenset(self._split(*rel)) for rel in self.relations}
        self.unknowns: dict[_Row, set[_Unknown]] = defaultdict(set)
        for place, atoms in self.content.items():
            for atom in atoms:
                self.unknowns[(place, atom[2])].add((atom[0], atom[1], atom[2]))
        # per unknown, part → (source, actor) → value
        self.unknown_split: dict[_Unknown, dict[str, dict[tuple[str, str], float]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        for atom, value in self.atoms.items():
            self.unknown_split[(atom[0], atom[1], atom[2])][atom[2]][(atom[3], atom[4])] = value
        # What each possible caller reads in full of this year's sources, once each; a caller
        # who reads none of them is the plain reader (always first), one who reads all of them
        # has nothing left to learn.
        sources = frozenset(atom[3] for atom in self.atoms)
        seen = {frozenset[str](), sources}
        self.knowers = [k & sources for k in knowers if k & sources]
        self.attackers: list[Knower] = [frozenset()]
        for known in self.knowers:
            if known not in seen:
                seen.add(known)
                self.attackers.append(known)

    def solve(self) -> dict[_Place, Reason]:
        hidden: dict[_Place, Reason] = {}
        if self.fixed is not None:
            hidden.update(((t, None), "complementary") for t in sorted(self.fixed))
        for place in sorted(self.content, key=_order):
            if place[1] is not None and self._fails(self._split(place, ())):
                hidden[place] = "secrecy"
        while True:
            changed = True
            while changed:
                changed = False
                for relation in self.relations:
                    while needed := self._broken(relation, hidden):
                        partner = self._partner(relation, hidden, needed)
                        if partner is None:
                            break
                        hidden[partner] = "complementary"
                        changed = True
            partner = self._undo_recovery(hidden)
            if partner is None:
                self._show_again(hidden)
                return hidden
            hidden[partner] = "complementary"

    def _show_again(self, hidden: dict[_Place, Reason]) -> None:
        """Show again each complementary cell that later choices made unnecessary (partners
        are chosen greedily, relation after relation), largest first, when every relation and
        the exact attacker still hold without it. Skipped on very large years, where each trial
        would cost too much (what is withheld then stays safe, only not minimal)."""
        extra = [p for p, why in hidden.items() if why == "complementary" and self._may_hide(p)]
        if len(extra) * (len(self.relations) + len(self.content)) > _MAX_TRIALS:
            return
        for place in sorted(extra, key=lambda p: (-self._size(p), *_order(p))):
            del hidden[place]
            holds = not any(self._broken(r, hidden) for r in self.relations)
            if not (holds and self._undo_recovery(hidden) is None):
                hidden[place] = "complementary"

    def _fails(self, split: Split) -> bool:
        return split_failure(split, self.rule, self.knowers) is not None

    def _undo_recovery(self, hidden: Mapping[_Place, Reason]) -> _Place | None:
        """A shown cell to withhold because something secret is a linear combination of the
        shown figures (the exact attacker, beyond the relations above), or None.

        Run for the plain reader and for every caller who reads some sources in full (see
        :meth:`_recovery_by`); the first cell found is withheld and the rules run again."""
        for known in self.attackers:
            partner = self._recovery_by(hidden, known)
            if partner is not None:
                return partner
        return None

    def _recovery_by(self, hidden: Mapping[_Place, Reason], known: Knower) -> _Place | None:
        """A shown cell to withhold so that a caller reading the ``known`` sources in full
        recomputes nothing secret (:meth:`_secrets`) from the shown figures, or None."""
        needs = self._attack(hidden, known)
        for target in self._secrets(hidden, known):
            used = needs(target)
            if used is None:
                continue
            candidates = [p for p in used if self._may_hide(p)]
            if candidates:
                return min(candidates, key=lambda p: (self._size(p), *_order(p)))
        return None

    def recoverable(self, hidden: Mapping[_Place, Reason], known: Knower) -> list[_Place]:
        """The withheld places whose figures, less the ``known`` sources, a caller reading
        those in full recomputes from the shown figures."""
        needs = self._attack(hidden, known)
        found = []
        for place in sorted((p for p in hidden if self.content[p]), key=_order):
            rows = [(place, part) for part in sorted(self.parts[place])]
            if needs(set().union(*(self.unknowns[r] for r in rows))) is not None:
                found.append(place)
        return found

    def _attack(
        self, hidden: Mapping[_Place, Reason], known: Knower
    ) -> Callable[[Iterable[_Unknown]], list[_Place] | None]:
        """The exact attacker who reads the ``known`` sources in full: a function telling,
        for a set of unknowns, the shown places a combination giving their sum uses, or None
        when no combination does.

        Unknowns are the aggregate-only parts counted at each (own territory, key, part),
        less what the attacker reads (one made only of such figures is no unknown); each
        shown place publishes, per part, the sum of those below it. A shown row with one
        unknown left gives it away; the rest is linear algebra: a target is recoverable iff
        its vector lies in the span of the shown rows' vectors.
        """
        unknown = {
            u
            for u, split in self.unknown_split.items()
            if any(source not in known for values in split.values() for source, _ in values)
        }
        shown = sorted(
            (row for row in self.unknowns if row[0] not in hidden), key=lambda r: _order(r[0])
        )
        left = {r: self.unknowns[r] & unknown for r in shown}
        shown = [r for r in shown if left[r]]
        holders: dict[_Unknown, list[_Row]] = defaultdict(list)
        for row in shown:
            for u in left[row]:
                holders[u].append(row)
        given_by: dict[_Unknown, _Row] = {}  # unknown → the shown row that gives it away
        singles = [r for r in shown if len(left[r]) == 1]
        while singles:
            row = singles.pop()
            if len(left[row]) != 1:
                continue
            (u,) = left[row]
            given_by[u] = row
            for other in holders[u]:
                left[other].discard(u)
                if len(left[other]) == 1:
                    singles.append(other)
        rest = [r for r in shown if left[r]]
        column = {
            u: i for i, u in enumerate(sorted({u for r in rest for u in left[r]}, key=_u_order))
        }
        basis = np.zeros((len(column), len(rest)))
        for j, row in enumerate(rest):
            basis[[column[u] for u in left[row]], j] = 1.0
        span = _orthonormal_span(basis)

        def needs(unknowns: Iterable[_Unknown]) -> list[_Place] | None:
            wanted = [u for u in unknowns if u in unknown]
            rest_rows = [column[u] for u in wanted if u not in given_by and u in column]
            if not wanted or any(u not in given_by and u not in column for u in wanted):
                return None  # nothing unknown, or an unknown no shown row holds
            if rest_rows:
                projected = span[rest_rows].sum(axis=0)
                if len(rest_rows) - float(projected @ projected) > _EXACT:
                    return None
            used = [given_by[u][0] for u in wanted if u in given_by]
            if rest_rows:
                target = np.zeros(len(column))
                target[rest_rows] = 1.0
                weights = np.linalg.lstsq(basis, target, rcond=None)[0]
                used += [rest[j][0] for j in np.flatnonzero(np.abs(weights) > _EXACT)]
            return used

        return needs

    def _secrets(self, hidden: Mapping[_Place, Reason], known: Knower) -> Iterator[set[_Unknown]]:
        """Sets of unknowns whose sum must not be recoverable by a caller reading the
        ``known`` sources in full. For the plain reader: a withheld place as a whole (all its
        parts), each part of a withheld place that fails the rule, and each unknown that fails
        the rule (e.g. one actor counted at an EPCI itself). For a knower, the same less what
        it reads, where that fails the rule: what it recomputes that passes is shown to it
        (:meth:`Decisions.seen_by`), so no cell withheld from it is recomputable either."""

        def fails(split: Split) -> bool:
            if not known:
                return self._fails(split)
            return any(
                failure(
                    _by_actor((k, v) for k, v in values.items() if k[0] not in known), self.rule
                )
                for values in split.values()
            )

        for place in sorted((p for p in hidden if self.content[p]), key=_order):
            rows = [(place, part) for part in sorted(self.parts[place])]
            if not known or fails(self._split(place, ())):
                yield set().union(*(self.unknowns[r] for r in rows))
            for row in rows:
                if len(rows) > 1 and fails(self._split(place, (), row[1])):
                    yield self.unknowns[row]
        for u in sorted(self.unknown_split, key=_u_order):
            if fails(self.unknown_split[u]):
                yield {u}

    def _split(
        self, head: _Place, known: Iterable[_Place], only: str | None = None
    ) -> dict[str, dict[tuple[str, str], float]]:
        """Per part and (owner, actor), the aggregate-only part of ``head`` minus that of the
        ``known`` cells (``only``: of that part alone)."""
        count = dict.fromkeys(self.content[head], 1)
        for place in known:
            for atom in self.content[place]:
                count[atom] = count.get(atom, 0) - 1
        split: dict[str, dict[tuple[str, str], float]] = defaultdict(lambda: defaultdict(float))
        for atom, n in count.items():
            if n and (only is None or atom[2] == only):
                split[atom[2]][(atom[3], atom[4])] += n * self.atoms[atom]
        return split

    def _shown_below(
        self, places: Iterable[_Place], hidden: Mapping[_Place, Reason]
    ) -> list[_Place]:
        """The shown cells a reader reaches from ``places``, expanding withheld ones."""
        shown, stack = [], list(places)
        while stack:
            place = stack.pop()
            if place in hidden:
                stack.extend(self.below.get(place, ()))
            else:
                shown.append(place)
        return shown

    def _broken(self, relation: _Relation, hidden: Mapping[_Place, Reason]) -> frozenset[str]:
        """The parts in which ``relation`` gives something away (empty: it holds)."""
        head, members = relation
        loose = self.loose[relation]
        withheld = [m for m in members if m in hidden]
        if head in hidden:
            covered = frozenset().union(*(self.parts[m] for m in withheld))
            if self.parts[head] & (loose | covered):
                return frozenset()
            return self.parts[head]  # the sum of shown members and nothing else
        exposed = {
            part
            for part in frozenset().union(*(self.parts[m] for m in withheld)) - loose
            if sum(1 for m in withheld if part in self.parts[m]) == 1
        }
        if exposed:
            return frozenset(exposed)  # a single withheld member is the only unknown
        disclosed = self._split(head, self._shown_below(members, hidden))
        return frozenset(part for part, values in disclosed.items() if self._fails({part: values}))

    def _partner(
        self, relation: _Relation, hidden: Mapping[_Place, Reason], needed: frozenset[str]
    ) -> _Place | None:
        """What to withhold next to mend ``relation``: the smallest shown member holding a part
        in ``needed`` — unless it is the last one in a year's table, whose total is withheld
        instead (one figure either way, and the cell says more than the total)."""
        head, members = relation
        candidates = [m for m in members if m not in hidden and self._may_hide(m)]
        helpful = [m for m in candidates if self.parts[m] & needed]
        shown_head = head not in hidden and self._may_hide(head)
        table = head[1] is None and all(m[0] == head[0] for m in members)
        if shown_head and table and len(helpful) == 1:
            return head
        if helpful:
            return min(helpful, key=lambda p: (self._size(p), *_order(p)))
        return head if shown_head else None

    def _may_hide(self, place: _Place) -> bool:
        return self.fixed is None or place[1] is not None

    def _size(self, place: _Place) -> float:
        territory, key = place
        size = self.sizes.get((territory, self.year, key))
        if size is None:
            size = abs(sum(self.atoms[a] for a in self.content[place]))
        return size


def _cell_order(cell: WithheldCell) -> tuple[int, bool, bool, str]:
    return (cell.year, cell.reason != "secrecy", cell.key is None, cell.key or "")


def _order(place: _Place) -> tuple[str, str]:
    return (place[0], place[1] or "")


def _u_order(unknown: _Unknown) -> tuple[str, str, str]:
    return unknown


def _orthonormal_span(matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """An orthonormal basis (as columns) of the span of ``matrix``'s columns.

    Through the eigenvectors of the smaller Gram matrix (much faster than an SVD of a tall
    matrix); a direction counts from a singular value of 1e-6 of the largest, so true zeros
    (rounding noise, far below) never count and the span is not underestimated in practice.
    """
    rows, columns = matrix.shape
    if matrix.size == 0:
        return np.zeros((rows, 0))
    if columns <= rows:
        values, vectors = np.linalg.eigh(matrix.T @ matrix)
        keep = values > values.max(initial=0.0) * 1e-12
        span: npt.NDArray[np.float64] = (matrix @ vectors[:, keep]) / np.sqrt(values[keep])
        return span
    values, vectors = np.linalg.eigh(matrix @ matrix.T)
    span = vectors[:, values > values.max(initial=0.0) * 1e-12]
    return span


def _most_specific_first(
    territories: Iterable[str], members: Mapping[str, Sequence[str]]
) -> list[str]:
    """Territories ordered so that each comes after every territory inside it."""
    done: dict[str, None] = {}

    def visit(territory: str) -> None:
        if territory in done:
            return
        for inner in members.get(territory, ()):
            visit(inner)
        done[territory] = None

    for territory in sorted(territories):
        visit(territory)
    return list(done)
