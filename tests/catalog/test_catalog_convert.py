"""Typing text cells: the fast paths (Arrow's own parser, regexes on distinct values only) give
exactly what the full path gives, and hand the column over whenever a value needs it."""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa
import pytest

from datahub.catalog.convert import FieldSpec, convert_column


def _typed(values: list[str], type_: str, **spec: Any) -> tuple[list[Any], dict[int, str]]:
    typed, checks = convert_column(
        pa.array(values, pa.string()), FieldSpec("x", type_, **spec), "auto"
    )
    errors: dict[int, str] = {}
    for check in checks:
        for index, bad in enumerate(check.mask.to_pylist()):
            if bad:
                errors[index] = check.message.format(value=values[index])
    return typed.to_pylist(), errors


def test_plain_numbers_parse_as_written() -> None:
    values, errors = _typed(["1234.5", "-1e3", "+2", ".5", "7.", " 3.25 ", "", "0"], "number")
    assert values == [1234.5, -1000.0, 2.0, 0.5, 7.0, 3.25, None, 0.0]
    assert errors == {}


@pytest.mark.parametrize("odd", ["inf", "nan", "Infinity", "1e", "0x10", "1_000"])
def test_what_arrow_reads_but_table_schema_refuses_is_still_an_error(odd: str) -> None:
    # Arrow's parser takes inf and nan; the column falls back to the full path, which refuses
    # them and names the cell — and keeps converting the plain values around it.
    values, errors = _typed(["1.5", odd, "2"], "number")
    assert values == [1.5, None, 2.0]
    finite = odd.lower() in ("inf", "nan", "infinity")
    assert errors == {1: f"not a {'finite ' if finite else ''}number: {odd}"}


def test_french_numbers_next_to_plain_ones_take_the_full_path() -> None:
    values, errors = _typed(["1 234,5", "12.5", "3,25", "1,234"], "number")
    # "1,234" alone could be English thousands: refused as ambiguous in auto mode.
    assert values[:3] == [1234.5, 12.5, 3.25]
    assert values[3] is None
    assert errors == {3: "ambiguous number 1,234: write 1.234 or 1234"}


def test_overflowing_exponent_is_infinite_on_both_paths() -> None:
    values, errors = _typed(["1e400"], "number")
    assert math.isinf(values[0])
    assert errors == {}


def test_plain_integers_and_the_ones_that_need_the_full_path() -> None:
    assert _typed(["2019", "007", "", "123456789012345678"], "integer") == (
        [2019, 7, None, 123456789012345678],
        {},
    )
    # A sign, a spreadsheet's "2019.0" or a French "1 000" go through the full path.
    assert _typed(["+12", "2019.0", "-5", "1 000"], "integer") == ([12, 2019, -5, 1000], {})
    values, errors = _typed(["1", "1234567890123456789", "12a"], "integer")
    assert values == [1, None, None]
    assert errors == {1: "not an integer: 1234567890123456789", 2: "not an integer: 12a"}


@pytest.mark.parametrize("repeat", [1, 50])
def test_patterns_match_the_same_whether_values_repeat_or_not(repeat: int) -> None:
    # Repeated codes are matched once per distinct value; distinct ones one by one.
    cells = ["commune:17300", "Commune:17300", "epci:241700434", "commune 17300", ""] * repeat
    values, errors = _typed(cells, "string", pattern="[a-z][a-z_]*:[0-9A-Za-z][0-9A-Za-z_.-]*")
    bad = {i for i, cell in enumerate(cells) if cell in ("Commune:17300", "commune 17300")}
    assert set(errors) == bad
    assert values[0] == "commune:17300"
    assert values[4] is None
