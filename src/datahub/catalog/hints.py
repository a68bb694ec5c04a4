"""What to write instead: hints appended to the errors of an upload (cells and header)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from datahub.catalog.convert import FieldSpec
from datahub.suggest import closest, closest_key, did_you_mean, fold
from datahub.territories import codes
from datahub.vocabulary import SECTOR_LABELS_FR

#: Headers of French spreadsheets that name a standard column.
FRENCH_HEADERS = {
    "annee": "year",
    "territoire": "territory",
    "secteur": "sector",
    "acteur": "actor",
    "gaz": "ghg",
    "valeur": "value",
    "unite": "unit",
    "quantite": "quantity",
    "facteur": "factor",
    "surface ha": "area_ha",
}


def cell(spec: FieldSpec, value: Any) -> str:
    """``; did you mean `commune:17300`?`` for a failing cell, or an empty string."""
    if not isinstance(value, str):
        return ""
    if spec.enum is not None:
        labels: dict[str, str] = {str(k): v for k, v in SECTOR_LABELS_FR.items()}
        names = {str(v): labels.get(str(v), str(v)) for v in spec.enum}
        return did_you_mean(closest_key(value, names))
    if spec.pattern is not None and spec.name.endswith("territory"):
        return did_you_mean(codes.suggest(value))
    return ""


def missing_column(name: str, found: Sequence[str], standard: Iterable[str]) -> str:
    """The message for a missing required column: the header read, and the likely culprit
    among the headers that are not already ``standard`` columns."""
    shown = ", ".join(repr(h) for h in found[:30]) or "nothing"
    others = [h for h in found if h not in set(standard)]
    culprit = next((h for h in others if FRENCH_HEADERS.get(_folded(h)) == name), None)
    culprit = culprit or closest(name, [h for h in others if _folded(h) not in FRENCH_HEADERS])
    hint = f"; is {culprit!r} this column? name it {name!r}" if culprit else ""
    return f"required column {name!r} is missing (the header has {shown}){hint}"


def _folded(header: str) -> str:
    return fold(header).replace("(", "").replace(")", "")
