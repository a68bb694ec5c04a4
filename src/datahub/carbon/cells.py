"""Stage 3 of the read path (pure): records of the facts in scope become cells ``(year, key)``
(key = sector, gas or ``total``), with the contributions secrecy decides on.

Aggregate-only records also give one contribution each, under their actor: rows naming no actor
in an aggregate-only dataset count as one pseudo-actor (:func:`secret_actor`), so they never
pass alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import cast

from datahub.carbon.disclosure import key_of
from datahub.carbon.schemas import By
from datahub.carbon.secrecy import Contribution
from datahub.carbon.units import Gas, GwpSet, gwp

Cells = dict[tuple[int, str], float]


@dataclass(frozen=True)
class Record:
    version_id: int
    year: int
    sector: str
    ghg: str
    actor: str
    value: float


def emission_records(
    rows: Iterable[tuple[int, int, str, str, str, str, float]], gwp_set: GwpSet
) -> list[Record]:
    """Emission cell rows, in tCO2e with the GWP set of the request."""
    out = []
    for version_id, year, sector, ghg, gas, actor, tonnes in rows:
        factor = 1.0 if gas == "CO2e" else gwp(cast(Gas, gas), gwp_set)
        out.append(Record(version_id, year, sector, ghg, actor, tonnes * factor))
    return out


def secret_actor(actor: str, dataset_id: str) -> str:
    """Whom an aggregate-only figure belongs to: rows naming no actor are one pseudo-actor."""
    return actor or f"inventory:{dataset_id}"


def climate_corrected(
    records: Sequence[Record],
    group_of: Callable[[Record], object],
    factors: Mapping[object, Mapping[tuple[int, str], float]],
) -> list[Record]:
    """Records scaled by the climate factor of their group's ``(year, sector)`` (1 if none)."""
    return [
        replace(r, value=r.value * factors[group_of(r)].get((r.year, r.sector), 1.0))
        for r in records
    ]


def cells_of(
    records: Iterable[Record], by: By, aggregate_of: Callable[[Record], str | None]
) -> tuple[Cells, list[Contribution]]:
    """The cells, and the contributions of the records used in aggregate only:
    ``aggregate_of(record)`` names the dataset of such a record, None for the others."""
    cells: Cells = defaultdict(float)
    contributions: list[Contribution] = []
    for record in records:
        key = key_of(record.sector, record.ghg, by)
        cells[(record.year, key)] += record.value
        dataset_id = aggregate_of(record)
        if dataset_id is not None:
            actor = secret_actor(record.actor, dataset_id)
            contributions.append(Contribution(record.year, key, actor, record.value))
    return cells, contributions
