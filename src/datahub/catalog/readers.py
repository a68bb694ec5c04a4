"""Read an uploaded file into typed, validated pyarrow record batches, in bounded memory.

``open_table(path, filename=..., media_type=..., kind=...)`` detects the format (CSV, JSON array
or NDJSON, GeoJSON FeatureCollection, Parquet, XLSX), reads every cell as text (Parquet keeps
its own types), and types the columns:

- with a Table Schema (a standard ``kind``, or ``table_schema=`` for a generic dataset) the
  declared fields are converted and their constraints checked; undeclared columns are kept
  as they are (text for text formats);
- without one, types are **inferred over the whole file** in a first streaming pass
  (integer > number > boolean > date > string, see :class:`~datahub.catalog.convert.TypeInference`),
  then a second pass converts. Inferring from the first batch only would let row 500,000 turn a
  column into text after earlier batches were already stored as numbers; two passes cost a
  second read of the file but never change a type half-way.

:meth:`ParsedTable.batches` yields only valid batches. At the first invalid row it stops yielding
but keeps reading to report up to :data:`MAX_ERRORS` errors, then raises
:class:`~datahub.errors.ValidationFailed`; so a caller that writes batches in a transaction
simply lets the exception roll it back. Row numbers are 1-based data rows (header excluded).
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import re
import zipfile
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Final

import ijson
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from datahub.catalog import hints, kinds
from datahub.catalog.convert import (
    ARROW_TYPES,
    DecimalMode,
    FieldSpec,
    TypeInference,
    convert_column,
    keep_column,
    specs_from_schema,
)
from datahub.catalog.jsonguard import NestingGuard, TooDeep
from datahub.catalog.sniff import (
    Format,
    check_quotes,
    detect_encoding,
    detect_format,
    sniff_csv,
)
from datahub.errors import DatahubError, FieldError, UnsupportedMediaType, ValidationFailed

MAX_ERRORS: Final = 100
BATCH_ROWS: Final = 65_536
#: Arrow reads up to 32 blocks ahead of the consumer: 1 MiB blocks bound that to 32 MiB (with
#: 4 MiB blocks, peak memory grew with the file up to 128 MiB of read-ahead).
CSV_BLOCK_BYTES: Final = 1 << 20
#: Refuse XLSX files whose XML would inflate beyond this (zip bombs).
MAX_XLSX_UNCOMPRESSED: Final = 2 << 30
MAX_XLSX_RATIO: Final = 200
_XLSX_MEMBER_FLOOR: Final = 1 << 20
#: openpyxl loads the whole shared-strings table in memory (~4 bytes of Python objects per byte
#: of XML) before the first row: its XML may be 16 times the upload's size, 128 MiB at most.
XLSX_SHARED_STRINGS_PER_BYTE: Final = 16
MAX_XLSX_SHARED_STRINGS: Final = 128 << 20
#: Cells read (blank ones included: a sheet is padded to its widest row) per byte of upload,
#: beyond a first million. Real data holds less than one cell per byte of XLSX.
XLSX_CELLS_PER_BYTE: Final = 64
_XLSX_CELL_FLOOR: Final = 1_000_000
_UNIQUE_COUNT: Final = re.compile(rb'uniqueCount="(\d+)"')
#: A JSON row or GeoJSON feature is built in memory (~130 bytes a position) before it is typed:
#: refuse one larger than this many bytes, or holding more than this many arrays (a GeoJSON
#: position is one array). A million positions is a very detailed coastline (~25 MB of text);
#: the count happens while reading, so a 10-million-vertex line is never built.
MAX_ROW_BYTES: Final = 64 << 20
MAX_ROW_ARRAYS: Final = 1_000_000
#: Columns of a table (PostgreSQL allows 1,600 in a row; the row table adds its own).
MAX_COLUMNS: Final = 1_000


@dataclass(frozen=True)
class Dialect:
    """How the file was read, for the validation report."""

    delimiter: str | None = None
    encoding: str | None = None
    decimal: str | None = None
    bom: bool = False
    layout: str | None = None  # json: array | ndjson | envelope; geojson; xlsx: sheet name

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str  # Table Schema type: string, integer, number, boolean, date, datetime
    declared: bool = False


# --------------------------------------------------------------------------------------------
# Errors and row numbers


def _failure(errors: Sequence[FieldError], truncated: bool = False) -> ValidationFailed:
    ordered = sorted(errors, key=lambda e: e.row or 0)
    more = f" (stopped after the first {len(ordered)})" if truncated else ""
    noun = "error" if len(ordered) == 1 else "errors"
    return ValidationFailed(
        detail=f"The file failed validation: {len(ordered)} {noun}{more}", errors=list(ordered)
    )


def _fail(message: str, row: int | None = None, field_name: str | None = None) -> ValidationFailed:
    return ValidationFailed(detail=message, errors=[FieldError(row, field_name, message)])


@dataclass
class _RowNumbers:
    """Maps the index of an emitted row to its data-row number, around skipped rows."""

    skipped: list[int] = field(default_factory=list)

    def data_row(self, emitted_index: int) -> int:
        row = emitted_index + 1
        for skipped in sorted(self.skipped):
            if skipped <= row:
                row += 1
            else:
                break
        return row


def _show(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:40] + "…")


# --------------------------------------------------------------------------------------------
# Sources: raw batches, every column as text (Parquet: native types), positional columns


class _Source:
    format: Format
    dialect: Dialect
    names: list[str]
    decimal: DecimalMode = "auto"

    def __init__(self) -> None:
        self.rows = _RowNumbers()
        self.errors: list[FieldError] = []

    def raw_batches(self) -> Iterator[Any]:
        raise NotImplementedError

    def take_errors(self) -> list[FieldError]:
        taken, self.errors = self.errors, []
        return taken


class _CsvSource(_Source):
    format: Format = "csv"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.encoding = detect_encoding(path)
        sniffed = sniff_csv(path, self.encoding)
        check_quotes(path, self.encoding, sniffed.quote_char)
        self.delimiter = sniffed.delimiter
        self.quote_char = sniffed.quote_char
        self.names = sniffed.header
        self.decimal = sniffed.decimal
        self.dialect = Dialect(
            delimiter=sniffed.delimiter,
            encoding=codecs.lookup(self.encoding.name).name,
            decimal="," if sniffed.decimal == "comma" else ".",
            bom=self.encoding.bom,
        )

    def _on_invalid_row(self, row: Any) -> str:
        data_row = row.number - 1 if row.number is not None else None
        if data_row is not None:
            self.rows.skipped.append(data_row)
        hint = ""
        if row.text.count(self.quote_char) % 2:
            hint = " (unterminated quote?)"
        elif row.actual_columns == row.expected_columns + 1 and row.text.endswith(self.delimiter):
            hint = " (trailing separator?)"
        message = f"expected {row.expected_columns} fields, found {row.actual_columns}{hint}"
        self.errors.append(FieldError(data_row, None, message))
        return "skip"

    def raw_batches(self) -> Iterator[Any]:
        self.rows = _RowNumbers()
        internal = [f"c{i}" for i in range(len(self.names))]
        encoding = "utf8" if self.encoding.name == "utf-8" else self.encoding.name
        reader = pcsv.open_csv(
            self.path,
            read_options=pcsv.ReadOptions(
                column_names=internal,
                skip_rows=1,
                encoding=encoding,
                block_size=CSV_BLOCK_BYTES,
                use_threads=False,  # row numbers of invalid rows are only known single-threaded
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=self.delimiter,
                quote_char=self.quote_char,
                double_quote=True,
                newlines_in_values=True,
                ignore_empty_lines=True,
                invalid_row_handler=self._on_invalid_row,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types={name: pa.string() for name in internal},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        yield from reader


class _ParquetSource(_Source):
    format: Format = "parquet"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        try:
            self.file = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise _fail(f"Not a readable Parquet file: {exc}") from exc
        self.names = list(self.file.schema_arrow.names)
        self.dialect = Dialect()

    def raw_batches(self) -> Iterator[Any]:
        yield from self.file.iter_batches(batch_size=BATCH_ROWS)


def _to_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # inf and nan too: the typing refuses them, naming row and field
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return orjson.dumps(value, default=str).decode()


def _text_batch(names: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> Any:
    columns = {name: [_to_text(row.get(name)) for row in rows] for name in names}
    return pa.RecordBatch.from_arrays(
        [pa.array(columns[n], pa.string()) for n in names], names=list(names)
    )


class _DepthLimited:
    """A file reader that refuses JSON nested deeper than :data:`~jsonguard.MAX_DEPTH` before
    the parser reads that far (see :mod:`datahub.catalog.jsonguard`)."""

    def __init__(self, fh: IO[bytes], row: Callable[[], int | None] = lambda: None) -> None:
        self._fh = fh
        self._row = row
        self._guard = NestingGuard()

    def read(self, size: int = -1) -> bytes:
        chunk = self._fh.read(size)
        try:
            self._guard.feed(chunk)
        except TooDeep as exc:
            raise _fail(f"Invalid JSON: {exc}", row=self._row()) from None
        return chunk


class _RowBudget(_DepthLimited):
    """A file reader that refuses a row before the JSON parser has built it all in memory.

    It counts the bytes and the ``[`` read since the last row was produced (``reset``); the
    parser reads in 64 KiB buffers, so the count is exact to a buffer.
    """

    def __init__(self, fh: IO[bytes], row: Callable[[], int]) -> None:
        super().__init__(fh, row)
        self.reset()

    def reset(self) -> None:
        self._bytes = 0
        self._arrays = 0

    def read(self, size: int = -1) -> bytes:
        chunk = super().read(size)
        self._bytes += len(chunk)
        self._arrays += chunk.count(b"[")
        if self._bytes > MAX_ROW_BYTES:
            raise _fail(f"A row is larger than {MAX_ROW_BYTES >> 20} MiB", row=self._row())
        if self._arrays > MAX_ROW_ARRAYS:
            raise _fail(
                f"A row holds more than {MAX_ROW_ARRAYS:,} arrays (geometry positions)",
                row=self._row(),
            )
        return chunk


class _JsonSource(_Source):
    """JSON array of objects, NDJSON, ``{"data": [...]}`` or a GeoJSON FeatureCollection."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.prefix, layout, multiple = self._layout()
        self.multiple = multiple
        self.format = "geojson" if layout == "geojson" else "json"
        self.dialect = Dialect(encoding="utf-8", layout=layout)
        self.names = self._scan_keys()

    def _open(self) -> IO[bytes]:
        fh = self.path.open("rb")
        if fh.read(3) != codecs.BOM_UTF8:
            fh.seek(0)
        return fh

    def _layout(self) -> tuple[str, str, bool]:
        with self._open() as fh:
            head = fh.read(1 << 20)
        stripped = head.lstrip()
        if stripped.startswith(b"["):
            return "item", "array", False
        if not stripped.startswith(b"{"):
            raise _fail("Not a JSON array of objects, NDJSON or GeoJSON FeatureCollection")
        first_line = stripped.partition(b"\n")[0]
        with contextlib.suppress(ValueError):
            first = orjson.loads(first_line)
            is_container = isinstance(first, dict) and (
                first.get("type") == "FeatureCollection" or isinstance(first.get("data"), list)
            )
            if isinstance(first, dict) and not is_container:
                return "", "ndjson", True
        keys: set[str] = set()
        try:
            with self._open() as fh:
                for prefix, event, value in ijson.parse(_DepthLimited(fh)):
                    if prefix == "" and event == "map_key":
                        keys.add(value)
                        if value == "features":  # decisive: no need to scan the rest
                            break
        except ijson.JSONError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "parse error"
            raise _fail(f"Invalid JSON: {reason}") from exc
        if "features" in keys:
            return "features.item", "geojson", False
        if "data" in keys:
            return "data.item", "envelope", False
        raise _fail('A JSON object must be a FeatureCollection or hold its rows in "data"')

    def _objects(self) -> Iterator[Mapping[str, Any]]:
        count = 0
        with self._open() as fh:
            budget = _RowBudget(fh, lambda: count + 1)
            try:
                items = ijson.items(
                    budget, self.prefix, use_float=True, multiple_values=self.multiple
                )
                for item in items:
                    budget.reset()
                    count += 1
                    if not isinstance(item, dict):
                        raise _fail("expected a JSON object", row=count)
                    if self.format == "geojson":
                        yield self._feature_row(item, count)
                    else:
                        yield item
            except ijson.JSONError as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "parse error"
                raise _fail(f"Invalid JSON after row {count}: {reason}", row=count + 1) from exc

    @staticmethod
    def _feature_row(feature: Mapping[str, Any], number: int) -> Mapping[str, Any]:
        geometry = feature.get("geometry")
        if geometry is not None and not _is_geometry(geometry):
            raise _fail("not a GeoJSON geometry (RFC 7946 §3.1)", row=number, field_name="geometry")
        row = dict(feature.get("properties") or {})
        if "id" in feature and "id" not in row:
            row["id"] = feature["id"]
        row.setdefault("geometry", feature.get("geometry"))
        return row

    def _scan_keys(self) -> list[str]:
        seen: dict[str, None] = {}
        for row in self._objects():
            for key in row:
                if key not in seen:
                    seen[str(key)] = None
            if len(seen) > MAX_COLUMNS:
                raise _fail(f"The rows hold more than {MAX_COLUMNS:,} distinct keys (columns)")
        names = [k for k in seen if k != "geometry"]
        return [*names, "geometry"] if "geometry" in seen else names

    def raw_batches(self) -> Iterator[Any]:
        chunk: list[Mapping[str, Any]] = []
        for row in self._objects():
            chunk.append(row)
            if len(chunk) >= BATCH_ROWS:
                yield _text_batch(self.names, chunk)
                chunk = []
        if chunk or not self.names:
            yield _text_batch(self.names, chunk)


_GEOMETRY_TYPES: Final = frozenset(
    ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
)


def _is_geometry(value: Any) -> bool:
    """A GeoJSON geometry object of a known type (coordinates are left to their readers)."""
    if not isinstance(value, dict):
        return False
    if value.get("type") == "GeometryCollection":
        members = value.get("geometries")
        return isinstance(members, list) and all(_is_geometry(m) for m in members)
    return value.get("type") in _GEOMETRY_TYPES and isinstance(value.get("coordinates"), list)


class _XlsxSource(_Source):
    """First sheet of a workbook; openpyxl parses the XML through defusedxml."""

    format: Format = "xlsx"

    def __init__(self, path: Path) -> None:
        super().__init__()
        import openpyxl

        if not openpyxl.DEFUSEDXML:  # pragma: no cover - defusedxml is a dependency
            raise UnsupportedMediaType(detail="XLSX uploads need the defusedxml package")
        self.path = path
        self._check_zip()
        rows = self._rows()
        first = next(rows, None)
        rows.close()
        if first is None:
            raise _fail("The workbook's first sheet is empty: a header row is expected")
        self.header_row, header = first
        width = max((i + 1 for i, v in enumerate(header) if v not in (None, "")), default=0)
        self.names = [_to_text(v) or "" for v in header[:width]]
        self.names = [n.strip() for n in self.names]
        self.dialect = Dialect(layout=self.sheet_name)

    def _check_zip(self) -> None:
        try:
            with zipfile.ZipFile(self.path) as zf:
                infos = zf.infolist()
        except zipfile.BadZipFile as exc:
            raise _fail(f"Not a readable XLSX file: {exc}") from exc
        expanded = sum(i.file_size for i in infos)
        packed = max(sum(i.compress_size for i in infos), 1)
        # Each large member on its own too: a stored, incompressible member beside a bomb
        # would otherwise bring the archive's overall ratio under the limit.
        bomb = any(
            i.file_size > _XLSX_MEMBER_FLOOR
            and i.file_size / max(i.compress_size, 1) > MAX_XLSX_RATIO
            for i in infos
        )
        if expanded > MAX_XLSX_UNCOMPRESSED or expanded / packed > MAX_XLSX_RATIO or bomb:
            raise _fail("The XLSX file inflates too much to be read safely")
        self._check_shared_strings(infos)

    def _check_shared_strings(self, infos: Sequence[zipfile.ZipInfo]) -> None:
        size = self.path.stat().st_size
        limit = min(MAX_XLSX_SHARED_STRINGS, XLSX_SHARED_STRINGS_PER_BYTE * size)
        for info in infos:
            if not info.filename.lower().endswith("sharedstrings.xml"):
                continue
            with zipfile.ZipFile(self.path) as zf, zf.open(info) as member:
                head = member.read(4096)
            declared = _UNIQUE_COUNT.search(head)
            if info.file_size > limit or (declared and int(declared[1]) > self.max_cells):
                raise _fail(
                    f"The XLSX shared-strings table is too large ({info.file_size:,} bytes of "
                    f"XML, at most {limit:,} for a file of this size): save the sheet as CSV"
                )

    @property
    def max_cells(self) -> int:
        return _XLSX_CELL_FLOOR + XLSX_CELLS_PER_BYTE * self.path.stat().st_size

    def _rows(self) -> Generator[tuple[int, tuple[Any, ...]], None, None]:
        """(sheet row number, values) of the non-empty rows."""
        import openpyxl

        # A file object, not a path: openpyxl judges paths by their extension, and uploads are
        # stored without one.
        handle = self.path.open("rb")
        try:
            workbook = openpyxl.load_workbook(
                handle, read_only=True, data_only=True, keep_links=False
            )
        except Exception as exc:  # openpyxl raises many kinds on corrupt files
            handle.close()
            raise _fail(f"Not a readable XLSX file: {exc}") from exc
        try:
            sheet = workbook.worksheets[0]
            self.sheet_name = str(sheet.title)
            cells, limit = 0, self.max_cells
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells += len(values)
                if cells > limit:
                    raise _fail(
                        f"The sheet holds more than {limit:,} cells (blank ones included) for a "
                        "file of this size: remove the stray cells far to the right or below"
                    )
                if any(v not in (None, "") for v in values):
                    yield number, tuple(values)
        finally:
            workbook.close()
            handle.close()

    def raw_batches(self) -> Iterator[Any]:
        self.rows = _RowNumbers()
        width = len(self.names)
        expected = self.header_row + 1
        chunk: list[Mapping[str, Any]] = []
        for number, values in self._rows():
            if number <= self.header_row:
                continue
            self.rows.skipped.extend(range(expected - self.header_row, number - self.header_row))
            expected = number + 1
            if any(v not in (None, "") for v in values[width:]):
                self.errors.append(
                    FieldError(number - self.header_row, None, "value in a column without header")
                )
            chunk.append({self.names[i]: v for i, v in enumerate(values[:width])})
            if len(chunk) >= BATCH_ROWS:
                yield _text_batch(self.names, chunk)
                chunk = []
        yield _text_batch(self.names, chunk)


_SOURCES: Final[dict[str, Callable[[Path], _Source]]] = {
    "csv": _CsvSource,
    "parquet": _ParquetSource,
    "json": _JsonSource,
    "geojson": _JsonSource,
    "xlsx": _XlsxSource,
}


def _guarded(source: _Source) -> Iterator[Any]:
    """The source's raw batches, with parser failures turned into ValidationFailed."""
    try:
        yield from source.raw_batches()
    except ValidationFailed:
        raise
    except UnicodeDecodeError as exc:
        raise _fail(f"Undecodable bytes in the file ({exc.encoding}): {exc.reason}") from exc
    except (pa.ArrowException, ValueError, OSError, zipfile.BadZipFile, KeyError) as exc:
        raise _fail(f"The file cannot be parsed as {source.format.upper()}: {exc}") from exc
    except orjson.JSONEncodeError as exc:  # a value nested deeper than orjson writes (255)
        raise _fail(f"The file cannot be parsed as {source.format.upper()}: {exc}") from exc


# --------------------------------------------------------------------------------------------
# Column names and the table


def _arrow_to_table_type(t: Any) -> str:
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "datetime"
    return "string"


def _output_names(names: Sequence[str], specs: Mapping[str, FieldSpec]) -> list[str]:
    """Clean header names: blanks become ``column_<n>``; declared names match case-insensitively."""
    if len(names) > MAX_COLUMNS:
        raise _fail(f"The file has {len(names):,} columns: at most {MAX_COLUMNS:,} are accepted")
    by_folded = {name.casefold(): name for name in specs}
    out: list[str] = []
    for position, raw in enumerate(names, start=1):
        name = raw.strip() or f"column_{position}"
        out.append(by_folded.get(name.casefold(), name))
    seen: dict[str, int] = {}
    errors = []
    for position, name in enumerate(out, start=1):
        if name in seen:
            errors.append(
                FieldError(None, name, f"duplicate column (positions {seen[name]} and {position})")
            )
        seen.setdefault(name, position)
    if errors:
        raise _failure(errors)
    return out


class ParsedTable:
    """A readable, typed view of an uploaded file. :meth:`batches` can be iterated repeatedly."""

    def __init__(
        self,
        source: _Source,
        *,
        table_schema: Mapping[str, Any] | None,
        kind: str | None,
    ) -> None:
        self._source = source
        self.kind = kind
        self.format: Format = source.format
        self.dialect: Dialect = source.dialect
        self.rows: int | None = None
        specs = {s.name: s for s in specs_from_schema(table_schema)} if table_schema else {}
        self.names = _output_names(source.names, specs)
        self._one_of: list[list[str]] = list((table_schema or {}).get(kinds.ROW_ONE_OF, []))
        self._check_header(specs)
        self._declared = {n: specs[n] for n in self.names if n in specs}
        if table_schema is None:
            self._inferred = self._infer()
        else:
            self._inferred = {}
        self.columns = [self._column_info(n) for n in self.names]
        self.arrow_schema = self._arrow_schema()

    # -- set-up

    def _check_header(self, specs: Mapping[str, FieldSpec]) -> None:
        present = set(self.names)
        errors = [
            FieldError(None, s.name, hints.missing_column(s.name, self.names, specs))
            for s in specs.values()
            if s.required and s.name not in present
        ]
        if self._one_of and not any(set(group) <= present for group in self._one_of):
            shown = " or ".join(" and ".join(group) for group in self._one_of)
            errors.append(FieldError(None, self._one_of[0][0], f"columns {shown} are required"))
        if errors:
            raise _failure(errors)

    def _infer(self) -> dict[str, str]:
        if self.format == "parquet":
            return {}
        inference = TypeInference(self._source.decimal)
        structural: list[FieldError] = []
        for raw in _guarded(self._source):
            for name, column in zip(self.names, raw.columns, strict=True):
                inference.update(name, column)
            structural.extend(self._source.take_errors())
            if len(structural) >= MAX_ERRORS:
                raise _failure(structural[:MAX_ERRORS], truncated=True)
        if structural:
            raise _failure(structural)
        return inference.result(self.names)

    def _column_info(self, name: str) -> ColumnInfo:
        if name in self._declared:
            return ColumnInfo(name, self._declared[name].type, declared=True)
        if name in self._inferred:
            return ColumnInfo(name, self._inferred[name])
        if self.format == "parquet":
            arrow_type = self._source_type(name)
            return ColumnInfo(name, _arrow_to_table_type(arrow_type))
        return ColumnInfo(name, "string")

    def _source_type(self, name: str) -> Any:
        assert isinstance(self._source, _ParquetSource)
        return self._source.file.schema_arrow.field(self.names.index(name)).type

    @property
    def table_schema(self) -> dict[str, Any]:
        """The effective Table Schema: declared fields as given, others as read or inferred."""
        return {"fields": [{"name": c.name, "type": c.type} for c in self.columns]}

    # -- reading

    def batches(self) -> Iterator[Any]:
        """Typed batches; raises ValidationFailed after reading if any row was invalid."""
        errors: list[FieldError] = []
        unique_seen: dict[str, set[Any]] = {n: set() for n, s in self._declared.items() if s.unique}
        emitted = 0
        for raw in _guarded(self._source):
            batch, batch_errors = self._convert(raw, emitted, unique_seen)
            errors.extend(batch_errors)
            errors.extend(self._source.take_errors())
            if len(errors) >= MAX_ERRORS:
                raise _failure(sorted(errors, key=lambda e: e.row or 0)[:MAX_ERRORS], True)
            emitted += raw.num_rows
            if not errors:
                yield batch
        errors.extend(self._source.take_errors())
        if errors:
            raise _failure(errors[:MAX_ERRORS], truncated=len(errors) > MAX_ERRORS)
        self.rows = emitted

    def read_all(self) -> Any:
        """The whole table in memory (small files and tests)."""
        return pa.Table.from_batches(list(self.batches()), schema=self.arrow_schema)

    def validate(self) -> int:
        """Read the whole file; return the number of rows or raise ValidationFailed."""
        for _ in self.batches():
            pass
        assert self.rows is not None
        return self.rows

    def _arrow_schema(self) -> Any:
        fields = []
        for column in self.columns:
            if column.declared or column.name in self._inferred or self.format != "parquet":
                fields.append(pa.field(column.name, ARROW_TYPES[column.type]))
            else:
                fields.append(
                    pa.field(column.name, self._kept_type(self._source_type(column.name)))
                )
        return pa.schema(fields)

    @staticmethod
    def _kept_type(t: Any) -> Any:
        if pa.types.is_dictionary(t):
            return ParsedTable._kept_type(t.value_type)
        if pa.types.is_nested(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
            return pa.string()
        if pa.types.is_large_string(t):
            return pa.string()
        if pa.types.is_decimal(t):
            return pa.float64()
        if pa.types.is_unsigned_integer(t):
            return pa.int64()
        return t

    def _convert(
        self, raw: Any, emitted: int, unique_seen: dict[str, set[Any]]
    ) -> tuple[Any, list[FieldError]]:
        arrays: list[Any] = []
        found: list[tuple[int, str, str]] = []  # (index in batch, field, message)
        budget = MAX_ERRORS
        present: dict[str, Any] = {}
        for name, column in zip(self.names, raw.columns, strict=True):
            spec = self._declared.get(name)
            if spec is None and name in self._inferred:
                spec = FieldSpec(name, self._inferred[name], declared=False)
            if spec is not None:
                typed, checks = convert_column(column, spec, self._source.decimal)
            else:
                typed, checks = keep_column(column)
            if pa.types.is_large_string(typed.type):
                typed = pc.cast(typed, pa.string())
            for check in checks:
                for index in pc.indices_nonzero(check.mask)[:budget].to_pylist():
                    value = column[index].as_py()
                    message = check.message.format(value=_show(value))
                    hint = hints.cell(spec, value) if spec is not None else ""
                    found.append((index, name, message + hint))
            if pa.types.is_string(typed.type):
                nul = pc.fill_null(pc.match_substring(typed, "\x00"), False)
                for index in pc.indices_nonzero(nul)[:budget].to_pylist():
                    found.append((index, name, "NUL character in the value"))
            present[name] = pc.is_valid(typed)
            arrays.append(typed)
        found.extend(self._row_rules(present))
        found.extend(self._unique(arrays, unique_seen))
        errors = [
            FieldError(self._source.rows.data_row(emitted + index), name, message)
            for index, name, message in sorted(found)[:MAX_ERRORS]
        ]
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.arrow_schema)
        return batch, errors

    def _row_rules(self, present: Mapping[str, Any]) -> list[tuple[int, str, str]]:
        if not self._one_of or not present:
            return []
        size = len(next(iter(present.values())))
        satisfied = pa.array([False] * size, pa.bool_())
        for group in self._one_of:
            if all(n in present for n in group):
                complete = present[group[0]]
                for n in group[1:]:
                    complete = pc.and_(complete, present[n])
                satisfied = pc.or_(satisfied, complete)
        shown = " or ".join(" and ".join(group) for group in self._one_of)
        bad = pc.indices_nonzero(pc.invert(satisfied))[:MAX_ERRORS].to_pylist()
        return [(i, self._one_of[0][0], f"a value is required in {shown}") for i in bad]

    def _unique(
        self, arrays: Sequence[Any], unique_seen: dict[str, set[Any]]
    ) -> list[tuple[int, str, str]]:
        found = []
        for name, seen in unique_seen.items():
            values = arrays[self.names.index(name)].to_pylist()
            for index, value in enumerate(values):
                if value is None:
                    continue
                if value in seen:
                    found.append((index, name, f"duplicate value {_show(value)}"))
                    if len(found) >= MAX_ERRORS:
                        return found
                seen.add(value)
        return found


def open_table(
    path: Path,
    *,
    filename: str | None = None,
    media_type: str | None = None,
    kind: str | None = None,
    table_schema: Mapping[str, Any] | None = None,
) -> ParsedTable:
    """Open an uploaded file for typed reading.

    ``table_schema`` overrides the schema of ``kind`` (use it for a generic dataset that has its
    own Table Schema). Errors in the header (missing required columns, duplicates), in the
    encoding or, without a schema, anywhere in the structure of the file raise
    :class:`ValidationFailed` here; row errors are raised by :meth:`ParsedTable.batches`.
    """
    fmt = detect_format(path, filename=filename, media_type=media_type)
    source = _SOURCES[fmt](path)
    schema = table_schema if table_schema is not None else kinds.table_schema(kind)
    return ParsedTable(source, table_schema=schema, kind=kind)


@dataclass(frozen=True)
class FirstRows:
    """The first rows of a file as text, numbered as validation errors number them."""

    columns: list[str]
    rows: list[tuple[int, list[str | None]]]


def first_rows(
    path: Path, *, filename: str | None = None, media_type: str | None = None, limit: int = 10
) -> FirstRows | None:
    """The file's first ``limit`` data rows, read as text with no schema (shown beside a
    refused upload's report); None when the file cannot be read as a table at all."""
    try:
        source = _SOURCES[detect_format(path, filename=filename, media_type=media_type)](path)
        batch = next(_guarded(source), None)
    except (DatahubError, ValueError, OSError, zipfile.BadZipFile, pa.ArrowException):
        return None
    if batch is None:
        return FirstRows(list(source.names), [])
    taken = batch.slice(0, limit)
    columns = [[_to_text(v) for v in column.to_pylist()] for column in taken.columns]
    rows = [
        (source.rows.data_row(i), [column[i] for column in columns]) for i in range(taken.num_rows)
    ]
    return FirstRows(list(source.names), rows)
