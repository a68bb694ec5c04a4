"""Parsers with limits (issue 12): depth, size, cells and finite numbers, on every format.

Each hostile input is refused with a clean 4xx naming row and field where there is one, quickly
and in bounded memory, and changes nothing (``snapshot`` before and after).
"""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from datahub.runtime import Runtime
from tests.conftest import Persona
from tests.hardening.conftest import assert_clean_problem, snapshot

PARQUET = "application/vnd.apache.parquet"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MiB = 1 << 20


def _refused(
    client: TestClient,
    runtime: Runtime,
    who: Persona,
    dataset_id: str,
    body: bytes,
    content_type: str,
    status: int = 422,
) -> dict[str, object]:
    before = snapshot(client, runtime, dataset_id)
    response = client.post(
        f"/api/v1/datasets/{dataset_id}/versions",
        content=body,
        headers={**who.headers, "Content-Type": content_type},
    )
    assert_clean_problem(response, status)
    assert snapshot(client, runtime, dataset_id) == before
    return dict(response.json())


def _bounded(action: object, *, seconds: float, mib: int) -> None:
    """Run ``action`` and check it took less than ``seconds`` and ``mib`` MiB of Python memory."""
    assert callable(action)
    tracemalloc.start()
    started = time.monotonic()
    try:
        action()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.monotonic() - started < seconds
    assert peak < mib * MiB, f"peak {peak / MiB:.0f} MiB"


# --------------------------------------------------------------------------------------------
# JSON depth and size

#: 200 KB of nested brackets: before the guard, ijson's per-level prefixes took tens of GB and
#: the process was killed by the kernel.
DEEP_BODIES = {
    "array": (b"[" * 200_000, "application/json"),
    "row-value": (b'[{"a":' + b"[" * 200_000 + b"]" * 200_000 + b"}]", "application/json"),
    "ndjson": (b'{"a":1}\n{"b":' + b'{"c":' * 200_000, "application/x-ndjson"),
    "geojson": (
        b'{"type":"FeatureCollection","features":' + b'{"a":' * 200_000,
        "application/geo+json",
    ),
}


@pytest.mark.parametrize("name", DEEP_BODIES)
def test_200kb_of_nested_brackets_is_refused_quickly_in_bounded_memory(
    client: TestClient, runtime: Runtime, producer: Persona, dataset: str, name: str
) -> None:
    body, content_type = DEEP_BODIES[name]
    problems: list[dict[str, object]] = []
    _bounded(
        lambda: problems.append(_refused(client, runtime, producer, dataset, body, content_type)),
        seconds=10,
        mib=64,
    )
    assert "nested deeper than 64 levels" in str(problems[0]["detail"])


