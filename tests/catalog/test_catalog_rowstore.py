"""The bulk loaders store every value as given, on SQLite (multi-row INSERT) and PostgreSQL
(binary COPY): types, nulls, repeated and distinct strings, row numbers across batches."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
from sqlalchemy import select

from datahub.catalog import rowstore
from datahub.catalog.convert import ARROW_TYPES
from datahub.runtime import Runtime

TYPES = ["integer", "number", "boolean", "date", "datetime", "string"]


def _load(runtime: Runtime, version_id: int, columns: list[dict[str, Any]], batches: list[Any]):
    layout = rowstore.layout(columns)
    rows = rowstore.table(version_id, layout)
    with runtime.transaction() as session:
        connection = session.connection()
        rowstore.create(connection, rows)
        with rowstore.loader(connection, rows, layout) as loader:
            for batch in batches:
                loader.add(batch)
        rowstore.finish(connection, rows)
        stored = connection.execute(select(rows).order_by(rows.c[rowstore.ROW])).all()
    return loader.count, [tuple(row) for row in stored]


def _values(i: int) -> dict[str, Any]:
    """Row ``i`` of the typed test table; every column is null on its own rows."""
    values: dict[str, Any] = {
        "integer": -(2**62) + i if i % 7 else None,
        "number": i / 3 if i % 5 else None,
        "boolean": bool(i % 2) if i % 6 else None,
        "date": dt.date(1990, 1, 1) + dt.timedelta(days=i) if i % 4 else None,
        "datetime": dt.datetime(2024, 3, 1, 12, 30, 15, 123456) + dt.timedelta(minutes=i)
        if i % 9
        else None,
        # repeated values (shared) on even rows, distinct ones with accents on odd rows
        "string": (f"commune:{i % 3}" if i % 2 == 0 else f"Île-{i} « x »") if i % 8 else None,
    }
    return values


def test_every_type_and_null_survives_the_bulk_load_in_row_order(runtime: Runtime) -> None:
    columns = [{"name": t, "type": t} for t in TYPES]
    # 300 rows in batches of 130 and 170: neither is a multiple of the rows per INSERT (128),
    # and row numbers must continue from one batch to the next.
    expected = [_values(i) for i in range(300)]
    batches = [
        pa.RecordBatch.from_pylist(part, schema=pa.schema([(t, ARROW_TYPES[t]) for t in TYPES]))
        for part in (expected[:130], expected[130:])
    ]
    count, stored = _load(runtime, 9001, columns, batches)
    assert count == 300
    assert [row[0] for row in stored] == list(range(1, 301))
    for row, values in zip(stored, expected, strict=True):
        got = dict(zip(TYPES, row[1:], strict=True))
        if got["boolean"] is not None:
            got["boolean"] = bool(got["boolean"])
        assert got == values


def test_a_table_wider_than_sqlite_parameters_allow_per_statement(runtime: Runtime) -> None:
    # 400 columns x 128 rows would be 51,200 parameters, past SQLite's limit (32,766): fewer
    # rows go in each statement, and every value still lands in its cell.
    width, size = 400, 257
    columns = [{"name": f"n{j}", "type": "integer"} for j in range(width)]
    batch = pa.RecordBatch.from_arrays(
        [pa.array([i * width + j for i in range(size)], pa.int64()) for j in range(width)],
        names=[f"n{j}" for j in range(width)],
    )
    count, stored = _load(runtime, 9002, columns, [batch])
    assert count == size
    assert stored[0][1:4] == (0, 1, 2)
    assert stored[-1][0] == size
    assert stored[-1][-1] == (size - 1) * width + width - 1
    assert all(row[1:] == tuple(range(i * width, (i + 1) * width)) for i, row in enumerate(stored))


def test_blank_rows_and_empty_columns_are_stored_as_nulls(runtime: Runtime) -> None:
    columns = [{"name": "a", "type": "string"}, {"name": "b", "type": "number"}]
    schema = pa.schema([("a", pa.string()), ("b", pa.float64())])
    batches = [
        pa.RecordBatch.from_pylist([{"a": None, "b": None}] * 3, schema=schema),
        pa.RecordBatch.from_pylist([{"a": "x", "b": None}, {"a": None, "b": None}], schema=schema),
        pa.RecordBatch.from_pylist([], schema=schema),
    ]
    count, stored = _load(runtime, 9003, columns, batches)
    assert count == 5
    assert stored == [
        (1, None, None),
        (2, None, None),
        (3, None, None),
        (4, "x", None),
        (5, None, None),
    ]
