"""Detect an uploaded file's format, a CSV file's encoding and its dialect.

Formats are taken from the declared media type, then the file name, then the content; a binary
signature (Parquet, ZIP) always wins over a text type, since browsers and scripts often send
``application/octet-stream`` or ``application/vnd.ms-excel`` for any CSV.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from charset_normalizer import from_bytes

from datahub.errors import FieldError, UnsupportedMediaType, ValidationFailed

Format = Literal["csv", "json", "geojson", "parquet", "xlsx"]
FORMATS: Final[tuple[Format, ...]] = ("csv", "json", "geojson", "parquet", "xlsx")

_MEDIA_TYPES: Final[dict[str, Format]] = {
    "text/csv": "csv",
    "application/csv": "csv",
    "text/tab-separated-values": "csv",
    "text/plain": "csv",
    "application/json": "json",
    "text/json": "json",
    "application/x-ndjson": "json",
    "application/ndjson": "json",
    "application/jsonl": "json",
    "application/json-seq": "json",
    "application/geo+json": "geojson",
    "application/vnd.geo+json": "geojson",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
    "application/parquet": "parquet",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}
_EXTENSIONS: Final[dict[str, Format]] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".txt": "csv",
    ".json": "json",
    ".ndjson": "json",
    ".jsonl": "json",
    ".geojson": "geojson",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}
_UNSUPPORTED_EXTENSIONS: Final = {".xls", ".ods", ".xlsb", ".shp", ".zip", ".gpkg"}

_ODS: Final = b"application/vnd.oasis.opendocument.spreadsheet"
ODS_REFUSED: Final = "OpenDocument spreadsheets (ODS) are not accepted: save as XLSX or CSV"

SAMPLE_BYTES: Final = 1 << 20
_SCAN_CHUNK: Final = 1 << 20
CANDIDATE_DELIMITERS: Final = ";,\t|"
_WESTERN_ENCODINGS: Final = ["cp1252", "iso8859_15", "mac_roman", "cp850"]


def _head(path: Path, size: int = 8192) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


def _sniff_content(head: bytes, path: Path) -> Format:
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                if "xl/workbook.xml" in zf.namelist():
                    return "xlsx"
                if "mimetype" in zf.namelist() and zf.read("mimetype").startswith(_ODS):
                    raise UnsupportedMediaType(detail=ODS_REFUSED)
        except zipfile.BadZipFile:
            pass
        raise UnsupportedMediaType(detail="ZIP archives other than XLSX workbooks are not accepted")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnsupportedMediaType(detail="Legacy .xls workbooks are not accepted: save as XLSX")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        return "geojson" if re.search(rb'"FeatureCollection"', head) else "json"
    return "csv"


def detect_format(
    path: Path, *, filename: str | None = None, media_type: str | None = None
) -> Format:
    """The format of an uploaded file (see the module docstring for the order of evidence)."""
    head = _head(path)
    binary: Format | None = None
    if head.startswith((b"PAR1", b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        binary = _sniff_content(head, path)
    declared: Format | None = None
    if media_type:
        declared = _MEDIA_TYPES.get(media_type.split(";", 1)[0].strip().lower())
    if declared is None and filename:
        suffix = Path(filename).suffix.lower()
        if suffix == ".ods":
            raise UnsupportedMediaType(detail=ODS_REFUSED)
        if suffix in _UNSUPPORTED_EXTENSIONS:
            raise UnsupportedMediaType(detail=f"Files of type {suffix} are not accepted")
        declared = _EXTENSIONS.get(suffix)
    if binary is not None:
        return binary
    if declared in ("parquet", "xlsx"):
        raise UnsupportedMediaType(detail=f"The file is declared {declared} but is not one")
    if declared == "json" and _sniff_content(head, path) == "geojson":
        return "geojson"
    return declared or _sniff_content(head, path)


@dataclass(frozen=True)
class TextEncoding:
    """The codec for pyarrow/Python, and whether a byte-order mark starts the file."""

    name: str
    bom: bool


def _line_of(path: Path, offset: int) -> int:
    """1-based line number of a byte offset."""
    lines = 1
    with path.open("rb") as fh:
        remaining = offset
        while remaining > 0:
            chunk = fh.read(min(_SCAN_CHUNK, remaining))
            if not chunk:
                break
            lines += chunk.count(b"\n")
            remaining -= len(chunk)
    return lines


def _decodes(path: Path, encoding: str, start: int = 0) -> int | None:
    """Byte offset of the first undecodable byte, or None when the whole file decodes."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = start
    with path.open("rb") as fh:
        fh.seek(start)
        while chunk := fh.read(_SCAN_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return offset + exc.start
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return offset
    return None


def _find_nul(path: Path) -> int | None:
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_SCAN_CHUNK):
            found = chunk.find(b"\x00")
            if found >= 0:
                return offset + found
            offset += len(chunk)
    return None


def _row_error(path: Path, offset: int, message: str) -> ValidationFailed:
    # Line 1 is the header, so line n holds data row n-1 (when no cell spans several lines).
    row = max(_line_of(path, offset) - 1, 0) or None
    return ValidationFailed(
        detail=message, errors=[FieldError(row=row, field=None, message=message)]
    )


