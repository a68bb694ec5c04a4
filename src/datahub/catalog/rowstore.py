"""Where a version's rows live: one typed table per version, as CKAN's DataStore and Datasette do.

Typed columns make loading close to a raw ``COPY`` (no JSON to build or parse) and let filters and
sorts use real types and indexes. The tables are data, not schema: they are created and dropped
in the upload's (or deletion's) transaction, named ``rows_<version id>``, outside Alembic's scope.
Column names in SQL are positional (``c0``, ``c1``...), so no user-supplied name reaches SQL.
On SQLite the row number is the table's rowid (``INTEGER PRIMARY KEY``), so it needs no index.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
)

TABLE_PREFIX = "rows_"
ROW = "_row"
SQL_TYPES: dict[str, Any] = {
    "integer": BigInteger,
    "number": Float,
    "boolean": Boolean,
    "date": Date,
    "datetime": DateTime,
    "string": Text,
}


@dataclass(frozen=True)
class RowColumn:
    name: str
    type: str
    sql: str


def layout(columns: Sequence[dict[str, Any]]) -> list[RowColumn]:
    """The stored columns of a version (``version.columns``: ``[{name, type}, ...]``)."""
    return [
        RowColumn(
            c["name"], c.get("type", "string") if c.get("type") in SQL_TYPES else "string", f"c{i}"
        )
        for i, c in enumerate(columns)
    ]


def table(version_id: int, columns: Sequence[RowColumn]) -> Table:
    """The SQLAlchemy table of one version (on a metadata of its own, never Base's)."""
    return Table(
        f"{TABLE_PREFIX}{version_id}",
        MetaData(),
        Column(ROW, BigInteger, nullable=False),
        *(Column(c.sql, SQL_TYPES[c.type]) for c in columns),
    )


def create(connection: Connection, rows: Table) -> None:
    if connection.dialect.name == "sqlite":
        row = Column(ROW, Integer, primary_key=True)
        others = (Column(c.name, c.type) for c in rows.columns if c.name != ROW)
        Table(rows.name, MetaData(), row, *others).create(connection)
        return
    rows.create(connection)


def finish(connection: Connection, rows: Table) -> None:
    """Index the row numbers once loaded: one sort instead of an index kept up row by row."""
    if connection.dialect.name != "sqlite":
        Index(f"ux_{rows.name}_row", rows.c[ROW], unique=True).create(connection)


def drop(connection: Connection, rows: Table) -> None:
    rows.drop(connection, checkfirst=True)


def _arrow_for(column: RowColumn, array: Any) -> Any:
    """Cast a batch column to what the stored column holds (integers stay integers...)."""
    target = {
        "integer": pa.int64(),
        "number": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "datetime": pa.timestamp("us"),
        "string": pa.string(),
    }[column.type]
    return array if array.type == target else array.cast(target)


class Loader:
    """Appends Arrow batches to a version's (new, empty) table, numbering rows from 1.

    On PostgreSQL one ``COPY ... (FORMAT csv)`` stays open for the whole load, fed by pyarrow's
    C++ CSV writer, so the server stores rows while the next batch is being parsed. SQLite takes
    each batch in one prepared ``executemany``; the row number is the rowid SQLite assigns (1, 2...
    in a new table), and columns empty throughout a batch are left to their default, NULL: fewer
    values to bind from Python.
    """

    def __init__(self, connection: Connection, rows: Table, columns: Sequence[RowColumn]) -> None:
        self.connection = connection
        self.rows = rows
        self.columns = list(columns)
        self.names = [ROW, *(c.sql for c in columns)]
        self.count = 0
        self._stack = ExitStack()
        self._copy: Any = None

    def __enter__(self) -> Loader:
        if self.connection.dialect.name == "postgresql":
            dbapi = self.connection.connection.driver_connection
            cursor = self._stack.enter_context(dbapi.cursor())  # type: ignore[union-attr]
            statement = f"COPY {self.rows.name} ({', '.join(self.names)}) FROM STDIN (FORMAT csv)"
            self._copy = self._stack.enter_context(cursor.copy(statement))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.__exit__(*exc)  # type: ignore[arg-type]

    def add(self, batch: Any) -> None:
        size = batch.num_rows
        if size == 0:
            return
        arrays = [_arrow_for(c, batch.column(c.name)) for c in self.columns]
        if self._copy is not None:
            self._copy_batch(arrays, size)
        else:
            self._insert_batch(arrays, size)
        self.count += size

    def _copy_batch(self, arrays: list[Any], size: int) -> None:
        numbers = pa.array(np.arange(self.count + 1, self.count + size + 1, dtype=np.int64))
        buffer = io.BytesIO()
        pacsv.write_csv(
            pa.Table.from_arrays([numbers, *arrays], names=self.names),
            buffer,
            pacsv.WriteOptions(include_header=False, quoting_style="needed"),
        )
        self._copy.write(buffer.getbuffer())

    def _insert_batch(self, arrays: list[Any], size: int) -> None:
        filled = [
            (c.sql, a) for c, a in zip(self.columns, arrays, strict=True) if a.null_count < len(a)
        ]
        if filled:
            names = ", ".join(name for name, _ in filled)
            placeholders = ", ".join("?" for _ in filled)
            statement = f"INSERT INTO {self.rows.name} ({names}) VALUES ({placeholders})"
            values = list(zip(*(a.to_pylist() for _, a in filled), strict=True))
        else:  # a batch of blank rows
            statement = f"INSERT INTO {self.rows.name} DEFAULT VALUES"
            values = [()] * size
        dbapi = self.connection.connection.driver_connection
        cursor = dbapi.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(statement, values)
        finally:
            cursor.close()