def test_geojson_at_the_depth_real_geometries_need_is_accepted(
    client: TestClient, producer: Persona, dataset: str
) -> None:
    ring = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
    geometry = {"type": "MultiPolygon", "coordinates": [[ring]]}
    body = (
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
        '{"site":"A","note":"[[[[{{{{ brackets in a string do not count"},"geometry":'
        + str(geometry).replace("'", '"')
        + "}]}"
    ).encode()
    response = client.post(
        f"/api/v1/datasets/{dataset}/versions",
        content=body,
        headers={**producer.headers, "Content-Type": "application/geo+json"},
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/datasets"),
        ("PATCH", "/api/v1/datasets/compteurs"),
        ("POST", "/api/v1/territories"),
        ("POST", "/api/v1/datasets/compteurs/grants"),
    ],
)
def test_deep_and_huge_json_request_bodies_are_refused_before_parsing(
    client: TestClient,
    runtime: Runtime,
    producer: Persona,
    admin: Persona,
    dataset: str,
    method: str,
    path: str,
) -> None:
    before = snapshot(client, runtime, dataset)
    who = admin if "territories" in path else producer
    deep = b'{"title": "x", "extra": ' + b"[" * 200_000
    response = client.request(
        method, path, content=deep, headers={**who.headers, "Content-Type": "application/json"}
    )
    assert_clean_problem(response, 400)
    assert "nested deeper than 64 levels" in response.json()["detail"]
    # No Content-Type at all: FastAPI would still parse the body as JSON.
    response = client.request(method, path, content=deep, headers=who.headers)
    assert_clean_problem(response, 400)
    # 9 MiB of a flat array: over the 8 MiB bound for a JSON request body.
    huge = b'{"title": "x", "tags": [' + b'"a",' * (9 * MiB // 4) + b'"a"]}'
    response = client.request(
        method, path, content=huge, headers={**who.headers, "Content-Type": "application/json"}
    )
    assert_clean_problem(response, 413)
    assert snapshot(client, runtime, dataset) == before
    assert client.get("/api/v1/datasets").json()["meta"]["total"] == 1


def test_too_many_columns_are_refused(
    client: TestClient, runtime: Runtime, producer: Persona, dataset: str
) -> None:
    """Rows each bringing new keys would make a table wider than the databases allow (a 500)."""
    rows = b"\n".join(b'{"k%d": 1}' % i for i in range(1_200))
    problem = _refused(client, runtime, producer, dataset, rows, "application/x-ndjson")
    assert "more than 1,000 distinct keys" in str(problem["detail"])
    header = ",".join(f"c{i}" for i in range(1_200)).encode()
    problem = _refused(
        client, runtime, producer, dataset, header + b"\n" + b"1," * 1_199 + b"1\n", "text/csv"
    )
    assert "1,200 columns" in str(problem["detail"])


# --------------------------------------------------------------------------------------------
# XLSX: shared strings and cells

_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_PKG = "http://schemas.openxmlformats.org/package/2006"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_OOXML = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def _xlsx(rows: bytes, *, shared_strings: bytes | None = None, dimension: bytes = b"") -> bytes:
    """A minimal workbook written by hand: one sheet, optionally a shared-strings table."""
    sst = shared_strings is not None
    types = (
        f'<Types xmlns="{_PKG}/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_OOXML}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_OOXML}.worksheet+xml"/>'
        + (
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_OOXML}.sharedStrings+xml"/>'
            if sst
            else ""
        )
        + "</Types>"
    )
    package_rels = (
        f'<Relationships xmlns="{_PKG}/relationships"><Relationship Id="rId1" '
        f'Type="{_DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    workbook = (
        f'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'xmlns:r="{_DOC}"><sheets><sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    workbook_rels = (
        f'<Relationships xmlns="{_PKG}/relationships">'
        f'<Relationship Id="rId1" Type="{_DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
        + (
            f'<Relationship Id="rId2" Type="{_DOC}/sharedStrings" Target="sharedStrings.xml"/>'
            if sst
            else ""
        )
        + "</Relationships>"
    )
    sheet = (
        b"<worksheet "
        + _NS
        + b">"
        + dimension
        + b"<sheetData>"
        + rows
        + b"</sheetData></worksheet>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", package_rels)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        if shared_strings is not None:
            archive.writestr("xl/sharedStrings.xml", shared_strings)
    return out.getvalue()


def test_xlsx_with_a_large_shared_strings_table_is_refused_before_loading_it(
    client: TestClient, runtime: Runtime, producer: Persona, dataset: str
) -> None:
    """400,000 strings (34 MiB of XML) behind a 1.2 MB file: openpyxl would build them all in
    memory before the first row. The zip-bomb check lets it through (ratio ~30 < 200); the
    shared-strings bound (16 times the file's size) does not."""
    count = 400_000
    strings = b"".join(
        b"<si><t>compteur de la commune de La Rochelle, releve %07d</t></si>" % i
        for i in range(count)
    )
    table = b"<sst " + _NS + b' count="%d" uniqueCount="%d">' % (count, count) + strings + b"</sst>"
    rows = (
        b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        b'<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>1.5</v></c></row>'
    )
    body = _xlsx(rows, shared_strings=table)
    ratio = len(table) / len(body)
    assert 16 < ratio < 200, ratio
    problems: list[dict[str, object]] = []
    _bounded(
        lambda: problems.append(_refused(client, runtime, producer, dataset, body, XLSX)),
        seconds=10,
        mib=64,
    )
    assert "shared-strings table is too large" in str(problems[0]["detail"])


def test_xlsx_padded_to_millions_of_blank_cells_is_refused(
    client: TestClient, runtime: Runtime, producer: Persona, dataset: str
) -> None:
    """One cell in column XFD (16,384) makes openpyxl pad each of 30,000 rows to that width:
    491 million cells from a 150 KB file. The cell bound (a million plus 64 per byte of file)
    stops the read after ~11 million."""
    count = 30_000
    rows = (
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>site</t></is></c></row>'
        + b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i) for i in range(2, count))
        + b'<row r="%d"><c r="XFD%d"><v>1</v></c></row>' % (count, count)
    )
    body = _xlsx(rows, dimension=b'<dimension ref="A1:XFD%d"/>' % count)
    assert len(body) < 200_000
    started = time.monotonic()
    problem = _refused(client, runtime, producer, dataset, body, XLSX)
    assert time.monotonic() - started < 30
    assert "cells" in str(problem["detail"])


