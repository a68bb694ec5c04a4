"""Sum an emissions upload's rows by key while they stream in (pyarrow), in bounded memory.

Emission files repeat their keys (a territory, sector and year per gas, or per actor), so their
sums are smaller than the file and indexing needs no second pass over the stored rows. Arrow
holds a group in ~70 bytes and groups a million keys in a fraction of a second, so sums of up
to :data:`MAX_GROUPS` keys are held here (~150 MB at most); past that the database sums instead
(``overflow``), so that the memory an upload takes stays bounded whatever the file. Batches are
summed into the totals once the pending rows outnumber the totals, so each row is grouped a
bounded number of times whatever the number of keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

KEYS: Final = ("territory", "sector", "year", "actor", "ghg", "unit")
MAX_GROUPS: Final = 2_000_000
#: Rows gathered before they are summed into the totals (one pass over them and the totals).
_FLUSH_ROWS: Final = 262_144


class EmissionSums:
    """``value`` summed by :data:`KEYS` over the rows that have one, batch after batch."""

    def __init__(self, max_groups: int = MAX_GROUPS) -> None:
        self.max_groups = max_groups
        #: The first row carrying each ``(unit, ghg)``, to name it if the pair is refused.
        self.first_rows: dict[tuple[str | None, str | None], int] = {}
        self.missing = 0
        self.overflow = False
        self._totals: Any = None
        self._pending: list[Any] = []
        self._pending_rows = 0
        self._pending_first_row = 1

    def add(self, batch: Any, first_row: int) -> None:
        if self.overflow:
            return
        if not self._pending:
            self._pending_first_row = first_row
        size = batch.num_rows
        names = set(batch.schema.names)
        columns = {
            key: batch.column(key) if key in names else pa.nulls(size, pa.string()) for key in KEYS
        }
        self._pending.append(pa.table({**columns, "value": batch.column("value")}))
        self._pending_rows += size
        held = 0 if self._totals is None else self._totals.num_rows
        if self._pending_rows >= max(_FLUSH_ROWS, held):
            self._flush()

    def complete(self) -> bool:
        """Sum what is pending; False when there were too many groups to hold (``overflow``)."""
        self._flush()
        return not self.overflow

    def table(self) -> Any:
        """``(*KEYS, value)`` of every group, as an Arrow table, once :meth:`complete`."""
        assert not self.overflow
        assert not self._pending
        if self._totals is None:
            empty = {k: pa.array([], pa.int64() if k == "year" else pa.string()) for k in KEYS}
            return pa.table({**empty, "value": pa.array([], pa.float64())})
        return self._totals

    def _flush(self) -> None:
        if self.overflow or not self._pending:
            return
        rows = pa.concat_tables(self._pending)
        first_row = self._pending_first_row
        self._pending, self._pending_rows = [], 0
        has_value = pc.is_valid(rows["value"])
        valued = rows.filter(has_value) if rows["value"].null_count else rows
        self.missing += rows.num_rows - valued.num_rows
        self._note_first_rows(rows, has_value, valued, first_row)
        parts = [valued] if self._totals is None else [self._totals, valued]
        self._totals = _sum(pa.concat_tables(parts))
        if self._totals.num_rows > self.max_groups:
            self.overflow = True
            self._totals = None

    def _note_first_rows(self, rows: Any, has_value: Any, valued: Any, first_row: int) -> None:
        pairs = valued.group_by(["unit", "ghg"], use_threads=False).aggregate([])
        for unit, ghg in zip(pairs["unit"].to_pylist(), pairs["ghg"].to_pylist(), strict=True):
            if (unit, ghg) in self.first_rows:
                continue
            same_ghg = pc.is_null(rows["ghg"]) if ghg is None else pc.equal(rows["ghg"], ghg)
            carries = pc.and_(pc.and_(pc.equal(rows["unit"], unit), same_ghg), has_value)
            index = pc.indices_nonzero(pc.fill_null(carries, False))[0].as_py()
            self.first_rows[(unit, ghg)] = first_row + index


def _sum(table: Any) -> Any:
    summed = table.group_by(list(KEYS), use_threads=False).aggregate([("value", "sum")])
    return summed.select([*KEYS, "value_sum"]).rename_columns([*KEYS, "value"])


#: Conversion of a ``(unit, ghg)`` pair: (ghg label, gas the mass is of, tonnes per unit).
Conversion = tuple[str, str, float]


def emission_facts(
    totals: Any,
    conversions: Mapping[tuple[str | None, str | None], Conversion],
    located: Mapping[str, str],
) -> Any:
    """The own facts of an emissions version from its sums, column-wise: each sum converted to
    tonnes of its gas and counted at its territory, or at its actor's location when known.
    Columns: scope, sector, year, ghg (label), gas, actor ("" for none), value."""
    by_pair = {(unit or "", ghg or ""): c for (unit, ghg), c in conversions.items()}
    pairs = pa.table(
        {
            "unit": [unit for unit, _ in by_pair],
            "ghg": [ghg for _, ghg in by_pair],
            "label": [c[0] for c in by_pair.values()],
            "gas": [c[1] for c in by_pair.values()],
            "multiplier": pa.array([c[2] for c in by_pair.values()], pa.float64()),
        }
    )
    rows = (
        totals.select(["territory", "sector", "year", "actor", "value"])
        .append_column("unit", pc.fill_null(totals["unit"], ""))
        .append_column("ghg", pc.fill_null(totals["ghg"], ""))
    )
    rows = rows.join(pairs, keys=["unit", "ghg"], join_type="inner", use_threads=False)
    actor = pc.fill_null(rows["actor"], "")
    scope = rows["territory"]
    if located:
        homes = pa.array([located.get(a) for a in actor.to_pylist()], pa.string())
        scope = pc.coalesce(homes, scope)
    converted = pa.table(
        {
            "scope": scope,
            "sector": rows["sector"],
            "year": rows["year"],
            "ghg": rows["label"],
            "gas": rows["gas"],
            "actor": actor,
            "value": pc.multiply(rows["value"], rows["multiplier"]),
        }
    )
    keys = ["scope", "sector", "year", "ghg", "gas", "actor"]
    summed = converted.group_by(keys, use_threads=False).aggregate([("value", "sum")])
    return summed.rename_columns([*keys, "value"])
