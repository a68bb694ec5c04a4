"""Reading uploads: formats, French CSVs, typing, and row-precise errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datahub.catalog.csv_writer import iter_csv
from datahub.catalog.readers import MAX_ERRORS, open_table
from datahub.catalog.sniff import detect_format
from datahub.errors import FieldError, UnsupportedMediaType, ValidationFailed
from tests.paths import TEST_DATA

ALDO = TEST_DATA / "reference/aldo"

HEADER = "year;territory;sector;value;unit\n"


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _errors(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[Any, Any]]:
    return [(e.row, e.field) for e in exc.value.errors]


# --- French CSVs --------------------------------------------------------------------------------


def test_windows_1252_semicolon_decimal_comma_reads_same_numbers_as_utf8(tmp_path: Path) -> None:
    rows = [
        ("2019", "commune:17300", "residential", "1234,5", "tCO2e"),  # 1234.5
        ("2019", "commune:17010", "tertiary", "-0,75", "tCO2e"),  # -0.75
        ("2020", "commune:17300", "industry", "1\u00a0234\u00a0567,25", "tCO2e"),  # 1234567.25
        ("2020", "commune:17300", "agriculture", "12", "tCO2e"),  # 12.0
    ]
    text = "année;territoire;secteur;valeur;unité\n" + "".join(";".join(r) + "\n" for r in rows)
    text += "2021;commune:17373;residential;3,5;Saint-Médard-d'Aunis — Île-d'Aix €\n"
    latin = _write(tmp_path, "inventaire.csv", text.encode("cp1252"))
    utf8 = _write(
        tmp_path,
        "inventory.csv",
        text.replace(";", ",")
        .replace("1\u00a0234\u00a0567,25", "1234567.25")
        .replace(",5,", ".5,")
        .replace("-0,75", "-0.75")
        .replace("3,5,", "3.5,")
        .encode("utf-8"),
    )
    fr = open_table(latin)
    en = open_table(utf8)
    assert fr.dialect.delimiter == ";"
    assert fr.dialect.encoding == "cp1252"
    assert fr.dialect.decimal == ","
    assert en.dialect.delimiter == ","
    assert en.dialect.encoding == "utf-8"
    assert [c.name for c in fr.columns] == ["année", "territoire", "secteur", "valeur", "unité"]
    assert [c.type for c in fr.columns] == ["integer", "string", "string", "number", "string"]
    fr_table, en_table = fr.read_all(), en.read_all()
    assert fr_table.column("valeur").to_pylist() == [1234.5, -0.75, 1234567.25, 12.0, 3.5]
    assert fr_table.equals(en_table)
    assert fr_table.column("unité")[4].as_py() == "Saint-Médard-d'Aunis — Île-d'Aix €"


def test_utf8_bom_crlf_and_trailing_separator_real_file() -> None:
    # A real ALDO export: UTF-8 with BOM, CRLF line ends, and a trailing comma on every line.
    path = ALDO / "la-rochelle-biomasse-forets-peupleraies.csv"
    parsed = open_table(path, filename=path.name)
    assert parsed.dialect.bom is True
    assert parsed.dialect.encoding == "utf-8"
    assert parsed.columns[0].name == "siren"  # not "\ufeffsiren"
    assert parsed.columns[-1].name == "column_16"  # the empty name after the trailing comma
    table = parsed.read_all()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        expected = list(csv.DictReader(fh))
    assert table.num_rows == len(expected) == 1
    assert table.column("siren").to_pylist() == [241700434]
    assert table.column("BILAN_CO2 (tCO2∙an-1)").to_pylist() == [
        float(expected[0]["BILAN_CO2 (tCO2∙an-1)"])  # -52.38890539
    ]
    assert table.column("column_16").to_pylist() == [None]


def test_real_clc_change_file_sums_match_an_independent_reading() -> None:
    path = ALDO / "la-rochelle-clc12-18-change.csv"
    table = open_table(path).read_all()
    with path.open(encoding="utf-8", newline="") as fh:
        expected = list(csv.DictReader(fh))
    assert table.num_rows == len(expected) == 55
    types = {f.name: str(f.type) for f in table.schema}
    assert types == {"code12": "int64", "code18": "int64", "commune": "int64", "area_ha": "double"}
    assert sum(table.column("area_ha").to_pylist()) == pytest.approx(
        sum(float(r["area_ha"]) for r in expected), rel=1e-12
    )


def test_utf8_bom_semicolon_with_kind_maps_header_case_insensitively(tmp_path: Path) -> None:
    data = "\ufeffYear;Territory;SECTOR;value;unit;commentaire\n"
    data += "2019;epci:241700434;waste;0,5;tCO2e;ok\n"
    parsed = open_table(_write(tmp_path, "e.csv", data.encode("utf-8")), kind="emissions")
    table = parsed.read_all()
    assert table.schema.names == ["year", "territory", "sector", "value", "unit", "commentaire"]
    assert table.to_pylist() == [
        {
            "year": 2019,
            "territory": "epci:241700434",
            "sector": "waste",
            "value": 0.5,
            "unit": "tCO2e",
            "commentaire": "ok",  # unknown extra column: kept, as text
        }
    ]


# --- Row-precise errors -------------------------------------------------------------------------


def test_bad_number_at_row_50001_of_100000_is_named_exactly(tmp_path: Path) -> None:
    lines = [HEADER]
    for i in range(1, 100_001):
        value = "12,5x" if i == 50_001 else f"{i},5"
        lines.append(f"{2000 + i % 20};commune:17300;residential;{value};tCO2e\n")
    path = _write(tmp_path, "big.csv", "".join(lines).encode())
    parsed = open_table(path, kind="emissions")
    seen: list[int] = []

    def consume() -> None:
        for batch in parsed.batches():
            seen.append(batch.num_rows)

    with pytest.raises(ValidationFailed) as exc:
        consume()
    assert exc.value.errors == [FieldError(50001, "value", "not a number: '12,5x'")]
    assert sum(seen) < 50_001  # nothing past the bad row was handed out


def test_errors_stop_at_the_cap(tmp_path: Path) -> None:
    body = "".join(f"2019;commune:17300;residential;bad{i};t\n" for i in range(500))
    parsed = open_table(_write(tmp_path, "e.csv", (HEADER + body).encode()), kind="emissions")
    with pytest.raises(ValidationFailed) as exc:
        parsed.validate()
    assert len(exc.value.errors) == MAX_ERRORS
    assert exc.value.errors[0] == FieldError(1, "value", "not a number: 'bad0'")
    assert exc.value.errors[-1].row == 100


def test_constraint_errors_name_row_and_field(tmp_path: Path) -> None:
    body = (
        "2019;commune:17300;residential;1;tCO2e\n"
        "1850;commune:17300;residential;1;tCO2e\n"  # row 2: year below 1900
        "2019;17300;residential;1;tCO2e\n"  # row 3: territory without level
        "2019;commune:17300;housing;1;tCO2e\n"  # row 4: not a PCAET sector
        "2019;commune:17300;waste;;tCO2e\n"  # row 5: value required
        "2019.5;commune:17300;waste;2;tCO2e\n"  # row 6: not an integer
    )
    parsed = open_table(_write(tmp_path, "e.csv", (HEADER + body).encode()), kind="emissions")
    with pytest.raises(ValidationFailed) as exc:
        parsed.validate()
    assert _errors(exc) == [
        (2, "year"),
        (3, "territory"),
        (4, "sector"),
        (5, "value"),
        (6, "year"),
    ]
    assert exc.value.errors[4].message == "not an integer: '2019.5'"


def test_missing_required_columns_one_error_each(tmp_path: Path) -> None:
    path = _write(tmp_path, "e.csv", b"year;territory;valeur\n2019;commune:17300;1\n")
    with pytest.raises(ValidationFailed) as exc:
        open_table(path, kind="emissions")
    found = "(the header has 'year', 'territory', 'valeur')"
    assert exc.value.errors == [
        FieldError(None, "sector", f"required column 'sector' is missing {found}"),
        FieldError(
            None,
            "value",
            f"required column 'value' is missing {found}; is 'valeur' this column? name it 'value'",
        ),
        FieldError(None, "unit", f"required column 'unit' is missing {found}"),
    ]


def test_ragged_rows_are_reported_with_their_row(tmp_path: Path) -> None:
    body = (
        "2019;commune:17300;residential;1;tCO2e\n"
        "2019;commune:17300;residential\n"  # row 2: 3 fields
        "2019;commune:17300;residential;1;tCO2e\n"
        "2019;commune:17300;residential;1;tCO2e;extra\n"  # row 4: 6 fields
        "2019;commune:17300;residential;1,5;tCO2e\n"
    )
    parsed = open_table(_write(tmp_path, "e.csv", (HEADER + body).encode()), kind="emissions")
    with pytest.raises(ValidationFailed) as exc:
        parsed.validate()
    assert exc.value.errors == [
        FieldError(2, None, "expected 5 fields, found 3"),
        FieldError(4, None, "expected 5 fields, found 6"),
    ]


def test_row_numbers_after_a_skipped_ragged_row_stay_true(tmp_path: Path) -> None:
    body = "2019;commune:17300;residential\n2019;commune:17300;residential;oops;tCO2e\n"
    parsed = open_table(_write(tmp_path, "e.csv", (HEADER + body).encode()), kind="emissions")
    with pytest.raises(ValidationFailed) as exc:
        parsed.validate()
    # Row 1 is ragged (skipped by the parser); the bad number is still row 2, not row 1.
    assert _errors(exc) == [(1, None), (2, "value")]


def test_unterminated_quote_is_a_clear_error(tmp_path: Path) -> None:
    body = '2019;commune:17300;"residential;1;tCO2e\n2020;commune:17300;waste;2;tCO2e\n'
    path = _write(tmp_path, "e.csv", (HEADER + body).encode())
    with pytest.raises(ValidationFailed) as exc:
        open_table(path, kind="emissions").validate()
    assert exc.value.errors[0].row == 1
    assert "unterminated quote" in exc.value.errors[0].message.lower()


def test_quote_running_over_the_next_line_is_caught(tmp_path: Path) -> None:
    # Balanced quotes, but the first one opens a cell that runs over the next line.
    body = '2019;commune:17300;"residential;1;tCO2e\n2020;commune:17300;waste";2;tCO2e\n'
    parsed = open_table(_write(tmp_path, "e.csv", (HEADER + body).encode()), kind="emissions")
    with pytest.raises(ValidationFailed) as exc:
        parsed.validate()
    assert exc.value.errors == [FieldError(1, "sector", exc.value.errors[0].message)]


def test_nul_byte_in_csv(tmp_path: Path) -> None:
    data = HEADER + "2019;commune:17300;residential;1;tCO2e\n2019;commune:1\x007300;x;1;t\n"
    with pytest.raises(ValidationFailed) as exc:
        open_table(_write(tmp_path, "e.csv", data.encode()), kind="emissions")
    assert exc.value.errors[0].row == 2
    assert "NUL" in exc.value.errors[0].message


def test_nul_character_in_json_value(tmp_path: Path) -> None:
    rows = [{"a": "ok"}, {"a": "bad\u0000value"}]
    parsed = open_table(_write(tmp_path, "x.json", json.dumps(rows).encode()))
    with pytest.raises(ValidationFailed) as exc:
        parsed.validate()
    assert exc.value.errors == [FieldError(2, "a", "NUL character in the value")]


def test_invalid_utf8_after_valid_accents_is_refused(tmp_path: Path) -> None:
    data = (HEADER + "2019;commune:17300;résidentiel;1;t\n").encode() + b"2019;\xff;x;1;t\n"
    with pytest.raises(ValidationFailed) as exc:
        open_table(_write(tmp_path, "e.csv", data))
    assert "UTF-8" in exc.value.detail
    assert exc.value.errors[0].row == 2


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed):
        open_table(_write(tmp_path, "e.csv", b""))


def test_ambiguous_thousands_in_comma_csv_is_refused(tmp_path: Path) -> None:
    data = 'year,territory,sector,value,unit\n2019,commune:17300,waste,"1,234",tCO2e\n'
    parsed = open_table(_write(tmp_path, "e.csv", data.encode()), kind="emissions")
    with pytest.raises(ValidationFailed) as exc:
        parsed.validate()
    assert exc.value.errors[0].message.startswith("ambiguous number '1,234'")


def test_quoted_french_decimal_in_comma_csv(tmp_path: Path) -> None:
    data = 'year,territory,sector,value,unit\n2019,commune:17300,waste,"12,5",tCO2e\n'
    table = open_table(_write(tmp_path, "e.csv", data.encode()), kind="emissions").read_all()
    assert table.column("value").to_pylist() == [12.5]


# --- Kinds with row rules -----------------------------------------------------------------------


def test_sequestration_factors_flow_or_change(tmp_path: Path) -> None:
    data = (
        "land_use;from_land_use;to_land_use;territory;value;unit\n"
        "forest;;;;4,8;tCO2e/ha/yr\n"  # flow factor
        ";cropland;artificial;commune:17300;190;tCO2e/ha\n"  # change factor
        ";cropland;;;1;tCO2e/ha\n"  # row 3: neither complete
        "swamp;;;;1;tCO2e/ha/yr\n"  # row 4: unknown land use
    )
    parsed = open_table(_write(tmp_path, "s.csv", data.encode()), kind="sequestration_factors")
    with pytest.raises(ValidationFailed) as exc:
        parsed.validate()
    assert _errors(exc) == [(3, "land_use"), (4, "land_use")]
    ok = open_table(
        _write(tmp_path, "ok.csv", b"land_use;value;unit\nforest;4,8;tCO2e/ha/yr\n"),
        kind="sequestration_factors",
    )
    assert ok.read_all().column("value").to_pylist() == [4.8]
    with pytest.raises(ValidationFailed) as missing:
        open_table(
            _write(tmp_path, "no.csv", b"value;unit\n1;tCO2e/ha\n"), kind="sequestration_factors"
        )
    assert missing.value.errors[0].field == "land_use"


def test_climate_station_or_territory(tmp_path: Path) -> None:
    data = "year;station;hdd\n2019;17300001;2051,3\n2020;;1900\n"
    parsed = open_table(_write(tmp_path, "c.csv", data.encode()), kind="climate")
    with pytest.raises(ValidationFailed) as exc:
        parsed.validate()
    assert _errors(exc) == [(2, "territory")]


def test_emission_factor_ids_are_unique_across_batches(tmp_path: Path) -> None:
    data = "id;label;unit;value;source;valid_from\nelec;Électricité;kWh;0,052;ADEME;01/01/2023\n"
    data += "gaz;Gaz naturel;kWh;0,227;ADEME;2023-01-01\nelec;Doublon;kWh;1;x;\n"
    parsed = open_table(_write(tmp_path, "f.csv", data.encode()), kind="emission_factors")
    with pytest.raises(ValidationFailed) as exc:
        parsed.validate()
    assert exc.value.errors == [FieldError(3, "id", "duplicate value 'elec'")]


# --- Inference ----------------------------------------------------------------------------------


def test_inference_over_the_whole_file(tmp_path: Path) -> None:
    lines = ["code;n;x;flag;day\n"]
    for i in range(200_000):
        lines.append(f"{i:05d};{i};{i};oui;2024-01-{1 + i % 28:02d}\n")
    lines.append("99;1;n/a;non;31/12/2024\n")  # the last row turns x into text
    parsed = open_table(_write(tmp_path, "g.csv", "".join(lines).encode()))
    types = {c.name: c.type for c in parsed.columns}
    # "00000" has a leading zero: a code, kept as text; x is text because of its last value.
    assert types == {
        "code": "string",
        "n": "integer",
        "x": "string",
        "flag": "boolean",
        "day": "date",
    }
    table = parsed.read_all()
    assert table.num_rows == 200_001
    assert table.column("code")[0].as_py() == "00000"
    assert table.column("x")[200_000].as_py() == "n/a"
    assert str(table.column("day")[200_000].as_py()) == "2024-12-31"
    assert table.column("flag")[200_000].as_py() is False


# --- Formats ------------------------------------------------------------------------------------

ROWS = [
    {
        "year": 2019,
        "territory": "commune:17300",
        "sector": "residential",
        "value": 1234.5,
        "unit": "tCO2e",
    },
    {
        "year": 2020,
        "territory": "epci:241700434",
        "sector": "road_transport",
        "value": -0.75,
        "unit": "ktCO2e",
    },
]


def _expected() -> pa.Table:
    return pa.Table.from_pylist(
        ROWS,
        schema=pa.schema(
            [
                ("year", pa.int64()),
                ("territory", pa.string()),
                ("sector", pa.string()),
                ("value", pa.float64()),
                ("unit", pa.string()),
            ]
        ),
    )


def _xlsx(path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(ROWS[0]))
    for row in ROWS:
        sheet.append(list(row.values()))
    workbook.save(path)


@pytest.mark.parametrize(
    ("name", "media_type", "fmt"),
    [
        ("e.csv", "text/csv", "csv"),
        ("e_fr.csv", "application/vnd.ms-excel", "csv"),
        ("e.json", "application/json", "json"),
        ("e.ndjson", None, "json"),
        ("e.geojson", "application/geo+json", "geojson"),
        ("e.parquet", "application/octet-stream", "parquet"),
        ("e.xlsx", None, "xlsx"),
        ("envelope.json", None, "json"),
    ],
)
def test_all_formats_round_trip(
    tmp_path: Path, name: str, media_type: str | None, fmt: str
) -> None:
    path = tmp_path / name
    if name == "e.csv":
        path.write_bytes(b"".join(iter_csv([_expected()])))
    elif name == "e_fr.csv":
        path.write_bytes(b"".join(iter_csv([_expected()], dialect="fr")))
    elif name == "e.json":
        path.write_text(json.dumps(ROWS))
    elif name == "envelope.json":
        path.write_text(
            json.dumps({"data": ROWS, "links": {"next": None}, "meta": {"total": 2}}, indent=2)
        )
    elif name == "e.ndjson":
        path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    elif name == "e.geojson":
        features = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-1.15, 46.16]},
                "properties": row,
            }
            for row in ROWS
        ]
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    elif name == "e.parquet":
        pq.write_table(_expected(), path)
    else:
        _xlsx(path)
    parsed = open_table(path, filename=name, media_type=media_type, kind="emissions")
    assert parsed.format == fmt
    table = parsed.read_all()
    if fmt == "geojson":
        geometry = table.column("geometry").to_pylist()
        assert json.loads(geometry[0]) == {"type": "Point", "coordinates": [-1.15, 46.16]}
        table = table.drop_columns(["geometry"])
    assert table.equals(_expected())


def test_parquet_keeps_native_types_without_schema(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"n": pa.array([1, 2], pa.int32()), "s": ["01", "02"]}), path)
    parsed = open_table(path)
    assert [(c.name, c.type) for c in parsed.columns] == [("n", "integer"), ("s", "string")]
    assert parsed.read_all().column("s").to_pylist() == ["01", "02"]


def test_xlsx_dates_and_empty_rows(tmp_path: Path) -> None:
    import datetime as dt

    path = tmp_path / "f.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["id", "label", "unit", "value", "source", "valid_from"])
    sheet.append(["elec", "Électricité", "kWh", 0.052, "ADEME", dt.datetime(2023, 1, 1)])
    sheet.append([])
    sheet.append(["gaz", "Gaz", "kWh", "#DIV/0!", "ADEME", None])
    workbook.save(path)
    parsed = open_table(path, kind="emission_factors")
    with pytest.raises(ValidationFailed) as exc:
        parsed.validate()
    # Sheet row 4 is data row 3: the empty row 3 still counts, as in the spreadsheet.
    assert exc.value.errors == [FieldError(3, "value", "not a number: '#DIV/0!'")]


def test_format_detection(tmp_path: Path) -> None:
    csv_path = _write(tmp_path, "upload", b"a;b\n1;2\n")
    assert detect_format(csv_path) == "csv"
    assert detect_format(csv_path, media_type="text/csv; charset=utf-8") == "csv"
    parquet = tmp_path / "p.bin"
    pq.write_table(pa.table({"a": [1]}), parquet)
    # The binary signature wins over a wrong declaration.
    assert detect_format(parquet, filename="data.csv", media_type="text/csv") == "parquet"
    xls = _write(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    with pytest.raises(UnsupportedMediaType):
        detect_format(xls, filename="old.xls")
    geo = _write(tmp_path, "g.json", b'{"type": "FeatureCollection", "features": []}')
    assert detect_format(geo, media_type="application/json") == "geojson"


def test_malformed_json_is_a_validation_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.json", b'[{"a": 1}, {"a": 2}, {"a": ')
    with pytest.raises(ValidationFailed) as exc:
        open_table(path)
    assert exc.value.errors[0].row == 3


def test_unicode_16_excel_text_export(tmp_path: Path) -> None:
    # Excel's "Unicode text" export: UTF-16 with BOM, tab-separated, decimal comma.
    text = "année\tvaleur\r\n2019\t1,5\r\n2020\t-2,25\r\n"
    parsed = open_table(_write(tmp_path, "x.txt", text.encode("utf-16")))
    assert parsed.dialect.delimiter == "\t"
    assert parsed.dialect.decimal == ","
    assert parsed.read_all().column("valeur").to_pylist() == [1.5, -2.25]


def test_dialect_report_is_json_serialisable(tmp_path: Path) -> None:
    parsed = open_table(_write(tmp_path, "e.csv", b"a;b\n1;2\n"))
    assert json.loads(json.dumps(parsed.dialect.as_dict()))["delimiter"] == ";"
    assert parsed.table_schema == {
        "fields": [{"name": "a", "type": "integer"}, {"name": "b", "type": "integer"}]
    }
