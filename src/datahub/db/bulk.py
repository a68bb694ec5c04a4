"""Bulk loads: one binary ``COPY`` on PostgreSQL, multi-row ``INSERT`` statements on SQLite.

PostgreSQL: Arrow batches are encoded in the binary ``COPY`` format by pgpq, so numbers are
neither formatted as text here nor parsed by the server. SQLite: the sqlite3 driver binds and
steps one statement per row in ``executemany``; with ~100 rows per statement the per-row
overhead goes and a large load takes about half the time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final

import numpy as np
import pgpq
import pyarrow as pa
from sqlalchemy import BigInteger, Boolean, Date, DateTime, Float, Integer, String, Table

#: Rows per statement (fewer when the columns would pass SQLite's limit on parameters); beyond
#: ~100 the statement grows without the load getting faster.
ROWS_PER_INSERT: Final = 128


#: The Arrow type whose binary ``COPY`` encoding is each SQL type's (int4 is not int8).
_ARROW_FOR_SQL: Final[dict[type[Any], Any]] = {
    BigInteger: pa.int64(),
    Integer: pa.int32(),
    Float: pa.float64(),
    Boolean: pa.bool_(),
    Date: pa.date32(),
    DateTime: pa.timestamp("us"),
    String: pa.string(),  # Text and VARCHAR too
}


def copy_schema(table: Table, columns: Sequence[str]) -> Any:
    """The Arrow schema to encode ``columns`` of ``table`` in, for :func:`postgres_copy`."""
    return pa.schema([(name, _arrow_for_sql(table.c[name].type)) for name in columns])


def _arrow_for_sql(sql_type: Any) -> Any:
    for kind in type(sql_type).__mro__:
        if kind in _ARROW_FOR_SQL:
            return _ARROW_FOR_SQL[kind]
    raise TypeError(f"no binary COPY encoding for {sql_type!r}")


@contextmanager
def postgres_copy(
    dbapi_connection: Any, table: str, columns: Sequence[str], schema: Any
) -> Iterator[Callable[[Any], None]]:
    """One binary ``COPY`` into ``table`` of ``columns`` (names quoted), encoded per ``schema``;
    yields the function that sends a record batch of that schema. If the block raises, the COPY
    is aborted."""
    encoder = pgpq.ArrowToPostgresBinaryEncoder(schema)
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT binary)"
    with dbapi_connection.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(encoder.write_header())
        yield lambda batch: copy.write(encoder.write_batch(batch))
        copy.write(encoder.finish())


def sqlite_insert(dbapi_connection: Any, table: str, columns: Sequence[str], grid: Any) -> None:
    """Insert the rows of ``grid`` (a 2-D numpy object array, one column per name of
    ``columns``, values already as sqlite3 binds them) into ``table``; names are quoted."""
    size, width = grid.shape
    if size == 0:
        return
    limit = int(dbapi_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    per_statement = max(1, min(ROWS_PER_INSERT, limit // width))
    whole = size - size % per_statement
    cursor = dbapi_connection.cursor()
    try:
        if whole:
            values = grid[:whole].reshape(-1, per_statement * width).tolist()
            cursor.executemany(_statement(table, columns, per_statement), values)
        if whole < size:
            cursor.execute(_statement(table, columns, size - whole), grid[whole:].ravel().tolist())
    finally:
        cursor.close()


def object_grid(rows: Sequence[Sequence[Any]], width: int) -> Any:
    """Rows of Python values as the 2-D object array :func:`sqlite_insert` takes."""
    grid = np.empty((len(rows), width), dtype=object)
    if rows:
        grid[:] = rows
    return grid


def _statement(table: str, columns: Sequence[str], rows: int) -> str:
    one = f"({', '.join('?' for _ in columns)})"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * rows)}"
