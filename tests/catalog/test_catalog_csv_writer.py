"""CSV output: dialects, quoting and formula neutralisation."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pyarrow as pa

from datahub.catalog.csv_writer import iter_csv, iter_csv_rows, neutralise
from datahub.catalog.readers import open_table


def _text(chunks: list[bytes] | bytes) -> str:
    data = chunks if isinstance(chunks, bytes) else b"".join(chunks)
    return data.decode("utf-8")


BATCH = pa.record_batch(
    {
        "label": [
            '=HYPERLINK("http://x")',
            "+33 5 46",
            "-cmd|' /C calc'!A0",
            "@SUM(A1)",
            "\tindent",
            "\rcr",
            "ok",
            "-12",
            None,
        ],
        "value": [-12.5, 1.0, -0.001, 3.25, 0.0, 1e21, -7.0, 2.5, None],
        "count": pa.array([-3, 4, 5, 6, 7, 8, 9, 10, None], pa.int64()),
    }
)


def test_formulas_are_neutralised_but_negative_numbers_are_not() -> None:
    rows = list(csv.reader(io.StringIO(_text(list(iter_csv([BATCH]))), newline="")))
    assert rows[0] == ["label", "value", "count"]
    labels = [r[0] for r in rows[1:]]
    assert labels == [
        '\'=HYPERLINK("http://x")',
        "'+33 5 46",
        "'-cmd|' /C calc'!A0",
        "'@SUM(A1)",
        "'\tindent",
        "'\rcr",
        "ok",
        "-12",  # a text cell that is just a number cannot run anything: left alone
        "",
    ]
    # Numeric columns keep their sign and are never prefixed.
    assert [r[1] for r in rows[1:]] == [
        "-12.5",
        "1",
        "-0.001",
        "3.25",
        "0",
        "1e+21",
        "-7",
        "2.5",
        "",
    ]
    assert [r[2] for r in rows[1:]] == ["-3", "4", "5", "6", "7", "8", "9", "10", ""]


def test_fr_dialect_semicolon_decimal_comma_bom() -> None:
    data = b"".join(iter_csv([BATCH.slice(0, 3)], dialect="fr"))
    assert data.startswith(b"\xef\xbb\xbf")
    text = data[3:].decode("utf-8")
    assert text.split("\r\n") == [
        "label;value;count",
        '"\'=HYPERLINK(""http://x"")";-12,5;-3',  # quoted because it holds quotes
        "'+33 5 46;1;4",
        "'-cmd|' /C calc'!A0;-0,001;5",
        "",
    ]


def test_default_dialect_quotes_only_when_needed() -> None:
    batch = pa.record_batch({"a": ["x,y", 'say "hi"', "two\nlines", "plain"], "b": [1, 2, 3, 4]})
    text = _text(list(iter_csv([batch])))
    assert text == 'a,b\r\n"x,y",1\r\n"say ""hi""",2\r\n"two\nlines",3\r\nplain,4\r\n'
    assert not text.startswith("\ufeff")


def test_fr_output_reads_back_to_the_same_numbers(tmp_path: Path) -> None:
    table = pa.table(
        {
            "year": pa.array([2019, 2020], pa.int64()),
            "territory": ["commune:17300", "epci:241700434"],
            "sector": ["residential", "waste"],
            "value": [1234.5, -0.125],
            "unit": ["tCO2e", "tCO2e"],
        }
    )
    path = tmp_path / "out.csv"
    path.write_bytes(b"".join(iter_csv(table.to_batches(), dialect="fr")))
    parsed = open_table(path, kind="emissions")
    assert parsed.dialect.delimiter == ";"
    assert parsed.dialect.bom is True
    assert parsed.read_all().equals(table)


def test_dict_rows_and_header_without_batches() -> None:
    rows = [
        {"year": 2019, "net": -150.5, "note": "=1+1", "day": dt.date(2019, 1, 1)},
        {"year": 2020, "net": None, "note": "sequestration > emissions"},
    ]
    text = _text(list(iter_csv_rows(rows, ["year", "net", "note", "day"], dialect="fr")))
    assert text == (
        "\ufeffyear;net;note;day\r\n2019;-150,5;'=1+1;2019-01-01\r\n"
        "2020;;sequestration > emissions;\r\n"
    )
    assert _text(list(iter_csv([], columns=["a", "=b"]))) == "a,'=b\r\n"


def test_neutralise_single_cells() -> None:
    assert neutralise("=1") == "'=1"
    assert neutralise("-1,5") == "-1,5"
    assert neutralise("-1-1") == "'-1-1"
    assert neutralise("abc") == "abc"


def test_many_batches_stream_one_chunk_each() -> None:
    batches = [pa.record_batch({"n": [i, i + 1]}) for i in range(0, 10, 2)]
    chunks = list(iter_csv(batches))
    assert chunks[0] == b"n\r\n"
    assert len(chunks) == 6
    assert b"".join(chunks[1:]).decode().split() == [str(i) for i in range(10)]
