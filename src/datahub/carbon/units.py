"""Units of the carbon engine, on a pint registry, and the two conversions to tCO2e.

Dimensions added to pint's defaults:

- ``[co2e_mass]``: ``gCO2e`` … ``kgCO2e``, ``tCO2e``, ``ktCO2e``, ``MtCO2e``. A mass of CO2 is a
  mass of CO2e (GWP 1 in every set) and a mass of carbon is ``44/12`` of it (``tC`` — carbon stocks
  and fluxes are CO2 once oxidised).
- ``[ch4_mass]``, ``[n2o_mass]``: ``tCH4``, ``kgN2O``… Turning them into CO2e takes a GWP set, so
  it is never a plain unit conversion (see :func:`to_tco2e`).
- ``[energy_pcs]``: ``Wh_PCS`` … ``GWh_PCS`` (gross calorific value, what gas bills count). Plain
  energy units (``kWh``, ``MWh``, ``J``) and ``kWh_PCI`` are net calorific value, the Base Carbone
  convention for fuel factors and the only basis for electricity and heat. PCS → PCI needs the
  fuel's ratio (arrêté du 15 septembre 2006, annexe IV), so it is never implicit either.
- ``[passenger]``: ``pkm`` (passenger·km); ``tkm`` is tonne·km.

Unit strings are written the French way and normalised first: ``"kWh PCS"``, ``"kWh (PCI)"``,
``"kgCO2e/passager.km"``, ``"t.km"``, ``"teqCO2"``, ``"kg CO2e"``, ``"m3"``, ``"an"`` (year).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final, Literal

import pint

from datahub.errors import FieldError, UnitMismatch, ValidationFailed

GwpSet = Literal["ar4", "ar5", "ar6"]
Gas = Literal["CO2", "CH4_fossil", "CH4_non_fossil", "N2O"]

GWP_SETS: Final[tuple[GwpSet, ...]] = ("ar4", "ar5", "ar6")
DEFAULT_GWP_SET: Final[GwpSet] = "ar5"

#: GWP-100 (kgCO2e per kg of gas). AR4 WG1 Table 2.14, AR5 WG1 Table 8.7, AR6 WG1 Table 7.15.
#: AR4 and AR5 give one CH4 value; AR6 separates fossil (29.8) from non-fossil (27.0) CH4, and a
#: row that only says "CH4" is taken as fossil (the higher, conservative value): write
#: ``CH4b``/``CH4_non_fossil`` in the ``ghg`` column for biogenic methane (livestock, waste).
GWP100: Final[Mapping[GwpSet, Mapping[Gas, float]]] = {
    "ar4": {"CO2": 1.0, "CH4_fossil": 25.0, "CH4_non_fossil": 25.0, "N2O": 298.0},
    "ar5": {"CO2": 1.0, "CH4_fossil": 28.0, "CH4_non_fossil": 28.0, "N2O": 265.0},
    "ar6": {"CO2": 1.0, "CH4_fossil": 29.8, "CH4_non_fossil": 27.0, "N2O": 273.0},
}

#: PCS/PCI ratios (gross / net calorific value), arrêté du 15 septembre 2006, annexe IV.
#: Shipped as defaults for the settings; the conversions only use the ratios they are given.
DEFAULT_PCS_PCI_RATIOS: Final[Mapping[str, float]] = {
    "natural_gas": 1.11,
    "fuel_oil": 1.07,
    "lpg": 1.09,
    "coal": 1.04,
}

CO2E: Final = "tCO2e"

ureg: Final[pint.UnitRegistry[float]] = pint.UnitRegistry(cache_folder=None)
for _definition in (
    "gram_CO2e = [co2e_mass] = gCO2e = gCO2eq",
    "tCO2e = 1e6 * gCO2e = tCO2eq",
    "gCO2 = gCO2e",
    "tCO2 = 1e6 * gCO2",
    "gC = 44 / 12 * gCO2e",
    "tC = 1e6 * gC",
    "gram_CH4 = [ch4_mass] = gCH4",
    "tCH4 = 1e6 * gCH4",
    "gram_N2O = [n2o_mass] = gN2O",
    "tN2O = 1e6 * gN2O",
    "Wh_PCS = [energy_pcs]",
    "J_PCS = Wh_PCS / 3600",
    "Wh_PCI = watt_hour",
    "J_PCI = joule",
    "passenger = [passenger] = passager = voyageur",
    "pkm = passenger * kilometer = passenger_km",
    "tkm = tonne * kilometer = tonne_km",
    "m3 = meter ** 3",
    "@alias year = an",
):
    ureg.define(_definition)

_MASS_PREFIX = r"(?:[kMG]?t|[mk]?g)"
# "kWh PCS", "kWh (PCI)", "MWh_pcs", "kWhPCS" -> kWh_PCS / kWh_PCI
_BASIS_RE: Final = re.compile(r"(Wh|J)\s*_?\s*[(\[]?\s*(PCS|PCI)\s*[)\]]?", re.IGNORECASE)
_NORMALISE: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    # passenger·km and tonne·km as Base Carbone writes them
    (re.compile(r"\b(?:passagers?|voyageurs?|passengers?|p)\s*[.·*×]\s*km\b"), "pkm"),
    (re.compile(r"\b(?:tonnes?|t)\s*[.·*×]\s*km\b"), "tkm"),
    (re.compile(r"CO₂"), "CO2"),
    # CO2 equivalent spellings: "CO2eq", "CO2-eq", "CO2 éq.", "eqCO2", "éq.CO2"
    (re.compile(r"(?:[eé]q\.?\s*CO2|CO2\s*-?\s*[eé]q\.?)(?![a-zA-Z])"), "CO2e"),
    # "kg CO2e" -> "kgCO2e"
    (re.compile(rf"\b({_MASS_PREFIX})\s+(CO2e|CO2|CH4|N2O|C)\b"), r"\1\2"),
    (re.compile(r"\blitres?\b"), "liter"),
)


def normalise_unit(unit: str) -> str:
    """Rewrite the French spellings listed in the module docstring into registry names."""
    text = _BASIS_RE.sub(lambda m: f"{m.group(1)}_{m.group(2).upper()}", unit.strip())
    for pattern, replacement in _NORMALISE:
        text = pattern.sub(replacement, text)
    return text


def _unit_error(row: int | None, field: str, message: str) -> ValidationFailed:
    where = f"row {row}: " if row is not None else ""
    return ValidationFailed(detail=where + message, errors=[FieldError(row, field, message)])


def _mismatch(row: int | None, field: str, message: str) -> UnitMismatch:
    where = f"row {row}: " if row is not None else ""
    return UnitMismatch(detail=where + message, errors=[FieldError(row, field, message)])


def parse_unit(unit: str, *, row: int | None = None, field: str = "unit") -> pint.Unit:
    """Parse a unit string; an unknown or empty unit is a 422 naming ``row`` and ``field``."""
    if not unit or not unit.strip():
        raise _unit_error(row, field, "unit is missing")
    try:
        parsed = ureg.parse_units(normalise_unit(unit))
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError, ValueError) as exc:
        raise _unit_error(row, field, f"unknown unit {unit!r}") from exc
    except Exception as exc:  # pint's tokenizer raises assorted errors on garbage input
        raise _unit_error(row, field, f"cannot read unit {unit!r}") from exc
    return parsed


def quantity(
    value: float, unit: str, *, row: int | None = None, field: str = "unit"
) -> pint.Quantity[float]:
    return ureg.Quantity(value, parse_unit(unit, row=row, field=field))


def convert(
    value: float, from_unit: str, to_unit: str, *, row: int | None = None, field: str = "unit"
) -> float:
    """Convert ``value`` between two units of the same dimension, or raise UnitMismatch."""
    source = quantity(value, from_unit, row=row, field=field)
    target = parse_unit(to_unit, row=row, field=field)
    if source.dimensionality != ureg.Quantity(1, target).dimensionality:
        raise _mismatch(row, field, f"cannot convert {from_unit!r} to {to_unit!r}")
    return float(source.to(target).magnitude)


_CO2E_DIM: Final = ureg.Quantity(1, "tCO2e").dimensionality
_MASS_DIM: Final = ureg.Quantity(1, "t").dimensionality
_GAS_DIMS: Final[Mapping[str, Literal["CH4", "N2O"]]] = {
    str(ureg.Quantity(1, "tCH4").dimensionality): "CH4",
    str(ureg.Quantity(1, "tN2O").dimensionality): "N2O",
}
_GAS_UNIT: Final[Mapping[str, str]] = {"CH4": "tCH4", "N2O": "tN2O"}
_ENERGY_DIM: Final = ureg.Quantity(1, "kWh").dimensionality
_ENERGY_PCS_DIM: Final = ureg.Quantity(1, "kWh_PCS").dimensionality

_GHG_ALIASES: Final[Mapping[str, Gas | Literal["CO2e", "CH4"]]] = {
    "co2e": "CO2e",
    "co2eq": "CO2e",
    "co2": "CO2",
    "co2f": "CO2",
    "co2_fossil": "CO2",
    "ch4": "CH4",
    "ch4f": "CH4_fossil",
    "ch4_fossil": "CH4_fossil",
    "ch4_fossile": "CH4_fossil",
    "ch4b": "CH4_non_fossil",
    "ch4_biogenic": "CH4_non_fossil",
    "ch4_biogenique": "CH4_non_fossil",
    "ch4_non_fossil": "CH4_non_fossil",
    "n2o": "N2O",
}


def parse_ghg(ghg: str | None, *, row: int | None = None) -> Gas | Literal["CO2e", "CH4"]:
    """Canonical gas of a ``ghg`` cell; empty means CO2e. ``"CH4"`` stays unqualified."""
    if ghg is None or not ghg.strip():
        return "CO2e"
    key = re.sub(r"[\s\-.]+", "_", ghg.strip().lower()).replace("é", "e").replace("-", "_")
    gas = _GHG_ALIASES.get(key)
    if gas is None:
        raise _unit_error(row, "ghg", f"unknown greenhouse gas {ghg!r} (CO2e, CO2, CH4, N2O)")
    return gas


def gwp(gas: Gas | Literal["CH4"], gwp_set: GwpSet = DEFAULT_GWP_SET) -> float:
    """GWP-100 of a gas; unqualified CH4 is fossil CH4 (only AR6 tells them apart)."""
    return GWP100[gwp_set]["CH4_fossil" if gas == "CH4" else gas]


def to_tco2e(
    value: float,
    unit: str,
    ghg: str | None = "CO2e",
    gwp_set: GwpSet = DEFAULT_GWP_SET,
    *,
    row: int | None = None,
) -> float:
    """tCO2e of one ``emissions`` row.

    A CO2e mass (``kgCO2e``, ``ktCO2e``, ``tC``…) is converted whatever the ``ghg`` (a CH4 line
    already expressed in CO2e stays as is). A gas mass (``tCH4``, ``kgN2O``) is multiplied by the
    gas's GWP-100 in ``gwp_set``; the ``ghg`` cell may qualify it (``CH4b``) but not contradict it.
    A plain mass (``t``, ``kg``) takes its gas from ``ghg``.
    """
    q = quantity(value, unit, row=row)
    gas = parse_ghg(ghg, row=row)
    dim = q.dimensionality
    if dim == _CO2E_DIM:
        return float(q.to(CO2E).magnitude)
    if dim == _MASS_DIM:
        if gas == "CO2e" or gas == "CO2":
            return float(q.to("t").magnitude)
        return float(q.to("t").magnitude) * gwp(gas, gwp_set)
    unit_gas = _GAS_DIMS.get(str(dim))
    if unit_gas is None:
        raise _mismatch(
            row, "unit", f"{unit!r} is not a mass of CO2e or of a greenhouse gas (e.g. tCO2e, tCH4)"
        )
    resolved: Gas | Literal["CH4"] = unit_gas if gas == "CO2e" else gas
    if not resolved.startswith(unit_gas):
        raise _mismatch(row, "ghg", f"unit {unit!r} is a mass of {unit_gas} but ghg is {ghg!r}")
    return float(q.to(_GAS_UNIT[unit_gas]).magnitude) * gwp(resolved, gwp_set)


_FUEL_KEYWORDS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    ("natural_gas", re.compile(r"gaz naturel|natural gas|\bGNV\b|\bGNL\b", re.IGNORECASE)),
    ("fuel_oil", re.compile(r"fioul|fuel[- ]oil|\bFOD\b|mazout", re.IGNORECASE)),
    ("lpg", re.compile(r"\bGPL\b|\bLPG\b|propane|butane", re.IGNORECASE)),
    ("coal", re.compile(r"charbon|houille|\bcoal\b|anthracite|lignite", re.IGNORECASE)),
)


def fuel_from_label(label: str | None) -> str | None:
    """Fuel key of DEFAULT_PCS_PCI_RATIOS named in a factor label, or None if none or several."""
    if not label:
        return None
    found = {fuel for fuel, pattern in _FUEL_KEYWORDS if pattern.search(label)}
    return found.pop() if len(found) == 1 else None


def _factor_quantity(value: float, factor_unit: str, row: int | None) -> pint.Quantity[float]:
    """The factor in CO2e per unit; ``factor_unit`` is ``"kWh"`` (kgCO2e/kWh) or ``"tCO2e/MWh"``."""
    unit = parse_unit(factor_unit, row=row, field="factor_unit")
    dims = ureg.Quantity(1, unit).dimensionality
    if dims.get("[co2e_mass]", 0) == 1:
        return ureg.Quantity(value, unit)
    return ureg.Quantity(value, ureg.Unit("kgCO2e") / unit)


def activity_emissions_tco2e(
    quantity_value: float,
    quantity_unit: str,
    factor_value_kgco2e_per_unit: float,
    factor_unit: str,
    pcs_pci_ratios: Mapping[str, float] | None = None,
    *,
    fuel: str | None = None,
    row: int | None = None,
) -> float:
    """tCO2e of an activity row: quantity converted to the factor's unit, times the factor.

    ``factor_unit`` is the factor's denominator (``"kWh PCI"``, ``"L"``, ``"pkm"``) with the
    value in kgCO2e per that unit, or a full unit such as ``"tCO2e/MWh"``. A quantity whose
    dimension differs from the denominator raises UnitMismatch naming ``row``. PCS and PCI
    energies are converted only with the ratio of ``fuel`` found in ``pcs_pci_ratios``
    (pass ``DEFAULT_PCS_PCI_RATIOS`` or the instance's settings); without it, a kWh PCS
    quantity against a per-kWh-PCI factor is a UnitMismatch, never a silent 11 % error.
    """
    activity = quantity(quantity_value, quantity_unit, row=row)
    factor = _factor_quantity(factor_value_kgco2e_per_unit, factor_unit, row)
    per = ureg.Quantity(1, "kgCO2e") / factor  # dimension of the factor's denominator
    have, want = activity.dimensionality, per.dimensionality

    if have != want:
        crossing = {have, want} == {_ENERGY_DIM, _ENERGY_PCS_DIM}
        if not crossing:
            raise _mismatch(
                row,
                "unit",
                f"quantity unit {quantity_unit!r} does not match the factor's unit "
                f"{factor_unit!r} ({have} vs {want})",
            )
        ratio = (pcs_pci_ratios or {}).get(fuel) if fuel else None
        if ratio is None or ratio <= 0:
            basis = "PCS" if have == _ENERGY_PCS_DIM else "PCI"
            other = "PCI" if basis == "PCS" else "PCS"
            missing = f"for fuel {fuel!r}" if fuel else "(the factor names no fuel)"
            raise _mismatch(
                row,
                "unit",
                f"quantity is in {basis} energy ({quantity_unit!r}) but the factor is per "
                f"{other} ({factor_unit!r}), and no PCS/PCI ratio is configured {missing}",
            )
        if have == _ENERGY_PCS_DIM:
            activity = ureg.Quantity(activity.to("kWh_PCS").magnitude / ratio, "kWh_PCI")
        else:
            activity = ureg.Quantity(activity.to("kWh_PCI").magnitude * ratio, "kWh_PCS")

    return float((activity * factor).to(CO2E).magnitude)
