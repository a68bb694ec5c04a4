"""Row queries: ``<column>__<op>=<value>`` filters, sort and pagination over a version.

The parameters follow data.gouv.fr's api-tabular, so a script written for it runs here unchanged:
``greater``/``less`` are inclusive (≥, ≤), ``strictly_*`` are not, ``isnull``/``isnotnull`` need no
value, ``<column>__sort=asc|desc`` sorts, ``columns=a,b`` projects and ``page`` pages by offset.
Beside those, a keyset cursor (``after``) pages through any number of rows at constant cost.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import math
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

import orjson
from sqlalchemy import ColumnElement, Select, and_, cast, func, literal, null, or_, select
from sqlalchemy.orm import Session

from datahub.catalog import repository, rowstore
from datahub.db.models import DatasetVersion
from datahub.errors import BadRequest, FieldError, ValidationFailed

OPERATORS = (
    "exact",
    "differs",
    "in",
    "notin",
    "contains",
    "notcontains",
    "less",
    "greater",
    "strictly_less",
    "strictly_greater",
    "isnull",
    "isnotnull",
)
SORT_OP = "sort"
MAX_IN_VALUES = 500


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    value: str


@dataclass(frozen=True)
class RowQuery:
    filters: tuple[Filter, ...] = ()
    sort: str | None = None
    after: str | None = None
    page_size: int | None = 100
    columns: tuple[str, ...] | None = None
    page: int | None = None


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[FieldError(None, field, message)])


def parse_filters(params: Mapping[str, str], reserved: set[str]) -> tuple[Filter, ...]:
    """Filters (and ``<column>__sort``) from query parameters; others must be known ones."""
    found = []
    for key, value in params.items():
        if key in reserved:
            continue
        column, sep, op = key.rpartition("__")
        if not sep or not column:
            raise _invalid(key, f"unknown parameter {key[:60]!r}; filters are <column>__<op>")
        if op not in (*OPERATORS, SORT_OP):
            raise _invalid(key, f"unknown operator {op[:20]!r}; one of {', '.join(OPERATORS)}")
        found.append(Filter(column, op, value))
    return tuple(found)


def parse_sort(
    sort: str | None, filters: tuple[Filter, ...]
) -> tuple[str | None, tuple[Filter, ...]]:
    """One sort key from ``sort=[-]col`` or api-tabular's ``col__sort=asc|desc``; the filters
    without the sort parameter. Two sort keys are refused: the keyset cursor follows one."""
    sorts = [f for f in filters if f.op == SORT_OP]
    rest = tuple(f for f in filters if f.op != SORT_OP)
    if len(sorts) + (sort is not None) > 1:
        raise _invalid("sort", "sort by one column: sort=[-]col or one <column>__sort")
    if not sorts:
        return sort, rest
    flt = sorts[0]
    if flt.value not in ("asc", "desc"):
        raise _invalid(f"{flt.column}__sort", "asc or desc")
    return ("-" if flt.value == "desc" else "") + flt.column, rest


def parse_columns(value: str | None) -> tuple[str, ...] | None:
    """``columns=a,b``: the projection, in the order given."""
    if value is None:
        return None
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    if not names:
        raise _invalid("columns", "name at least one column")
    return names


def _convert(value: str, kind: str, field: str) -> Any:
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value.replace(",", ".")) if value.count(",") == 1 else float(value)
        if kind == "boolean":
            lowered = value.lower()
            if lowered not in ("true", "false", "1", "0"):
                raise ValueError(value)
            return lowered in ("true", "1")
        if kind == "date":
            return date.fromisoformat(value)
        if kind == "datetime":
            return datetime.fromisoformat(value)
    except ValueError:
        raise _invalid(field, f"{value[:40]!r} is not a valid {kind}") from None
    return value


def _condition(flt: Filter, column: rowstore.RowColumn, expr: Any) -> ColumnElement[bool]:
    field = f"{flt.column}__{flt.op}"
    if flt.op in ("isnull", "isnotnull"):
        # api-tabular takes the bare parameter; "=true"/"=false" are kept for older scripts.
        wanted = _convert(flt.value or "true", "boolean", field) == (flt.op == "isnull")
        return expr.is_(None) if wanted else expr.is_not(None)  # type: ignore[no-any-return]
    if flt.op in ("in", "notin"):
        values = [_convert(v, column.type, field) for v in flt.value.split(",")]
        if len(values) > MAX_IN_VALUES:
            raise _invalid(field, f"at most {MAX_IN_VALUES} values")
        return expr.in_(values) if flt.op == "in" else expr.not_in(values)  # type: ignore[no-any-return]
    if flt.op in ("contains", "notcontains"):
        # Case-insensitive as PostgREST's ilike; a null cell neither contains nor lacks a value.
        escaped = flt.value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        text = expr if column.type == "string" else expr.cast(rowstore.SQL_TYPES["string"])
        matches = func.lower(text).like(f"%{escaped}%", escape="\\")
        return matches if flt.op == "contains" else and_(text.is_not(None), ~matches)
    value = _convert(flt.value, column.type, field)
    comparisons: dict[str, ColumnElement[bool]] = {
        "exact": expr == value,
        "differs": expr != value,
        "less": expr <= value,
        "greater": expr >= value,
        "strictly_less": expr < value,
        "strictly_greater": expr > value,
    }
    return comparisons[flt.op]


def encode_cursor(value: Any, row_number: int) -> str:
    if isinstance(value, date | datetime):
        value = value.isoformat()
    return base64.urlsafe_b64encode(orjson.dumps([value, row_number])).decode("ascii").rstrip("=")


_INT64: Final = 1 << 63
_BAD_CURSOR: Final = "the 'after' cursor is not valid; use links.next as given"


def decode_cursor(cursor: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, row_number = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise BadRequest(_BAD_CURSOR) from None
    if not _is_int64(row_number) or row_number < 0:
        raise BadRequest(_BAD_CURSOR)
    return value, row_number


def _is_int64(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -_INT64 <= value < _INT64


def _cursor_value(value: Any, column: rowstore.RowColumn) -> Any:
    """The sort value of a cursor, checked against its column: a forged cursor holding a list,
    an object or a value of another type is a 400, not an error in the database."""
    if value is None:
        return None
    kind = column.type
    fits = (
        _is_int64(value)
        if kind == "integer"
        else isinstance(value, bool)
        if kind == "boolean"
        else (_is_int64(value) or (isinstance(value, float) and math.isfinite(value)))
        if kind == "number"
        else isinstance(value, str)
    )
    if not fits:
        raise BadRequest(_BAD_CURSOR)
    return _convert(value, kind, "after") if kind in ("date", "datetime") else value


@dataclass
class Prepared:
    """A filtered, ordered query over a version's rows, and how to turn rows into dicts.

    Its rows are ``(row number, *output columns[, sort key])``: the sort key is selected last
    when the projection leaves it out, for the cursor.
    """

    base: Select[Any]
    ordered: Select[Any]
    columns: list[rowstore.RowColumn]
    sort_column: rowstore.RowColumn | None
    offset: int = 0
    #: What the matching rows are counted under: the version (its rows never change) and the
    #: filters; without filters, the version's own row count.
    count_key: tuple[int, str, tuple[Filter, ...]] = (0, "", ())
    row_count: int | None = None

    def as_dict(self, row: Any) -> dict[str, Any]:
        return {c.name: _jsonable(row[i + 1]) for i, c in enumerate(self.columns)}

    def sort_key(self, row: Any) -> Any:
        if self.sort_column is None:
            return None
        if self.sort_column in self.columns:
            return row[1 + self.columns.index(self.sort_column)]
        return row[-1]

    def limited(self, limit: int | None) -> Prepared:
        ordered = self.ordered.limit(limit) if limit else self.ordered
        return dataclasses.replace(self, ordered=ordered)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _after(expr: Any, descending: bool, value: Any, row_number: int, row: Any) -> Any:
    """Rows strictly after the cursor in the order (value NULLS LAST, row number)."""
    if expr is None:
        return row > row_number
    if value is None:
        return and_(expr.is_(None), row > row_number)
    # A bound literal: SQLAlchemy reads ``expr > True`` as an operator misuse (boolean columns).
    bound = literal(value, expr.type)
    beyond = expr < bound if descending else expr > bound
    return or_(beyond, and_(expr == bound, row > row_number), expr.is_(None))


def _projection(
    columns: list[rowstore.RowColumn], wanted: tuple[str, ...] | None
) -> list[rowstore.RowColumn]:
    if wanted is None:
        return columns
    by_name = {c.name: c for c in columns}
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise _invalid("columns", f"no column {unknown[0][:60]!r}")
    return [by_name[n] for n in dict.fromkeys(wanted)]


def prepare(version: DatasetVersion, query: RowQuery) -> Prepared:
    table, columns = repository.rows_table(version)
    by_name = {c.name: c for c in columns}
    row = table.c[rowstore.ROW]
    if query.page is not None and query.after is not None:
        raise _invalid("page", "page by number (page=) or by cursor (after=), not both")
    outputs = _projection(columns, query.columns)
    sort_column, expr, descending = None, None, False
    if query.sort:
        name = query.sort.removeprefix("-")
        descending = query.sort.startswith("-")
        sort_column = by_name.get(name)
        if sort_column is None:
            raise _invalid("sort", f"no column {name[:60]!r}")
        expr = table.c[sort_column.sql]
    extra = [expr] if expr is not None and sort_column not in outputs else []
    base = select(row, *(table.c[c.sql] for c in outputs), *extra)
    for flt in query.filters:
        column = by_name.get(flt.column)
        if column is None:
            raise _invalid(f"{flt.column}__{flt.op}", f"no column {flt.column[:60]!r}")
        base = base.where(_condition(flt, column, table.c[column.sql]))
    ordered = base
    if query.after:
        value, row_number = decode_cursor(query.after)
        value = _cursor_value(value, sort_column) if sort_column is not None else None
        ordered = ordered.where(_after(expr, descending, value, row_number, row))
    if expr is not None:
        ordered = ordered.order_by(expr.is_(None), expr.desc() if descending else expr.asc())
    ordered = ordered.order_by(row)
    offset = 0
    if query.page is not None and query.page_size:
        offset = (query.page - 1) * query.page_size
        ordered = ordered.offset(offset)
    count_key = (version.id, version.sha256, tuple(query.filters))
    known = version.row_count if not query.filters else None
    return Prepared(base, ordered, outputs, sort_column, offset, count_key, known)


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    total: int
    next_cursor: str | None
    has_more: bool = False


def fetch_page(session: Session, prepared: Prepared, page_size: int) -> Page:
    total = count(session, prepared)
    fetched = repository.fetch_rows(session, prepared.ordered.limit(page_size + 1))
    rows = [prepared.as_dict(r) for r in fetched[:page_size]]
    next_cursor = None
    more = len(fetched) > page_size
    if more:
        last = fetched[page_size - 1]
        next_cursor = encode_cursor(prepared.sort_key(last), int(last[0]))
    return Page(rows, total, next_cursor, more)


def stream(session: Session, prepared: Prepared) -> Iterator[dict[str, Any]]:
    for row in repository.stream_rows(session, prepared.ordered):
        yield prepared.as_dict(row)


class _Counts:
    """Matching-row counts by version and filters, kept for the process: a version's rows never
    change, so following a keyset cursor page after page counts the filtered rows once, not on
    every page."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._found: OrderedDict[tuple[int, str, tuple[Filter, ...]], int] = OrderedDict()

    def get(self, session: Session, prepared: Prepared) -> int:
        if prepared.row_count is not None:
            return prepared.row_count
        key = prepared.count_key
        with self._lock:
            if key in self._found:
                self._found.move_to_end(key)
                return self._found[key]
        total = repository.count_rows(session, prepared.base)
        with self._lock:
            self._found[key] = total
            while len(self._found) > self._size:
                self._found.popitem(last=False)
        return total


