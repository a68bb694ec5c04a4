"""Units, GWP sets and activity × factor, against the shared reference-factors.csv."""

from __future__ import annotations

import csv

import pytest

from datahub.carbon.units import (
    DEFAULT_PCS_PCI_RATIOS,
    GWP100,
    activity_emissions_tco2e,
    convert,
    fuel_from_label,
    normalise_unit,
    parse_unit,
    to_tco2e,
)
from datahub.errors import UnitMismatch, ValidationFailed
from tests.paths import TEST_DATA

FACTORS = {
    row["key"]: float(row["value"])
    for row in csv.DictReader(
        (TEST_DATA / "reference/reference-factors.csv").open(encoding="utf-8")
    )
}


def test_shipped_gwp_and_pcs_pci_ratios_match_the_reference_file() -> None:
    for gwp_set in ("ar4", "ar5"):
        assert GWP100[gwp_set]["CH4_fossil"] == FACTORS[f"gwp100_ch4_{gwp_set}"]
        assert GWP100[gwp_set]["N2O"] == FACTORS[f"gwp100_n2o_{gwp_set}"]
    assert GWP100["ar6"]["CH4_fossil"] == FACTORS["gwp100_ch4_ar6_fossil"]
    assert GWP100["ar6"]["CH4_non_fossil"] == FACTORS["gwp100_ch4_ar6_nonfossil"]
    assert GWP100["ar6"]["N2O"] == FACTORS["gwp100_n2o_ar6"]
    assert DEFAULT_PCS_PCI_RATIOS == {
        "natural_gas": FACTORS["natural_gas_pcs_per_pci"],
        "fuel_oil": FACTORS["fuel_oil_pcs_per_pci"],
        "lpg": FACTORS["lpg_pcs_per_pci"],
        "coal": FACTORS["coal_pcs_per_pci"],
    }


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (1500.0, "kgCO2e", 1.5),
        (2.0, "ktCO2e", 2000.0),
        (0.25, "MtCO2e", 250_000.0),
        (3.0, "tCO2e", 3.0),
        (7.0, "t CO2-eq", 7.0),  # French spellings are normalised
        (7.0, "teqCO2", 7.0),
        (12.0, "tC", 44.0),  # 12 tC × 44/12 = 44 tCO2
    ],
)
def test_co2e_masses_convert_to_tonnes(value: float, unit: str, expected: float) -> None:
    assert to_tco2e(value, unit) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "unit", "ghg", "gwp_set", "expected"),
    [
        # research/carbon.md §4 example 4: 10 t CH4 = 280 (AR5) / 298 (AR6 fossil) tCO2e
        (10.0, "tCH4", None, "ar5", 280.0),
        (10.0, "tCH4", "CH4", "ar6", 298.0),  # unqualified CH4 is fossil in AR6 (29.8)
        (10.0, "tCH4", "CH4b", "ar6", 270.0),  # biogenic: 27.0
        (10.0, "tCH4", None, "ar4", 250.0),
        (1.0, "tN2O", None, "ar5", 265.0),
        (1.0, "tN2O", "N2O", "ar6", 273.0),
        (1000.0, "kgN2O", None, "ar4", 298.0),
        (2.0, "t", "CH4", "ar5", 56.0),  # plain mass takes its gas from ghg
        (2.0, "kt", "CO2e", "ar5", None),  # "kt" is a knot in pint: not a mass -> mismatch
        (5.0, "tCO2e", "CH4", "ar6", 5.0),  # a CH4 line already in CO2e is not re-weighted
    ],
)
def test_gas_masses_use_the_chosen_gwp_set(
    value: float, unit: str, ghg: str | None, gwp_set: str, expected: float | None
) -> None:
    if expected is None:
        with pytest.raises(UnitMismatch):
            to_tco2e(value, unit, ghg, gwp_set)  # type: ignore[arg-type]
    else:
        assert to_tco2e(value, unit, ghg, gwp_set) == pytest.approx(expected)  # type: ignore[arg-type]


def test_a_gas_mass_contradicting_the_ghg_column_names_the_row() -> None:
    with pytest.raises(UnitMismatch) as caught:
        to_tco2e(1.0, "tCH4", "N2O", "ar5", row=4)
    assert caught.value.errors[0].row == 4
    assert caught.value.errors[0].field == "ghg"
    assert caught.value.status == 422


def test_unknown_units_and_gases_are_422_naming_the_row() -> None:
    with pytest.raises(ValidationFailed) as caught:
        to_tco2e(1.0, "furlongs of CO2", row=9)
    assert caught.value.errors[0].row == 9
    with pytest.raises(ValidationFailed):
        to_tco2e(1.0, "tCO2e", "SF42", row=9)
    with pytest.raises(UnitMismatch):
        to_tco2e(1.0, "kWh", row=9)  # energy is not an emission


