"""Emission rows summed while an upload streams: the sums, the rows named, the overflow."""

from __future__ import annotations

import pyarrow as pa
import pytest

from datahub.carbon.emission_sums import EmissionSums


def _batch(rows: list[tuple[int, str, str, str | None, float | None, str]]) -> pa.RecordBatch:
    year, territory, sector, ghg, value, unit = zip(*rows, strict=True)
    return pa.RecordBatch.from_arrays(
        [
            pa.array(year, pa.int64()),
            pa.array(territory, pa.string()),
            pa.array(sector, pa.string()),
            pa.array(ghg, pa.string()),
            pa.array(value, pa.float64()),
            pa.array(unit, pa.string()),
        ],
        names=["year", "territory", "sector", "ghg", "value", "unit"],
    )


def test_sums_span_batches_and_name_the_first_row_of_each_unit() -> None:
    sums = EmissionSums()
    sums.add(
        _batch(
            [
                (2020, "commune:17300", "waste", None, 1.5, "tCO2e"),
                (2020, "commune:17300", "waste", None, None, "ktCO2e"),  # no value: not counted
                (2021, "commune:17300", "waste", "CH4", 2.0, "tCH4"),
            ]
        ),
        first_row=1,
    )
    sums.add(
        _batch(
            [
                (2020, "commune:17300", "waste", None, 2.5, "tCO2e"),
                (2020, "commune:17300", "waste", None, 4.0, "ktCO2e"),
            ]
        ),
        first_row=4,
    )
    assert sums.complete()
    totals = {(t[0], t[2], t[4], t[5]): t[6] for t in sums.totals()}
    # The same key in both batches adds up: 1.5 + 2.5; "actor" is absent, so it is null.
    assert totals == {
        ("commune:17300", 2020, None, "tCO2e"): 4.0,
        ("commune:17300", 2021, "CH4", "tCH4"): 2.0,
        ("commune:17300", 2020, None, "ktCO2e"): 4.0,
    }
    assert sums.missing == 1
    # ktCO2e first appears on row 2, but without a value: row 5 is the first that carries it.
    assert sums.first_rows == {("tCO2e", None): 1, ("tCH4", "CH4"): 3, ("ktCO2e", None): 5}


def test_too_many_keys_to_hold_are_left_to_the_database() -> None:
    sums = EmissionSums(max_groups=2)
    rows = [(2000 + i, "commune:17300", "waste", None, 1.0, "tCO2e") for i in range(3)]
    sums.add(_batch(rows), first_row=1)
    assert not sums.complete()
    with pytest.raises(AssertionError):
        list(sums.totals())