_counts = _Counts()


def count(session: Session, prepared: Prepared) -> int:
    """How many rows match the filters (not the cursor or the page)."""
    return _counts.get(session, prepared)


def iter_version(session: Session, version: DatasetVersion) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every row of a version in order, as ``(row number, {column: value})``."""
    prepared = prepare(version, RowQuery())
    for row in repository.stream_rows(session, prepared.ordered):
        yield int(row[0]), prepared.as_dict(row)


def grouped(
    session: Session, version: DatasetVersion, keys: list[str], measure: str
) -> tuple[list[tuple[int, dict[str, Any]]], int]:
    """The version's rows summed by ``keys`` in the database, in first-row order.

    Returns ``(first row number, {key: value..., measure: sum})`` per group, and how many rows
    had no ``measure``. Absent optional columns read as null. Summing before converting is exact
    for linear conversions (units, GWP), and lets a million rows be indexed in one query.
    """
    table, columns = repository.rows_table(version)
    by_name = {c.name: table.c[c.sql] for c in columns}
    if measure not in by_name:
        raise _invalid(measure, f"required column {measure!r} is missing")
    value = by_name[measure]
    absent = cast(null(), rowstore.SQL_TYPES["string"])
    key_exprs = [by_name[k] if k in by_name else absent for k in keys]
    first = func.min(table.c[rowstore.ROW])
    query = (
        select(first, func.sum(value), func.count(), func.count(value), *key_exprs)
        .group_by(*key_exprs)
        .order_by(first)
    )
    groups: list[tuple[int, dict[str, Any]]] = []
    missing = 0
    for row in repository.fetch_rows(session, query):
        first_row, total, rows, present = int(row[0]), row[1], int(row[2]), int(row[3])
        missing += rows - present
        if present:
            groups.append((first_row, {**dict(zip(keys, row[4:], strict=True)), measure: total}))
    return groups, missing


def sql_columns(version: DatasetVersion) -> tuple[Any, dict[str, Any]]:
    """The version's rows table and its columns by name, for other domains' set-based SQL
    (the carbon engine aggregates a million rows in one ``INSERT ... SELECT``)."""
    table, columns = repository.rows_table(version)
    return table, {rowstore.ROW: table.c[rowstore.ROW], **{c.name: table.c[c.sql] for c in columns}}
