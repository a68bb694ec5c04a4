"""Bulk inserts on SQLite: many rows per ``INSERT ... VALUES (...), (...)`` statement.

The sqlite3 driver binds and steps one statement per row in ``executemany``; with ~100 rows per
statement the per-row overhead goes and a large load takes about half the time. (PostgreSQL
loads go through ``COPY`` instead.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, Final

import numpy as np

#: Rows per statement (fewer when the columns would pass SQLite's limit on parameters); beyond
#: ~100 the statement grows without the load getting faster.
ROWS_PER_INSERT: Final = 128


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