def detect_encoding(path: Path) -> TextEncoding:
    """UTF-8 (with or without BOM) or UTF-16 by BOM; else a Western single-byte code page.

    The whole file is checked (a cheap streaming decode), so a Latin-1 accent after the first
    megabyte is not misread. A file that holds valid multi-byte UTF-8 *and* invalid bytes is
    refused rather than decoded as Windows-1252 mojibake.
    """
    head = _head(path, 4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if _decodes(path, "utf-16") is not None:
            raise ValidationFailed(detail="The file starts with a UTF-16 mark but is not UTF-16")
        return TextEncoding("utf-16", bom=True)
    nul = _find_nul(path)
    if nul is not None:
        raise _row_error(path, nul, "NUL byte in the file: not a text CSV file")
    bom = head.startswith(codecs.BOM_UTF8)
    bad = _decodes(path, "utf-8", start=3 if bom else 0)
    if bad is None:
        return TextEncoding("utf-8", bom=bom)
    with path.open("rb") as fh:
        before = fh.read(min(bad, 64 << 20))
    if bom or re.search(rb"[\xc2-\xf4][\x80-\xbf]", before):
        raise _row_error(
            path, bad, f"Invalid UTF-8 byte at offset {bad}: re-save the file as UTF-8"
        )
    sample = _head(path, SAMPLE_BYTES)
    matches = from_bytes(sample, cp_isolation=_WESTERN_ENCODINGS)
    best = matches.best()
    choice = "cp1252"
    if best is not None and best.encoding != "cp1252":
        cp1252 = next((m for m in matches if m.encoding == "cp1252"), None)
        # French data from Windows is cp1252 unless another code page reads clearly better.
        if cp1252 is None or cp1252.chaos > best.chaos + 0.1:
            choice = best.encoding
    for encoding in (choice, "cp1252", "latin_1"):
        if _decodes(path, encoding) is None:
            return TextEncoding(encoding, bom=False)
    raise ValidationFailed(
        detail="Cannot determine the text encoding of the file"
    )  # pragma: no cover


def check_quotes(path: Path, encoding: TextEncoding, quote: str = '"') -> None:
    """Refuse a file with an odd number of quote characters: some quoted cell never ends.

    pyarrow reads an unterminated quote at the end of the file as a cell running to the end;
    an odd count is a cheap, certain sign of it (escaped quotes come in pairs).
    """
    if encoding.name not in ("utf-8", "cp1252", "iso8859_15", "latin_1", "mac_roman", "cp850"):
        return
    mark = quote.encode("ascii")
    count = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_SCAN_CHUNK):
            count += chunk.count(mark)
    if count % 2 == 0:
        return
    opening, offset, parity = 0, 0, 0
    with path.open("rb") as fh:
        while chunk := fh.read(_SCAN_CHUNK):
            position = chunk.find(mark)
            while position >= 0:
                parity ^= 1
                if parity:
                    opening = offset + position
                position = chunk.find(mark, position + 1)
            offset += len(chunk)
    raise _row_error(path, opening, "Unterminated quote: a quoted cell is never closed")


@dataclass(frozen=True)
class CsvDialect:
    delimiter: str
    quote_char: str
    header: list[str]
    decimal: Literal["point", "comma", "auto"]


_COMMA_NUMBER: Final = re.compile(r"^-?\d+,\d+$")
_POINT_NUMBER: Final = re.compile(r"^-?\d+\.\d+$")


def sniff_csv(path: Path, encoding: TextEncoding) -> CsvDialect:
    """Delimiter (csv.Sniffer over the first lines), header, and the decimal mark."""
    with path.open("r", encoding=encoding.name, newline="") as fh:
        text = fh.read(SAMPLE_BYTES // 4)
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise ValidationFailed(
            detail="The file is empty",
            errors=[FieldError(None, None, "the file is empty: a header row is expected")],
        )
    cut = text.rfind("\n", 0, len(text) - 1)
    lines_sample = text if cut < 0 or len(text) < SAMPLE_BYTES // 4 else text[: cut + 1]
    first_lines = "".join(lines_sample.splitlines(keepends=True)[:200])
    # Always '"' (RFC 4180): apostrophes are common in French names and in neutralised cells.
    quote_char = '"'
    try:
        delimiter = csv.Sniffer().sniff(first_lines, delimiters=CANDIDATE_DELIMITERS).delimiter
    except csv.Error:
        header_line = first_lines.splitlines()[0] if first_lines else ""
        counts = {d: header_line.count(d) for d in CANDIDATE_DELIMITERS}
        delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    rows = list(
        csv.reader(first_lines.splitlines()[:200], delimiter=delimiter, quotechar=quote_char)
    )
    header = [h.strip() for h in rows[0]] if rows else []
    decimal: Literal["point", "comma", "auto"]
    if delimiter == ";":
        decimal = "comma"
    elif delimiter == ",":
        decimal = "auto"
    else:
        cells = [c.strip() for row in rows[1:] for c in row]
        commas = sum(1 for c in cells if _COMMA_NUMBER.match(c))
        points = sum(1 for c in cells if _POINT_NUMBER.match(c))
        decimal = "comma" if commas > points else "auto"
    return CsvDialect(delimiter=delimiter, quote_char=quote_char, header=header, decimal=decimal)