def test_a_normal_xlsx_with_shared_strings_is_accepted(
    client: TestClient, producer: Persona, dataset: str
) -> None:
    table = (
        b"<sst " + _NS + b' count="3" uniqueCount="3"><si><t>site</t></si><si><t>kwh</t></si>'
        b"<si><t>A</t></si></sst>"
    )
    rows = (
        b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        b'<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>1.5</v></c></row>'
    )
    response = client.post(
        f"/api/v1/datasets/{dataset}/versions",
        content=_xlsx(rows, shared_strings=table),
        headers={**producer.headers, "Content-Type": XLSX},
    )
    assert response.status_code == 201, response.text
    data = client.get(f"/api/v1/datasets/{dataset}/data").json()["data"]
    assert [(r["site"], r["kwh"]) for r in data] == [("A", 1.5)]


# --------------------------------------------------------------------------------------------
# Finite numbers, on every format


def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _xlsx_number(text: str) -> bytes:
    """A sheet whose row 2 holds the number cell ``text`` (``<v>1E999</v>`` overflows to a
    float infinity in openpyxl; Excel never writes one, a hostile file can)."""
    rows = (
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>site</t></is></c>'
        b'<c r="B1" t="inlineStr"><is><t>kwh</t></is></c></row>'
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>A</t></is></c><c r="B2"><v>1.5</v></c></row>'
        b'<row r="3"><c r="A3" t="inlineStr"><is><t>B</t></is></c><c r="B3"><v>'
        + text.encode()
        + b"</v></c></row>"
    )
    return _xlsx(rows)


NON_FINITE = {
    "csv-inf": (b"site,kwh\nA,1.5\nB,inf\n", "text/csv", 2, "kwh"),
    "csv-nan-fr": (b"site;kwh\nA;1,5\nB;NaN\n", "text/csv", 2, "kwh"),
    "json-inf": (
        b'[{"site":"A","kwh":1.5},{"site":"B","kwh":"-Infinity"}]',
        "application/json",
        2,
        "kwh",
    ),
    "geojson-nan": (
        b'{"type":"FeatureCollection","features":['
        b'{"type":"Feature","properties":{"kwh":1.5},"geometry":null},'
        b'{"type":"Feature","properties":{"kwh":"nan"},"geometry":null}]}',
        "application/geo+json",
        2,
        "kwh",
    ),
    "parquet-inf": (
        _parquet(pa.table({"site": ["A", "B"], "kwh": [1.5, float("inf")]})),
        PARQUET,
        2,
        "kwh",
    ),
    "parquet-nan-float32": (
        _parquet(pa.table({"kwh": pa.array([float("nan"), 1.0], pa.float32())})),
        PARQUET,
        1,
        "kwh",
    ),
    "parquet-minus-inf": (
        _parquet(pa.table({"site": ["A", "B"], "kwh": [1.5, float("-inf")]})),
        PARQUET,
        2,
        "kwh",
    ),
    "xlsx-inf": (_xlsx_number("1E999"), XLSX, 2, "kwh"),
    "xlsx-minus-inf": (_xlsx_number("-1e999"), XLSX, 2, "kwh"),
}


@pytest.mark.parametrize("case", NON_FINITE)
def test_non_finite_numbers_are_refused_naming_row_and_field(
    client: TestClient, runtime: Runtime, producer: Persona, dataset: str, case: str
) -> None:
    body, content_type, row, field = NON_FINITE[case]
    problem = _refused(client, runtime, producer, dataset, body, content_type)
    errors = problem["errors"]
    assert isinstance(errors, list)
    assert [(e["row"], e["field"]) for e in errors] == [(row, field)], errors
    assert errors[0]["message"].startswith("not a finite number")


def test_non_finite_numbers_in_a_declared_carbon_column_are_refused(
    client: TestClient, runtime: Runtime, producer: Persona
) -> None:
    """A standard kind declares its value column a number: a Parquet infinity there is refused
    (before: stored, then 500s and silently null totals)."""
    created = client.post(
        "/api/v1/datasets",
        json={"id": "inv", "title": "Inventaire", "licence": "etalab-2.0", "kind": "emissions"},
        headers=producer.headers,
    )
    assert created.status_code == 201, created.text
    table = pa.table(
        {
            "territory": ["commune:17300", "commune:17300"],
            "year": [2019, 2020],
            "sector": ["residential", "residential"],
            "ghg": ["co2", "co2"],
            "value": [12.5, float("nan")],
            "unit": ["t", "t"],
        }
    )
    response = client.post(
        "/api/v1/datasets/inv/versions",
        content=_parquet(table),
        headers={**producer.headers, "Content-Type": PARQUET},
    )
    assert_clean_problem(response, 422)
    errors = response.json()["errors"]
    assert {"row": 2, "field": "value"} in [
        {"row": e["row"], "field": e["field"]} for e in errors
    ], errors


def test_uint64_parquet_values_out_of_int64_range_are_refused(
    client: TestClient, runtime: Runtime, producer: Persona, dataset: str
) -> None:
    table = pa.table({"n": pa.array([1, 2**64 - 1], pa.uint64())})
    problem = _refused(client, runtime, producer, dataset, _parquet(table), PARQUET)
    errors = problem["errors"]
    assert isinstance(errors, list)
    assert [(e["row"], e["field"]) for e in errors] == [(2, "n")]


def test_uint64_parquet_values_in_range_are_stored_as_integers(
    client: TestClient, producer: Persona, dataset: str
) -> None:
    table = pa.table({"n": pa.array([1, 2**63 - 1], pa.uint64())})
    response = client.post(
        f"/api/v1/datasets/{dataset}/versions",
        content=_parquet(table),
        headers={**producer.headers, "Content-Type": PARQUET},
    )
    assert response.status_code == 201, response.text
    assert response.json()["columns"] == [{"name": "n", "type": "integer"}]
    data = client.get(f"/api/v1/datasets/{dataset}/data").json()["data"]
    assert [r["n"] for r in data] == [1, 2**63 - 1]


def test_a_text_column_that_merely_holds_nan_stays_text(
    client: TestClient, producer: Persona, dataset: str
) -> None:
    """ "Nan" among names is a name: only beside numbers is it taken for a number."""
    response = client.post(
        f"/api/v1/datasets/{dataset}/versions",
        content=b"site,owner\nA,Nan\nB,Bob\n",
        headers={**producer.headers, "Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    assert {"name": "owner", "type": "string"} in response.json()["columns"]
