"""Rows as an XLSX workbook written in bounded memory (openpyxl's write-only mode).

Write-only worksheets spill their rows to a temporary file as they come, so a million rows cost
the same memory as ten. Text stays text: a cell ``01400`` (an INSEE code) is a string cell, so a
spreadsheet keeps its leading zero, and a text cell starting with ``=`` is stored as a string, never
as a formula. Numbers, booleans and dates keep their types.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

MEDIA_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK: Final = 1 << 16
# XML 1.0 forbids these control characters; openpyxl refuses them.
_ILLEGAL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _cell(sheet: Any, value: Any) -> Any:
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=None)
        cell.value = _ILLEGAL.sub("", value)
        cell.data_type = "s"  # a string, even "=1+1" or "01400"
        return cell
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return WriteOnlyCell(sheet, value=value)


def write_xlsx(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[str], path: Path, title: str = "data"
) -> None:
    """Write ``rows`` (one sheet, a bold header row of ``columns``) to ``path``."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31] or "data")
    bold = Font(bold=True)
    header = []
    for name in columns:
        cell = _cell(sheet, name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([_cell(sheet, row.get(name)) for name in columns])
    book.save(path)


def iter_xlsx(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[str], title: str = "data"
) -> Iterator[bytes]:
    """The workbook's bytes, built in a temporary file that is removed once streamed."""
    with tempfile.TemporaryDirectory(prefix="datahub-xlsx-") as folder:
        path = Path(folder) / "rows.xlsx"
        write_xlsx(rows, columns, path, title)
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk
