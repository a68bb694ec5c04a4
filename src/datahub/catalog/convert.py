"""Vectorised typing and Table Schema validation of string columns (pyarrow.compute, no row loops).

Every reader hands string columns (or already-typed Parquet columns) to :func:`convert_column`,
which returns the typed array and a list of :class:`Check` masks: rows where a mask is true fail
with the check's message. Row numbers are attached by the caller, which knows where the batch
starts in the file.

Numbers accept French spellings: a decimal comma (``12,5``), grouping spaces (``1 234,5``, also
no-break and narrow no-break spaces) and, when the file's decimal mark is the comma, dotted
thousands (``1.234,5``). Where the decimal mark is not known to be the comma (``auto``), a value
such as ``1,234`` is refused as ambiguous rather than read as 1.234 or 1234.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import pyarrow as pa
import pyarrow.compute as pc

DecimalMode = Literal["point", "comma", "auto"]

#: Table Schema types we convert, and their Arrow types. Others are kept as strings.
ARROW_TYPES: Final[dict[str, Any]] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us"),
}
_TYPE_ALIASES: Final = {"year": "integer"}
_STRING_LIKE: Final = {"geojson", "object", "array", "any", "time", "yearmonth", "duration"}

TRUE_VALUES: Final = ("true", "vrai", "oui", "yes")
FALSE_VALUES: Final = ("false", "faux", "non", "no")

_SPACES: Final = r"[ \x{00A0}\x{202F}]"
_GROUPED: Final = r"^[+-]?\d{1,3}(?:" + _SPACES + r"\d{3})+(?:[.,]\d+)?$"
_DOTTED_THOUSANDS: Final = r"^[+-]?\d{1,3}(?:\.\d{3})+,\d+$"
_COMMA_DECIMAL: Final = r"^[+-]?\d*,\d+(?:[eE][+-]?\d+)?$"
_AMBIGUOUS: Final = r"^[+-]?\d{1,3},\d{3}$"
_NUMBER: Final = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"
_INTEGER: Final = r"^-?\d{1,18}$"
_NON_FINITE: Final = r"(?i)^[+-]?(?:inf|infinity|nan)$"
_INT64_MAX: Final = (1 << 63) - 1
NOT_FINITE: Final = "not a finite number: {value}"
_LEADING_ZERO: Final = r"^[+-]?0\d"
_DATE_FORMATS: Final = ("%Y-%m-%d", "%d/%m/%Y")
_DATETIME_FORMATS: Final = (
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d",
    "%d/%m/%Y",
)
INFERABLE: Final[tuple[str, ...]] = ("integer", "number", "boolean", "date")


@dataclass(frozen=True)
class Check:
    """Rows where ``mask`` is true fail with ``message`` (``{value}`` is the cell, quoted)."""

    mask: Any  # pa.BooleanArray without nulls
    message: str


@dataclass(frozen=True)
class FieldSpec:
    """The parts of a Table Schema field descriptor that we enforce row by row."""

    name: str
    type: str = "string"
    required: bool = False
    enum: tuple[Any, ...] | None = None
    minimum: Any = None
    maximum: Any = None
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    unique: bool = False
    declared: bool = True

    @classmethod
    def from_descriptor(cls, descriptor: Mapping[str, Any]) -> FieldSpec:
        raw_type = str(descriptor.get("type", "string"))
        ftype = _TYPE_ALIASES.get(raw_type, raw_type)
        if ftype not in ARROW_TYPES:
            ftype = "string"
        constraints: Mapping[str, Any] = descriptor.get("constraints") or {}
        enum = constraints.get("enum")
        return cls(
            name=str(descriptor["name"]),
            type=ftype,
            required=bool(constraints.get("required", False)),
            enum=tuple(enum) if enum is not None else None,
            minimum=constraints.get("minimum"),
            maximum=constraints.get("maximum"),
            pattern=constraints.get("pattern"),
            min_length=constraints.get("minLength"),
            max_length=constraints.get("maxLength"),
            unique=bool(constraints.get("unique", False)),
        )

    @property
    def arrow_type(self) -> Any:
        return ARROW_TYPES[self.type]


def specs_from_schema(descriptor: Mapping[str, Any]) -> list[FieldSpec]:
    return [FieldSpec.from_descriptor(f) for f in descriptor.get("fields", [])]


def _mask(values: Any) -> Any:
    return pc.fill_null(values, False)


def _match(values: Any, pattern: str) -> Any:
    return _mask(pc.match_substring_regex(values, pattern))


def is_missing(raw: Any) -> Any:
    """Null, empty or blank cells (Table Schema ``missingValues: [""]``, blanks tolerated)."""
    return _is_empty(pc.utf8_trim_whitespace(raw))


def _is_empty(trimmed: Any) -> Any:
    # A length read from the offsets: about 20× faster than comparing each string with "".
    return pc.fill_null(pc.equal(pc.binary_length(trimmed), 0), True)


def _valid_or_null(values: Any, valid: Any) -> Any:
    """``values`` where ``valid``, null elsewhere (no copy when every value is valid)."""
    if valid.true_count == len(values):
        return values
    return pc.if_else(valid, values, pa.scalar(None, values.type))


def _normalise_number(trimmed: Any, decimal: DecimalMode) -> tuple[Any, Any]:
    """French spellings to ``1234.5``; also returns the mask of ambiguous ``1,234`` values."""
    values = trimmed
    no_ambiguity = pa.repeat(False, len(trimmed))
    if not pc.any(_mask(pc.match_substring_regex(values, r"[ ,\x{00A0}\x{202F}]"))).as_py():
        return values, no_ambiguity
    grouped = _match(values, _GROUPED)
    values = pc.if_else(grouped, pc.replace_substring_regex(values, _SPACES, ""), values)
    ambiguous = no_ambiguity
    if decimal == "comma":
        dotted = _match(values, _DOTTED_THOUSANDS)
        values = pc.if_else(dotted, pc.replace_substring(values, ".", ""), values)
        comma = _match(values, _COMMA_DECIMAL)
    elif decimal == "auto":
        # "1 234,5" (grouped) is clearly French; "1,234" alone could be English thousands.
        ambiguous = pc.and_(_match(values, _AMBIGUOUS), pc.invert(grouped))
        comma = pc.and_(_match(values, _COMMA_DECIMAL), pc.invert(ambiguous))
    else:
        comma = pc.and_(grouped, _match(values, _COMMA_DECIMAL))
    values = pc.if_else(comma, pc.replace_substring(values, ",", "."), values)
    return values, ambiguous


def _to_number(trimmed: Any, present: Any, decimal: DecimalMode) -> tuple[Any, list[Check]]:
    plain = _plain_numbers(trimmed, present)
    if plain is not None:
        return plain, []
    normalised, ambiguous = _normalise_number(trimmed, decimal)
    valid = _match(normalised, _NUMBER)
    values = pc.cast(_valid_or_null(normalised, valid), pa.float64())
    bad = pc.and_(present, pc.invert(valid))
    non_finite = pc.and_(bad, _match(trimmed, _NON_FINITE))
    other = pc.and_(bad, pc.invert(pc.or_(ambiguous, non_finite)))
    return values, [
        Check(pc.and_(bad, ambiguous), "ambiguous number {value}: write 1.234 or 1234"),
        Check(non_finite, NOT_FINITE),
        Check(other, "not a number: {value}"),
    ]


def _plain_numbers(trimmed: Any, present: Any) -> Any | None:
    """The column as numbers when every value is already written ``1234.5`` or ``-1e3``: Arrow's
    parser takes them as they are, with no regular expression to run (the slow part). None when
    any value needs the full path: French spellings, errors, or ``inf``/``nan``, which Arrow
    reads but :data:`_NUMBER` refuses."""
    try:
        values = pc.cast(_valid_or_null(trimmed, present), pa.float64())
    except pa.ArrowInvalid:
        return None
    return values if pc.all(pc.is_finite(values)).as_py() is not False else None


def _plain_integers(trimmed: Any, present: Any) -> Any | None:
    """The column as integers when every value is 1 to 18 ASCII digits (as :data:`_INTEGER`
    takes them, sign aside); None when any value needs the full path."""
    digits = pc.and_(pc.ascii_is_decimal(trimmed), pc.less_equal(pc.binary_length(trimmed), 18))
    if not pc.all(pc.or_(pc.invert(present), _mask(digits))).as_py():
        return None
    return pc.cast(_valid_or_null(trimmed, present), pa.int64())


def _to_integer(trimmed: Any, present: Any, decimal: DecimalMode) -> tuple[Any, list[Check]]:
    plain = _plain_integers(trimmed, present)
    if plain is not None:
        return plain, []
    normalised, _ = _normalise_number(trimmed, decimal)
    valid = _match(normalised, _INTEGER)
    if valid.true_count < present.true_count:
        # "+12" and "2019.0" (spreadsheets, JSON floats) are integers too.
        normalised = pc.replace_substring_regex(normalised, r"^\+|\.0*$", "")
        valid = _match(normalised, _INTEGER)
    values = pc.cast(_valid_or_null(normalised, valid), pa.int64())
    return values, [Check(pc.and_(present, pc.invert(valid)), "not an integer: {value}")]


def _to_boolean(trimmed: Any, present: Any) -> tuple[Any, list[Check]]:
    lower = pc.utf8_lower(trimmed)
    is_true = _mask(pc.is_in(lower, value_set=pa.array([*TRUE_VALUES, "1"])))
    is_false = _mask(pc.is_in(lower, value_set=pa.array([*FALSE_VALUES, "0"])))
    valid = pc.or_(is_true, is_false)
    values = pc.if_else(valid, is_true, pa.scalar(None, pa.bool_()))
    return values, [Check(pc.and_(present, pc.invert(valid)), "not a boolean: {value}")]


def _strptime_any(trimmed: Any, formats: Sequence[str]) -> Any:
    parsed = [pc.strptime(trimmed, format=f, unit="us", error_is_null=True) for f in formats]
    return pc.coalesce(*parsed) if len(parsed) > 1 else parsed[0]


def _to_date(trimmed: Any, present: Any) -> tuple[Any, list[Check]]:
    parsed = _strptime_any(trimmed, _DATE_FORMATS)
    valid = _mask(pc.is_valid(parsed))
    values = pc.cast(parsed, pa.date32())
    message = "not a date (YYYY-MM-DD or DD/MM/YYYY): {value}"
    return values, [Check(pc.and_(present, pc.invert(valid)), message)]


def _to_datetime(trimmed: Any, present: Any) -> tuple[Any, list[Check]]:
    # Fractions of a second and a UTC designator are dropped (values are stored naive, UTC).
    cleaned = pc.replace_substring_regex(trimmed, r"(?:\.\d+)?(?:Z|[+-]00:?00)?$", "")
    parsed = _strptime_any(cleaned, _DATETIME_FORMATS)
    valid = _mask(pc.is_valid(parsed))
    message = "not a date-time (YYYY-MM-DDTHH:MM:SS): {value}"
    return parsed, [Check(pc.and_(present, pc.invert(valid)), message)]


def _native_cast(raw: Any, spec: FieldSpec) -> Any | None:
    """Cast an already-typed (Parquet) column when its type fits the field; None otherwise."""
    t = raw.type
    fits = (
        (spec.type == "number" and (pa.types.is_integer(t) or pa.types.is_floating(t)))
        or (spec.type == "number" and pa.types.is_decimal(t))
        or (spec.type == "integer" and pa.types.is_integer(t))
        or (spec.type == "boolean" and pa.types.is_boolean(t))
        or (spec.type == "date" and (pa.types.is_date(t) or pa.types.is_timestamp(t)))
        or (spec.type == "datetime" and (pa.types.is_timestamp(t) or pa.types.is_date(t)))
    )
    if not fits:
        return None
    try:
        return pc.cast(raw, spec.arrow_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def as_strings(raw: Any) -> Any:
    """A column of any Arrow type as strings (nested values as JSON)."""
    t = raw.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pc.cast(raw, pa.string())
    if pa.types.is_dictionary(t):
        return as_strings(pc.cast(raw, t.value_type))
    if pa.types.is_nested(t):
        import orjson

        return pa.array(
            [None if v is None else orjson.dumps(v, default=str).decode() for v in raw.to_pylist()],
            pa.string(),
        )
    if pa.types.is_boolean(t):
        return pc.if_else(raw, "true", "false")
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return pa.array([None if v is None else v.hex() for v in raw.to_pylist()], pa.string())
    return pc.cast(raw, pa.string())


def convert_column(raw: Any, spec: FieldSpec, decimal: DecimalMode) -> tuple[Any, list[Check]]:
    """Type one column per ``spec`` and evaluate its constraints."""
    typed = None if _is_text(raw.type) else _native_cast(raw, spec)
    if typed is not None:
        present = _mask(pc.is_valid(typed))
        checks: list[Check] = finite_checks(typed)
    else:
        trimmed = pc.utf8_trim_whitespace(as_strings(raw))
        missing = _is_empty(trimmed)
        present = pc.invert(missing)
        if spec.type == "number":
            typed, checks = _to_number(trimmed, present, decimal)
        elif spec.type == "integer":
            typed, checks = _to_integer(trimmed, present, decimal)
        elif spec.type == "boolean":
            typed, checks = _to_boolean(trimmed, present)
        elif spec.type == "date":
            typed, checks = _to_date(trimmed, present)
        elif spec.type == "datetime":
            typed, checks = _to_datetime(trimmed, present)
        else:
            typed, checks = _valid_or_null(trimmed, present), []
    if spec.required:
        checks.append(Check(pc.invert(present), "a value is required"))
    checks.extend(_constraint_checks(typed, spec))
    return typed, [c for c in checks if pc.any(c.mask).as_py()]


def finite_checks(typed: Any) -> list[Check]:
    """Infinities and NaN (which Parquet floats can hold) are refused: they would poison sums."""
    if not pa.types.is_floating(typed.type):
        return []
    return [Check(_mask(pc.invert(pc.is_finite(typed))), NOT_FINITE)]


def keep_column(raw: Any) -> tuple[Any, list[Check]]:
    """An undeclared column: strings stay as they are (empty = null), typed columns stay typed;
    unsigned integers become int64 (the databases have no unsigned type), refusing those above
    its range, and floats must be finite."""
    if _is_text(raw.type):
        text = pc.cast(raw, pa.string())
        return pc.if_else(_mask(pc.equal(text, "")), pa.scalar(None, pa.string()), text), []
    if pa.types.is_dictionary(raw.type):
        return keep_column(pc.cast(raw, raw.type.value_type))
    if pa.types.is_decimal(raw.type):
        typed = pc.cast(raw, pa.float64())
        return typed, finite_checks(typed)
    if pa.types.is_nested(raw.type) or pa.types.is_binary(raw.type):
        return as_strings(raw), []
    if pa.types.is_large_binary(raw.type):
        return as_strings(raw), []
    if pa.types.is_unsigned_integer(raw.type):
        over = _mask(pc.greater(raw, pa.scalar(_INT64_MAX, pa.uint64())))
        typed = pc.cast(_valid_or_null(raw, pc.invert(over)), pa.int64())
        message = f"{{value}} is above the largest integer stored ({_INT64_MAX})"
        return typed, [c for c in [Check(over, message)] if pc.any(c.mask).as_py()]
    return raw, [c for c in finite_checks(raw) if pc.any(c.mask).as_py()]


def _is_text(t: Any) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def _scalar(value: Any, spec: FieldSpec) -> Any:
    if spec.type == "date" and isinstance(value, str):
        import datetime as dt

        return pa.scalar(dt.date.fromisoformat(value), pa.date32())
    return pa.scalar(value, spec.arrow_type)


def _full_matches(values: Any, pattern: str) -> Any:
    """``match_substring_regex``, run once per distinct value when values repeat (codes do)."""
    encoded = pc.dictionary_encode(values)
    if 4 * len(encoded.dictionary) > len(values):
        return pc.match_substring_regex(values, pattern)
    return pc.take(pc.match_substring_regex(encoded.dictionary, pattern), encoded.indices)


def _constraint_checks(typed: Any, spec: FieldSpec) -> list[Check]:
    checks: list[Check] = []
    if spec.enum is not None:
        allowed = pa.array(list(spec.enum), spec.arrow_type)
        outside = pc.and_(_mask(pc.is_valid(typed)), pc.invert(_mask(pc.is_in(typed, allowed))))
        shown = ", ".join(str(v) for v in spec.enum)
        checks.append(Check(outside, "{value} is not one of: " + shown))
    if spec.minimum is not None:
        low = _mask(pc.less(typed, _scalar(spec.minimum, spec)))
        checks.append(Check(low, f"{{value}} is below the minimum {spec.minimum}"))
    if spec.maximum is not None:
        high = _mask(pc.greater(typed, _scalar(spec.maximum, spec)))
        checks.append(Check(high, f"{{value}} is above the maximum {spec.maximum}"))
    if spec.type == "string":
        if spec.pattern is not None:
            matches = _full_matches(typed, f"^(?:{spec.pattern})$")
            bad = pc.and_(_mask(pc.is_valid(typed)), pc.invert(_mask(matches)))
            checks.append(Check(bad, f"{{value}} does not match the pattern {spec.pattern}"))
        if spec.min_length is not None:
            short = _mask(pc.less(pc.utf8_length(typed), spec.min_length))
            checks.append(Check(short, f"{{value}} is shorter than {spec.min_length} characters"))
        if spec.max_length is not None:
            long_ = _mask(pc.greater(pc.utf8_length(typed), spec.max_length))
            checks.append(Check(long_, f"{{value}} is longer than {spec.max_length} characters"))
    return checks


@dataclass
class TypeInference:
    """Infer integer > number > boolean > date > string per column, batch after batch.

    A column keeps a candidate type while every non-empty value seen so far parses as it; a value
    with a leading zero (``01``, ``007``: codes, not quantities) makes it a string. ``inf`` or
    ``nan`` beside numbers makes it a number column (then refused, row by row), alone a string.
    """

    decimal: DecimalMode
    candidates: dict[str, list[str]] = field(default_factory=dict)

    def update(self, name: str, raw: Any) -> None:
        remaining = self.candidates.setdefault(name, list(INFERABLE))
        if not remaining:
            return
        if not _is_text(raw.type):
            self.candidates[name] = []
            return
        trimmed = pc.utf8_trim_whitespace(raw)
        # "inf" and "nan" among numbers do not make the column text: it stays a number column
        # and typing then refuses them, naming row and field (finite numbers only).
        non_finite = _match(trimmed, _NON_FINITE)
        if pc.any(non_finite).as_py():
            trimmed = pc.if_else(non_finite, "", trimmed)
            remaining = self.candidates[name] = [c for c in remaining if c == "number"]
        present = pc.invert(_is_empty(trimmed))
        if not pc.any(present).as_py():
            return
        if pc.any(pc.and_(present, _match(trimmed, _LEADING_ZERO))).as_py():
            remaining = [c for c in remaining if c not in ("integer", "number")]
        kept = []
        for candidate in remaining:
            _, checks = convert_column(trimmed, FieldSpec(name, candidate), self.decimal)
            if not checks:
                kept.append(candidate)
        self.candidates[name] = kept
        self._seen.add(name)

    def __post_init__(self) -> None:
        self._seen: set[str] = set()

    def result(self, names: Iterable[str]) -> dict[str, str]:
        out = {}
        for name in names:
            remaining = self.candidates.get(name, [])
            out[name] = remaining[0] if remaining and name in self._seen else "string"
        return out
