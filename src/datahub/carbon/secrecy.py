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

Not covered: a disclosed sum that fails the rule but is obtained only by combining several
relations (exact recovery of a cell is prevented within a family of tables); and callers whose
sets of aggregate-only datasets differ (one reads in full a dataset another only in aggregate).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

Reason = Literal["secrecy", "complementary"]
#: (territory, year, key); key None is the year's total.
Cell = tuple[str, int, str | None]
_Place = tuple[str, str | None]  # (territory, key) within one year
_Atom = tuple[str, str, str]  # (territory the figure is counted at, key, actor)
_Relation = tuple[_Place, tuple[_Place, ...]]

DEFAULT_MIN_ACTORS: Final = 3
DEFAULT_MAX_SHARE: Final = 0.85
_EXACT: Final = 1e-7  # below this, a least-squares residual or weight is zero


@dataclass(frozen=True)
class SecrecyRule:
    min_actors: int = DEFAULT_MIN_ACTORS
    max_share: float = DEFAULT_MAX_SHARE


@dataclass(frozen=True)
class Contribution:
    """Part of a cell coming from a dataset used only in aggregate (tCO2e).

    ``territory`` is where the figure is counted before roll-up (an actor's location)."""

    year: int
    key: str
    actor: str
    value: float
    territory: str = ""


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

    def outcome(self, territory: str) -> SecrecyOutcome:
        return SecrecyOutcome(self.by_territory.get(territory, ()))

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
) -> Decisions:
    """Primary and complementary suppression over the tables of every territory.

    ``ancestors`` maps each contribution's territory to every territory containing it (what its
    figures were rolled up into). ``levels`` ranks territories (smaller = more specific) to
    decide which of two territories covering the same places lies inside the other.
    ``fixed_totals``, if given, means the totals were decided elsewhere (by the by-sector
    table, which shares them): exactly these (territory, year) totals are withheld.
    ``sizes`` override the aggregate-only values used to rank complementary candidates.
    """
    by_year: dict[int, list[Contribution]] = defaultdict(list)
    for c in contributions:
        by_year[c.year].append(c)
    up = {
        c.territory: frozenset({c.territory, *(ancestors or {}).get(c.territory, ())})
        for year in by_year.values()
        for c in year
    }
    members = _largest_inside(up, levels or {})
    withheld: dict[str, list[WithheldCell]] = defaultdict(list)
    for year in sorted(by_year):
        table = _YearTables(year, by_year[year], up, members, rule, fixed_totals, sizes or {})
        for (territory, key), reason in table.solve():
            withheld[territory].append(WithheldCell(year, key, reason))
    return Decisions(
        {
            territory: tuple(sorted(cells, key=lambda c: (c.year, c.reason != "secrecy")))
            for territory, cells in withheld.items()
        }
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
    """One year of every territory's table, and the suppression over its relations."""

    def __init__(
        self,
        year: int,
        contributions: Sequence[Contribution],
        up: Mapping[str, frozenset[str]],
        members: Mapping[str, Sequence[str]],
        rule: SecrecyRule,
        fixed_totals: Collection[tuple[str, int]] | None,
        sizes: Mapping[Cell, float],
    ) -> None:
        self.year, self.rule, self.sizes = year, rule, sizes
        self.atoms: dict[_Atom, float] = defaultdict(float)
        self.content: dict[_Place, set[_Atom]] = defaultdict(set)
        for c in contributions:
            atom = (c.territory, c.key, c.actor)
            self.atoms[atom] += c.value
            for territory in up[c.territory]:
                self.content[(territory, c.key)].add(atom)
                self.content[(territory, None)].add(atom)
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
        self.tight = {rel: not self._by_actor(*rel) for rel in self.relations}
        self.unknowns = {p: {(a[0], a[1]) for a in atoms} for p, atoms in self.content.items()}

    def solve(self) -> list[tuple[_Place, Reason]]:
        hidden: dict[_Place, Reason] = {}
        if self.fixed is not None:
            hidden.update(((t, None), "complementary") for t in sorted(self.fixed))
        for place in sorted(self.content, key=_order):
            if place[1] is not None and failure(self._by_actor(place, ()), self.rule):
                hidden[place] = "secrecy"
        while True:
            changed = True
            while changed:
                changed = False
                for relation in self.relations:
                    while self._broken(relation, hidden):
                        partner = self._partner(relation, hidden)
                        if partner is None:
                            break
                        hidden[partner] = "complementary"
                        changed = True
            partner = self._undo_recovery(hidden)
            if partner is None:
                return list(hidden.items())
            hidden[partner] = "complementary"

    def _undo_recovery(self, hidden: Mapping[_Place, Reason]) -> _Place | None:
        """A shown cell to withhold because some withheld cell is a linear combination of
        shown ones (the exact attacker, beyond the relations above), or None.

        Unknowns are the aggregate-only parts counted at each (own territory, key); a cell is
        the sum of those below it. A shown cell with one unknown left gives it away; the rest
        is linear algebra on what remains: a withheld cell is recoverable iff its vector lies in
        the span of the shown cells' vectors.
        """
        shown = sorted((p for p in self.content if p not in hidden), key=_order)
        left = {p: set(self.unknowns[p]) for p in shown}
        holders: dict[_Place, list[_Place]] = defaultdict(list)
        for place in shown:
            for unknown in left[place]:
                holders[unknown].append(place)
        given_by: dict[_Place, _Place] = {}  # unknown → the shown cell that gives it away
        singles = [p for p in shown if len(left[p]) == 1]
        while singles:
            place = singles.pop()
            if len(left[place]) != 1:
                continue
            (unknown,) = left[place]
            given_by[unknown] = place
            for other in holders[unknown]:
                left[other].discard(unknown)
                if len(left[other]) == 1:
                    singles.append(other)
        rest = [p for p in shown if left[p]]
        column = {
            u: i for i, u in enumerate(sorted({u for p in rest for u in left[p]}, key=_order))
        }
        basis = np.zeros((len(column), len(rest)))
        for j, place in enumerate(rest):
            basis[[column[u] for u in left[place]], j] = 1.0
        span = _orthonormal_span(basis)
        for secret in sorted((p for p in hidden if self.content[p]), key=_order):
            unknowns = [u for u in self.unknowns[secret] if u not in given_by]
            if any(u not in column for u in unknowns):
                continue  # an unknown no shown cell holds: not recoverable
            rows = [column[u] for u in unknowns]
            projected = span[rows].sum(axis=0)
            if len(rows) - float(projected @ projected) > _EXACT:
                continue
            used = [given_by[u] for u in self.unknowns[secret] if u in given_by]
            if rows:
                target = np.zeros(len(column))
                target[rows] = 1.0
                weights = np.linalg.lstsq(basis, target, rcond=None)[0]
                used += [rest[j] for j in np.flatnonzero(np.abs(weights) > _EXACT)]
            candidates = [p for p in used if self._may_hide(p)]
            if candidates:
                return min(candidates, key=lambda p: (self._size(p), *_order(p)))
        return None

    def _by_actor(self, head: _Place, known: Iterable[_Place]) -> dict[str, float]:
        """Per actor, the aggregate-only part of ``head`` minus that of the ``known`` cells."""
        count = dict.fromkeys(self.content[head], 1)
        for place in known:
            for atom in self.content[place]:
                count[atom] = count.get(atom, 0) - 1
        by_actor: dict[str, float] = defaultdict(float)
        for atom, n in count.items():
            if n:
                by_actor[atom[2]] += n * self.atoms[atom]
        return by_actor

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

    def _broken(self, relation: _Relation, hidden: Mapping[_Place, Reason]) -> bool:
        head, members = relation
        unknown = sum(1 for m in members if m in hidden)
        if head in hidden:
            return unknown == 0 and self.tight[relation]
        if unknown == 1 and self.tight[relation]:
            return True
        disclosed = self._by_actor(head, self._shown_below(members, hidden))
        return failure(disclosed, self.rule) is not None

    def _partner(self, relation: _Relation, hidden: Mapping[_Place, Reason]) -> _Place | None:
        head, members = relation
        candidates = [m for m in members if m not in hidden and self._may_hide(m)]
        if candidates:
            return min(candidates, key=lambda p: (self._size(p), *_order(p)))
        if head not in hidden and self._may_hide(head):
            return head
        return None

    def _may_hide(self, place: _Place) -> bool:
        return self.fixed is None or place[1] is not None

    def _size(self, place: _Place) -> float:
        territory, key = place
        size = self.sizes.get((territory, self.year, key))
        if size is None:
            size = abs(sum(self.atoms[a] for a in self.content[place]))
        return size


def _order(place: _Place) -> tuple[str, str]:
    return (place[0], place[1] or "")


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
