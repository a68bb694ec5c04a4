"""Dataset kinds and the Table Schemas the project ships for them (contract §4).

The descriptors live next to this module in ``table_schemas/<kind>.json`` (Frictionless Table
Schema). Besides the standard keys they may hold ``x-datahub-row-one-of``: a list of column
groups of which every row must fill at least one group completely (e.g. a sequestration factor
names a ``land_use``, or both ``from_land_use`` and ``to_land_use``).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any, Final

SCHEMA_FOLDER: Final = Path(__file__).with_name("table_schemas")

STANDARD_KINDS: Final[tuple[str, ...]] = (
    "emissions",
    "activity",
    "emission_factors",
    "land_use",
    "land_use_change",
    "sequestration_factors",
    "climate",
    "reference_trajectory",
    "sequestration_project",
)
GENERIC: Final = "generic"
KINDS: Final[tuple[str, ...]] = (*STANDARD_KINDS, GENERIC)

ROW_ONE_OF: Final = "x-datahub-row-one-of"


@cache
def _load(kind: str) -> dict[str, Any]:
    with (SCHEMA_FOLDER / f"{kind}.json").open(encoding="utf-8") as fh:
        descriptor: dict[str, Any] = json.load(fh)
    return descriptor


def table_schema(kind: str | None) -> dict[str, Any] | None:
    """A copy of the Table Schema descriptor of a standard kind; None for ``generic``/unknown."""
    if kind not in STANDARD_KINDS:
        return None
    return copy.deepcopy(_load(kind))


def is_kind(kind: str) -> bool:
    return kind in KINDS