def test_example_4_road_diesel_scope_1_and_total() -> None:
    # 1,000,000 L × 2.51 kgCO2e/L = 2,510,000 kg = 2,510 t; × 3.17 = 3,170 t
    assert activity_emissions_tco2e(1_000_000, "L", 2.51, "L") == pytest.approx(2510.0)
    total = activity_emissions_tco2e(1000, "m3", FACTORS["diesel_road_total"], "litre")
    assert total == pytest.approx(3170.0)  # 1000 m3 = 1,000,000 L


def test_example_4_gas_bill_in_kwh_pcs_against_a_kwh_pci_factor() -> None:
    factor = FACTORS["natural_gas_pci_legacy"]  # 0.227 kgCO2e/kWh PCI
    # Without a ratio: an error naming the row, never the silent 2,270 t (11 % too high)
    with pytest.raises(UnitMismatch) as caught:
        activity_emissions_tco2e(10_000_000, "kWh PCS", factor, "kWh PCI", row=17)
    assert caught.value.errors[0].row == 17
    assert "PCS" in caught.value.errors[0].message
    # A ratio for another fuel does not help either
    with pytest.raises(UnitMismatch):
        activity_emissions_tco2e(
            10_000_000, "kWh PCS", factor, "kWh PCI", {"lpg": 1.09}, fuel="natural_gas"
        )
    # With natural gas's 1.11: 10,000,000 / 1.11 = 9,009,009 kWh PCI × 0.227 = 2,045.05 t
    tco2e = activity_emissions_tco2e(
        10_000_000, "kWh PCS", factor, "kWh PCI", DEFAULT_PCS_PCI_RATIOS, fuel="natural_gas"
    )
    assert tco2e == pytest.approx(2045.045, abs=0.001)
    # The same in GWh PCS and with the factor written as a full unit in t/MWh
    assert activity_emissions_tco2e(
        10, "GWh PCS", 0.227, "tCO2e/MWh PCI", {"natural_gas": 1.11}, fuel="natural_gas"
    ) == pytest.approx(2045.045, abs=0.001)


def test_pci_quantity_against_a_pcs_factor_multiplies_by_the_ratio() -> None:
    # 1,000 kWh PCI of fuel oil = 1,070 kWh PCS; × 0.3 kgCO2e/kWh PCS = 321 kg
    tco2e = activity_emissions_tco2e(
        1000, "kWh PCI", 0.3, "kWh PCS", DEFAULT_PCS_PCI_RATIOS, fuel="fuel_oil"
    )
    assert tco2e == pytest.approx(0.321)


def test_electricity_in_gwh_against_a_per_kwh_factor() -> None:
    # 50 GWh = 50,000,000 kWh × 0.052 kg = 2,600 t
    assert activity_emissions_tco2e(50, "GWh", 0.052, "kWh") == pytest.approx(2600.0)
    # plain kWh is the net (PCI) basis, the Base Carbone convention
    assert activity_emissions_tco2e(1000, "MWh", 0.227, "kWh PCI") == pytest.approx(227.0)


def test_passenger_and_tonne_kilometres() -> None:
    # Base Carbone writes "kgCO2e/passager.km"; 2,000,000 pkm × 0.0253 kg = 50.6 t
    assert activity_emissions_tco2e(
        2_000_000, "pkm", 0.0253, "kgCO2e/passager.km"
    ) == pytest.approx(50.6)
    assert activity_emissions_tco2e(1000, "t.km", 0.1, "tonne.km") == pytest.approx(0.1)
    with pytest.raises(UnitMismatch) as caught:  # vehicle-km is not passenger-km
        activity_emissions_tco2e(1000, "km", 0.0253, "pkm", row=3)
    assert caught.value.errors[0].row == 3
    with pytest.raises(UnitMismatch):
        activity_emissions_tco2e(1000, "L", 2.51, "kWh", row=3)


def test_normalise_and_convert() -> None:
    assert normalise_unit("kWh (PCS)") == "kWh_PCS"
    assert normalise_unit("MWh pci") == "MWh_PCI"
    assert str(parse_unit("tCO2e/ha/an")) == "tCO2e / hectare / year"
    assert convert(3, "GWh", "kWh") == pytest.approx(3_000_000)
    with pytest.raises(UnitMismatch):
        convert(3, "kWh PCS", "kWh")  # no ratio, no conversion


def test_fuel_from_label() -> None:
    assert fuel_from_label("Gaz naturel - 2015 - mix moyen - consommation") == "natural_gas"
    assert fuel_from_label("Fioul domestique") == "fuel_oil"
    assert fuel_from_label("Propane") == "lpg"
    assert fuel_from_label("Électricité - mix moyen") is None
    assert fuel_from_label("Charbon et gaz naturel") is None  # two fuels: no guess
