"""The ingest-time conversion keeps the gas so the GWP set can be chosen per request."""

from __future__ import annotations

import pytest

from datahub.carbon.indexing import gas_mass, most_specific_first
from datahub.carbon.units import GWP_SETS, gwp, to_tco2e
from datahub.errors import UnitMismatch


@pytest.mark.parametrize(
    ("value", "unit", "ghg"),
    [
        (2.5, "ktCO2e", ""),
        (800000, "kgCO2e", "CO2e"),
        (3, "ktCO2e", "CH4"),  # CH4 already expressed in CO2e stays as is
        (10, "tCH4", "CH4"),
        (10, "kgCH4", "CH4b"),
        (1, "tN2O", ""),
        (4, "t", "N2O"),
        (7, "tCO2", "CO2"),
    ],
)
def test_gas_mass_matches_to_tco2e_in_every_gwp_set(value: float, unit: str, ghg: str) -> None:
    _label, gas, multiplier = gas_mass(unit, ghg)
    for gwp_set in GWP_SETS:
        factor = 1.0 if gas == "CO2e" else gwp(gas, gwp_set)  # type: ignore[arg-type]
        expected = to_tco2e(value, unit, ghg, gwp_set)
        assert value * multiplier * factor == pytest.approx(expected)


def test_gas_mass_refuses_a_contradiction() -> None:
    with pytest.raises(UnitMismatch):
        gas_mass("tCH4", "N2O")
    with pytest.raises(UnitMismatch):
        gas_mass("kWh", "")


def test_chain_order_is_most_specific_first() -> None:
    codes = {"country:FR", "departement:17", "epci:241700434", "region:75"}
    assert most_specific_first(codes) == [
        "epci:241700434",
        "departement:17",
        "region:75",
        "country:FR",
    ]
