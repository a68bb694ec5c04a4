"""Emission rows summed while an upload streams: the sums, the rows named, the overflow."""

from __future__ import annotations

import pyarrow as pa
import pytest

from datahub.carbon.emission_sums import EmissionSums, emission_facts


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
    table = sums.table()
    columns = [table[name].to_pylist() for name in ("territory", "year", "ghg", "unit", "value")]
    totals = {row[:4]: row[4] for row in zip(*columns, strict=True)}
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
        sums.table()


def test_facts_convert_each_sum_to_tonnes_of_its_gas() -> None:
    sums = EmissionSums()
    sums.add(
        _batch(
            [
                (2020, "commune:17300", "waste", None, 1.5, "ktCO2e"),
                (2020, "commune:17300", "waste", None, 500.0, "tCO2e"),
                (2020, "commune:17028", "industry", "CH4", 2.0, "tCH4"),
            ]
        ),
        first_row=1,
    )
    assert sums.complete()
    conversions = {
        ("ktCO2e", None): ("CO2e", "CO2e", 1000.0),
        ("tCO2e", None): ("CO2e", "CO2e", 1.0),
        ("tCH4", "CH4"): ("CH4", "CH4", 1.0),
    }
    facts = emission_facts(sums.table(), conversions, located={})
    got = {
        row[:6]: row[6]
        for row in zip(*(facts[c].to_pylist() for c in facts.column_names), strict=True)
    }
    # 1.5 kt = 1500 t and 500 t of the same cell add up to 2000 tCO2e; the CH4 keeps its gas.
    assert got == {
        ("commune:17300", "waste", 2020, "CO2e", "CO2e", ""): 2000.0,
        ("commune:17028", "industry", 2020, "CH4", "CH4", ""): 2.0,
    }


def test_facts_of_an_actor_count_at_its_location_when_known() -> None:
    sums = EmissionSums()
    batch = _batch(
        [
            (2020, "commune:17300", "industry", None, 10.0, "tCO2e"),
            (2020, "commune:17300", "industry", None, 3.0, "tCO2e"),
            (2020, "commune:17300", "industry", None, 1.0, "tCO2e"),
        ]
    )
    actors = pa.array(["usine", "inconnue", None], pa.string())
    sums.add(
        pa.RecordBatch.from_arrays([*batch.columns, actors], [*batch.schema.names, "actor"]), 1
    )
    assert sums.complete()
    facts = emission_facts(
        sums.table(), {("tCO2e", None): ("CO2e", "CO2e", 1.0)}, located={"usine": "commune:17028"}
    )
    got = {
        (scope, actor): value
        for scope, actor, value in zip(
            facts["scope"].to_pylist(),
            facts["actor"].to_pylist(),
            facts["value"].to_pylist(),
            strict=True,
        )
    }
    # The located actor moves to its commune; an actor with no known location stays where the
    # row put it; the row without an actor is the inventory (actor "").
    assert got == {
        ("commune:17028", "usine"): 10.0,
        ("commune:17300", "inconnue"): 3.0,
        ("commune:17300", ""): 1.0,
    }
