"""Where a version's rows live: one typed table per version, as CKAN's DataStore and Datasette do.

Typed columns make loading close to a raw ``COPY`` (no JSON to build or parse) and let filters and
sorts use real types and indexes. The tables are data, not schema: they are created and dropped
in the upload's (or deletion's) transaction, named ``rows_<version id>``, outside Alembic's scope.
Column names in SQL are positional (``c0``, ``c1``...), so no user-supplied name reaches SQL.
On SQLite the row number is the table's rowid (``INTEGER PRIMARY KEY``), so it needs no index.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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

from datahub.catalog.convert import ARROW_TYPES
from datahub.db import bulk

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
    target = ARROW_TYPES[column.type]
    return array if array.type == target else array.cast(target)


class Loader(ABC):
    """Appends Arrow batches to a version's (new, empty) table, numbering rows from 1.

    Use it as a context manager; :func:`loader` picks the bulk path of the connection's database.
    """

    def __init__(self, connection: Connection, rows: Table, columns: Sequence[RowColumn]) -> None:
        self.connection = connection
        self.rows = rows
        self.columns = list(columns)
        self.count = 0

    def __enter__(self) -> Loader:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add(self, batch: Any) -> None:
        size = batch.num_rows
        if size == 0:
            return
        self._write([_arrow_for(c, batch.column(c.name)) for c in self.columns], size)
        self.count += size

    @abstractmethod
    def _write(self, arrays: list[Any], size: int) -> None:
        """Store ``arrays`` (one per column, ``size`` rows) after the rows stored so far."""


class _CopyLoader(Loader):
    """PostgreSQL: one binary ``COPY`` stays open for the whole load (:mod:`datahub.db.bulk`),
    so the server stores rows while the next batch is being parsed."""

    def __enter__(self) -> Loader:
        self._stack = ExitStack()
        names = [ROW, *(c.sql for c in self.columns)]
        self._schema = bulk.copy_schema(self.rows, names)
        dbapi = self.connection.connection.driver_connection
        self._send = self._stack.enter_context(
            bulk.postgres_copy(dbapi, self.rows.name, names, self._schema)
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.__exit__(*exc)  # type: ignore[arg-type]

    def _write(self, arrays: list[Any], size: int) -> None:
        numbers = pa.array(np.arange(self.count + 1, self.count + size + 1, dtype=np.int64))
        self._send(pa.RecordBatch.from_arrays([numbers, *arrays], schema=self._schema))


class _InsertLoader(Loader):
    """SQLite: multi-row ``INSERT`` statements (:mod:`datahub.db.bulk`).

    The row number is the rowid SQLite assigns (1, 2... in a new table). Columns empty throughout
    a batch are left to their default, NULL. Python values are made column by column (a repeated
    string is made once): the Python-level work per row is what bounds SQLite's bulk load.
    """

    def _write(self, arrays: list[Any], size: int) -> None:
        dbapi: Any = self.connection.connection.driver_connection
        filled = [
            (c.sql, a) for c, a in zip(self.columns, arrays, strict=True) if a.null_count < len(a)
        ]
        if not filled:  # a batch of blank rows
            dbapi.executemany(f"INSERT INTO {self.rows.name} DEFAULT VALUES", [()] * size)
            return
        grid = np.empty((size, len(filled)), dtype=object)
        for j, (_, array) in enumerate(filled):
            grid[:, j] = _python_values(array)
        bulk.sqlite_insert(dbapi, self.rows.name, [name for name, _ in filled], grid)


def _python_values(array: Any) -> Any:
    """A column as a numpy array of the Python values sqlite3 binds (None for null)."""
    if pa.types.is_string(array.type):
        encoded = pc.dictionary_encode(array)
        if 2 * len(encoded.dictionary) > len(array):  # mostly distinct: nothing to share
            return np.array(array.to_pylist(), dtype=object)
        lookup = np.array([*encoded.dictionary.to_pylist(), None], dtype=object)
        return lookup[pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy()]
    if array.type in (pa.date32(), pa.timestamp("us")):
        return np.array(array.to_pylist(), dtype=object)
    values = pc.fill_null(array, pa.scalar(False if array.type == pa.bool_() else 0, array.type))
    objects = values.to_numpy(zero_copy_only=False).astype(object)
    if array.null_count:
        objects[pc.is_null(array).to_numpy(zero_copy_only=False)] = None
    return objects


def loader(connection: Connection, rows: Table, columns: Sequence[RowColumn]) -> Loader:
    """The bulk loader for the connection's database; use it as a context manager."""
    if connection.dialect.name == "postgresql":
        return _CopyLoader(connection, rows, columns)
    return _InsertLoader(connection, rows, columns)
