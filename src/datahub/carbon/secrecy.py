"""Statistical secrecy for contributions that may only be published in aggregate.

A trajectory shows, for each year, a breakdown (cells keyed by sector, gas…), the year's total
``emissions`` and ``net = emissions − sequestration``. Sequestration is always shown, so the net
discloses exactly what the total discloses, and the two are withheld together.

What a reader knows: every row of the datasets they may read in full, every shown cell, and the
shown totals. So the only secret is the *aggregate-only* part of a cell, and the rule is applied
to that part:

1. **Primary suppression.** A cell is withheld (reason ``secrecy``) when its aggregate-only
   contributions come from fewer than ``min_actors`` distinct actors, or when one actor holds
   more than ``max_share`` of them (shares of absolute values, an actor's rows summed first).
2. **Complementary suppression.** If a year's total is shown, it gives away the sum of the
   aggregate-only parts of the withheld cells (total minus everything the reader can compute).
   That sum must itself pass the rule, taken over the union of their contributions. While it
   does not, the shown cell with aggregate-only contributions and the smallest absolute value
   is withheld too (reason ``complementary``); when no such cell is left, the year's total is
   withheld instead (``key`` None, reason ``complementary``). A single withheld cell always
   fails on its own, so it always gets a partner or hides the total.

Hence no withheld value can be recomputed from one table: each withheld group is either hidden
entirely or known only as a sum that passes the rule. Differencing *between* tables (a commune
against its EPCI, a sector table against a gas table) is not covered by this module.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

Reason = Literal["secrecy", "complementary"]

DEFAULT_MIN_ACTORS: Final = 3
DEFAULT_MAX_SHARE: Final = 0.85


@dataclass(frozen=True)
class SecrecyRule:
    min_actors: int = DEFAULT_MIN_ACTORS
    max_share: float = DEFAULT_MAX_SHARE


@dataclass(frozen=True)
class Contribution:
    """Part of a cell coming from a dataset used only in aggregate (tCO2e)."""

    year: int
    key: str
    actor: str
    value: float


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
    cell_values: Mapping[tuple[int, str], float],
    rule: SecrecyRule = SecrecyRule(),
) -> SecrecyOutcome:
    """Decide which cells (and totals) to withhold.

    ``contributions`` are the aggregate-only parts; ``cell_values`` the full value of every cell
    of the table (keyed by (year, key)), used to pick the smallest complementary cell.
    """
    secret: dict[int, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for c in contributions:
        cell = secret[c.year][c.key]
        cell[c.actor] = cell.get(c.actor, 0.0) + c.value

    withheld: list[WithheldCell] = []
    for year in sorted(secret):
        cells = secret[year]
        hidden = sorted(key for key, by_actor in cells.items() if failure(by_actor, rule))
        withheld.extend(WithheldCell(year, key, "secrecy") for key in hidden)
        if not hidden:
            continue
        group: dict[str, float] = defaultdict(float)
        for key in hidden:
            for actor, value in cells[key].items():
                group[actor] += value
        while failure(group, rule):
            candidates = [key for key in cells if key not in hidden]
            if not candidates:
                withheld.append(WithheldCell(year, None, "complementary"))
                break
            partner = min(
                candidates,
                key=lambda k: (abs(cell_values.get((year, k), sum(cells[k].values()))), k),
            )
            hidden.append(partner)
            withheld.append(WithheldCell(year, partner, "complementary"))
            for actor, value in cells[partner].items():
                group[actor] += value
    return SecrecyOutcome(tuple(withheld))
