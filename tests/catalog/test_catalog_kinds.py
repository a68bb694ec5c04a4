"""The shipped Table Schemas follow the contract's columns (§4)."""

from __future__ import annotations

import frictionless
import pytest

from datahub import vocabulary
from datahub.catalog import kinds


@pytest.mark.parametrize("kind", kinds.STANDARD_KINDS)
def test_every_schema_is_a_valid_table_schema(kind: str) -> None:
    descriptor = kinds.table_schema(kind)
    assert descriptor is not None
    report = frictionless.Schema.validate_descriptor(descriptor)
    assert report.valid, report.flatten(["message"])


def _fields(kind: str) -> dict[str, tuple[str, bool]]:
    descriptor = kinds.table_schema(kind)
    assert descriptor is not None
    return {
        f["name"]: (f["type"], f.get("constraints", {}).get("required", False))
        for f in descriptor["fields"]
    }


def test_columns_match_the_contract() -> None:
    # (type, required) per column, transcribed from the table in contract §4.
    assert _fields("emissions") == {
        "year": ("integer", True),
        "territory": ("string", True),
        "sector": ("string", True),
        "actor": ("string", False),
        "ghg": ("string", False),
        "value": ("number", True),
        "unit": ("string", True),
    }
    assert _fields("activity") == {
        "year": ("integer", True),
        "territory": ("string", True),
        "sector": ("string", True),
        "actor": ("string", False),
        "quantity": ("number", True),
        "unit": ("string", True),
        "factor": ("string", True),
    }
    assert _fields("emission_factors") == {
        "id": ("string", True),
        "label": ("string", True),
        "unit": ("string", True),
        "value": ("number", True),
        "source": ("string", True),
        "valid_from": ("date", False),
        "valid_to": ("date", False),
    }
    assert _fields("land_use") == {
        "year": ("integer", True),
        "territory": ("string", True),
        "land_use": ("string", True),
        "area_ha": ("number", True),
    }
    assert _fields("land_use_change") == {
        "year": ("integer", True),
        "territory": ("string", True),
        "from_land_use": ("string", True),
        "to_land_use": ("string", True),
        "area_ha": ("number", True),
    }
    assert _fields("sequestration_factors") == {
        "land_use": ("string", False),
        "from_land_use": ("string", False),
        "to_land_use": ("string", False),
        "territory": ("string", False),
        "value": ("number", True),
        "unit": ("string", True),
    }
    assert _fields("climate") == {
        "year": ("integer", True),
        "territory": ("string", False),
        "station": ("string", False),
        "hdd": ("number", True),
    }


def test_enums_hold_the_contract_ids() -> None:
    emissions = kinds.table_schema("emissions")
    assert emissions is not None
    sector = next(f for f in emissions["fields"] if f["name"] == "sector")
    assert sector["constraints"]["enum"] == [
        "residential",
        "tertiary",
        "road_transport",
        "other_transport",
        "agriculture",
        "waste",
        "industry",
        "energy",
        "lulucf",
    ]
    assert tuple(sector["constraints"]["enum"]) == vocabulary.SECTORS
    for kind, name in [("land_use", "land_use"), ("land_use_change", "to_land_use")]:
        descriptor = kinds.table_schema(kind)
        assert descriptor is not None
        field = next(f for f in descriptor["fields"] if f["name"] == name)
        assert field["constraints"]["enum"] == list(vocabulary.LAND_USES)
        assert len(vocabulary.LAND_USES) == 9


def test_generic_has_no_schema_and_copies_are_independent() -> None:
    assert kinds.table_schema("generic") is None
    assert kinds.table_schema("nope") is None
    first = kinds.table_schema("climate")
    assert first is not None
    first["fields"].clear()
    again = kinds.table_schema("climate")
    assert again is not None
    assert again["fields"]
    assert kinds.KINDS[-1] == "generic"
