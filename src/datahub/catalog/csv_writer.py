"""Stream rows as CSV bytes, default or French dialect, safe to open in a spreadsheet.

- ``default``: ``,`` separator, ``.`` decimal mark, UTF-8 without BOM.
- ``fr``: ``;`` separator, decimal comma, UTF-8 **with** BOM (so Excel picks the encoding).

Text cells that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``,
tab or carriage return) are prefixed with ``'`` (OWASP "CSV injection"). Numeric columns are
written as numbers and never prefixed, so ``-12.5`` stays a negative number; a text cell that is
just a number (``-12``) is left alone too, since it cannot run anything. Lines end with CRLF and
cells are quoted only when they hold the separator, a quote or a line break (RFC 4180).

The work per batch is vectorised (pyarrow.compute): one bytes chunk per batch.
"""

from __future__ import annotations

import codecs
import datetime as dt
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import pyarrow as pa
import pyarrow.compute as pc

DialectName = Literal["default", "fr"]


@dataclass(frozen=True)
class CsvStyle:
    delimiter: str
    decimal: str
    bom: bool
    line_end: str = "\r\n"


DIALECTS: Final[dict[str, CsvStyle]] = {
    "default": CsvStyle(delimiter=",", decimal=".", bom=False),
    "fr": CsvStyle(delimiter=";", decimal=",", bom=True),
}
MEDIA_TYPE: Final = "text/csv; charset=utf-8; header=present"

_FORMULA_CHARS: Final = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START: Final = r"^[=+\-@\t\r]"
_PLAIN_NUMBER: Final = r"^[+-]?\d+(?:[.,]\d+)?$"
_FORMULA_RE: Final = re.compile(_FORMULA_START)
_PLAIN_NUMBER_RE: Final = re.compile(_PLAIN_NUMBER)


def style(dialect: str) -> CsvStyle:
    try:
        return DIALECTS[dialect]
    except KeyError:
        raise ValueError(f"unknown CSV dialect {dialect!r}") from None


def neutralise(text: str) -> str:
    """Prefix ``'`` to a text cell a spreadsheet would evaluate as a formula."""
    if _FORMULA_RE.match(text) and not _PLAIN_NUMBER_RE.match(text):
        return "'" + text
    return text


def _any_of(text: Any, needles: Iterable[str], test: Any) -> Any:
    """Literal searches (much faster than a regex over millions of cells)."""
    found = None
    for needle in needles:
        hit = pc.fill_null(test(text, needle), False)
        found = hit if found is None else pc.or_(found, hit)
    return found


def _neutralise_array(text: Any) -> Any:
    risky = _any_of(text, _FORMULA_CHARS, pc.starts_with)
    if not pc.any(risky).as_py():
        return text
    plain = pc.fill_null(pc.match_substring_regex(text, _PLAIN_NUMBER), False)
    risky = pc.and_(risky, pc.invert(plain))
    return pc.if_else(risky, pc.binary_join_element_wise("'", text, ""), text)


def _quote_array(text: Any, delimiter: str) -> Any:
    pattern = "[" + re.escape(delimiter) + '"\r\n]'
    needs = pc.fill_null(pc.match_substring_regex(text, pattern), False)
    if not pc.any(needs).as_py():
        return text
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, text)


def _format_column(column: Any, csv_style: CsvStyle) -> Any:
    """One column as CSV-ready text (nulls as empty cells)."""
    t = column.type
    if pa.types.is_dictionary(t):
        column, t = pc.cast(column, t.value_type), t.value_type
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        floats = pc.cast(column, pa.float64())
        finite = pc.fill_null(pc.is_finite(floats), False)
        text = pc.cast(pc.if_else(finite, floats, pa.scalar(None, pa.float64())), pa.string())
        if csv_style.decimal != ".":
            text = pc.replace_substring(text, ".", csv_style.decimal)
    elif pa.types.is_integer(t):
        text = pc.cast(column, pa.string())
    elif pa.types.is_boolean(t):
        text = pc.if_else(column, "true", "false")
    elif pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_time(t):
        text = pc.cast(column, pa.string())
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        text = _neutralise_array(pc.cast(column, pa.string()))
    else:
        values = [None if v is None else _format_value(v, csv_style) for v in column.to_pylist()]
        return _quote_array(pc.fill_null(pa.array(values, pa.string()), ""), csv_style.delimiter)
    return _quote_array(pc.fill_null(text, ""), csv_style.delimiter)


def _format_value(value: Any, csv_style: CsvStyle) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return repr(value).replace(".", csv_style.decimal)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        import orjson

        return neutralise(orjson.dumps(value, default=str).decode())
    return neutralise(str(value))


def _join_lines(columns: Sequence[Any], csv_style: CsvStyle) -> bytes:
    if not columns or len(columns[0]) == 0:
        return b""
    lines = pc.binary_join_element_wise(*columns, csv_style.delimiter)
    lines = pc.binary_join_element_wise(lines, csv_style.line_end, "")
    # The values of a null-free string array lie end to end in its data buffer.
    _, offsets_buffer, data = lines.buffers()
    offsets = pa.Array.from_buffers(
        pa.int32(), len(lines) + 1, [None, offsets_buffer], 0, lines.offset
    )
    start, end = offsets[0].as_py(), offsets[len(lines)].as_py()
    return bytes(data[start:end].to_pybytes()) if data is not None else b""


def _header(names: Sequence[str], csv_style: CsvStyle) -> bytes:
    cells = [_format_value(name, csv_style) for name in names]
    text = pa.array(cells, pa.string())
    quoted = _quote_array(text, csv_style.delimiter).to_pylist()
    return (csv_style.delimiter.join(quoted) + csv_style.line_end).encode("utf-8")


def iter_csv(
    batches: Iterable[Any],
    *,
    dialect: str = "default",
    columns: Sequence[str] | None = None,
) -> Iterator[bytes]:
    """CSV bytes for an iterable of pyarrow RecordBatches or Tables.

    ``columns`` selects and orders columns, and gives the header when there are no batches.
    """
    csv_style = style(dialect)
    if csv_style.bom:
        yield codecs.BOM_UTF8
    header_done = False
    if columns is not None:
        yield _header(columns, csv_style)
        header_done = True
    for batch in batches:
        names = list(columns) if columns is not None else list(batch.schema.names)
        if not header_done:
            yield _header(names, csv_style)
            header_done = True
        formatted = [_format_column(_as_array(batch.column(name)), csv_style) for name in names]
        chunk = _join_lines(formatted, csv_style)
        if chunk:
            yield chunk


def _as_array(column: Any) -> Any:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks()
    return column


def iter_csv_rows(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    dialect: str = "default",
    chunk_rows: int = 10_000,
) -> Iterator[bytes]:
    """CSV bytes for dict rows (missing keys are empty cells); numbers are never prefixed."""
    csv_style = style(dialect)
    if csv_style.bom:
        yield codecs.BOM_UTF8
    yield _header(columns, csv_style)
    chunk: list[list[str]] = []

    def flush() -> bytes:
        arrays = [
            _quote_array(pa.array([row[i] for row in chunk], pa.string()), csv_style.delimiter)
            for i in range(len(columns))
        ]
        return _join_lines(arrays, csv_style)

    for row in rows:
        chunk.append([_format_value(row.get(name), csv_style) for name in columns])
        if len(chunk) >= chunk_rows:
            yield flush()
            chunk = []
    if chunk:
        yield flush()
