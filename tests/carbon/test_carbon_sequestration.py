"""Sequestration against ALDO's own figures (research/carbon.md §4 examples 1-3), through
:func:`compute_sequestration`, which the trajectories run (``carbon.sequestration_inputs``).

ALDO publishes fluxes with positive = storage, per ha of land converted per year; a progressive
change is ``f`` tC/ha/yr for 20 years, an instantaneous one ``f`` tC/ha once. Our change factor
is tCO2e (or tC) per ha converted, positive = emission, so an ALDO flux enters as
``−f × N`` tC/ha with N = 20 (progressive) or 1 (instantaneous). CLC 2012→2018 change areas
are divided by 6 to give ha per year.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict

import pytest

from datahub.carbon.sequestration import (
    FactorTable,
    LandUseArea,
    LandUseChange,
    SequestrationFactor,
    compute_sequestration,
    residual_areas,
)
from datahub.errors import UnitMismatch, ValidationFailed
from tests.paths import TEST_DATA

ALDO = TEST_DATA / "reference/aldo"
C_TO_CO2 = 44 / 12
CROPLAND_CLC = {"211", "212", "213", "241", "242", "243", "244"}
GRASSLAND_CLC = {"231", "321", "322", "323"}


def _rows(name: str) -> list[dict[str, str]]:
    with (ALDO / name).open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _flux_zpc() -> dict[str, dict[str, float]]:
    return {
        r["zpc"]: {k: float(v) for k, v in r.items() if k != "zpc"} for r in _rows("flux-zpc.csv")
    }


def _annual_change_by_commune(
    name: str, from_codes: set[str], to_prefix: str | set[str]
) -> dict[str, float]:
    """ha/yr of CLC change per commune (2012→2018 area ÷ 6)."""
    areas: dict[str, float] = defaultdict(float)
    for row in _rows(name):
        to_ok = (
            row["code18"] in to_prefix
            if isinstance(to_prefix, set)
            else row["code18"].startswith(to_prefix)
        )
        if row["code12"] in from_codes and to_ok:
            areas[row["commune"]] += float(row["area_ha"]) / 6
    return dict(areas)


def test_example_1_nerondes_grassland_to_cropland_soil_flux() -> None:
    # 5 rows, 259.0030 ha over 2012-2018 -> 43.1672 ha/yr, all communes in ZPC 2_1;
    # prai_cult(2_1) = −0.72 tC/ha/yr × 20 = −14.4 tC/ha (ALDO: storage) -> +14.4 tC/ha emitted;
    # 43.1672 × 14.4 = 621.61 tC/yr lost, i.e. sequestration −621.61 tC = −2,279.23 tCO2e/yr.
    communes = {r["insee"]: r["zpc"] for r in _rows("nerondes-communes-zpc.csv")}
    flux = _flux_zpc()
    areas = _annual_change_by_commune("nerondes-clc12-18-change.csv", GRASSLAND_CLC, CROPLAND_CLC)
    assert sum(areas.values()) * 6 == pytest.approx(259.0030, abs=1e-4)
    factors = [
        SequestrationFactor(
            value=-flux[zpc]["prai_cult"] * 20,
            unit="tC/ha",
            from_land_use="grassland",
            to_land_use="cropland",
            territory=f"commune:{insee}",
        )
        for insee, zpc in communes.items()
    ]
    # less specific factors that must lose: the EPCI's and a default (ZPC 4_1's −1.37 × 20)
    factors.append(
        SequestrationFactor(999.0, "tCO2e/ha", None, "grassland", "cropland", "epci:200007177")
    )
    factors.append(
        SequestrationFactor(-flux["4_1"]["prai_cult"] * 20, "tC/ha", None, "grassland", "cropland")
    )
    changes = [
        LandUseChange(2018, f"commune:{insee}", "grassland", "cropland", ha)
        for insee, ha in areas.items()
    ]
    ancestors = {f"commune:{insee}": ["epci:200007177", "departement:18"] for insee in communes}
    result = compute_sequestration([], changes, factors, ancestors)
    assert result.by_year[2018] / C_TO_CO2 == pytest.approx(-621.61, abs=0.01)
    assert result.by_year[2018] == pytest.approx(-2279.23, abs=0.05)
    assert result.by_year_key[(2018, "grassland->cropland")] == result.by_year[2018]
    assert result.unmatched == ()


def test_example_2_la_rochelle_cropland_artificialisation() -> None:
    # Cropland (211/242) -> artificial (1xx). ALDO splits artificial 80 % sealed / 20 % green:
    # soil per ha converted = 0.8 × cult_art_imp + 0.2 × cult_art_enh (instantaneous, ×1),
    #   ZPC 4_1: 0.8 × −18 + 0.2 × 36 = −7.2 tC/ha; ZPC 2_1: 0.8 × −20 + 0.2 × 19 = −12.2;
    # biomass (SUD-OUEST, region 75) cultures -> arbustifs 0.35 tC/ha/yr × 20 on the green 20 %:
    #   0.2 × 7 = +1.4 tC/ha (cultures -> imperméabilisés has no value: 0).
    # Areas 152.8909 ha (4_1) and 5.5565 ha (2_1) over 6 years = 25.4818 and 0.9261 ha/yr:
    # soil 25.4818 × −7.2 + 0.9261 × −12.2 = −194.77 tC/yr; biomass 26.4079 × 1.4 = +36.97;
    # net −157.80 tC/yr = −578.59 tCO2/yr (ALDO sign = our removal sign).
    communes = {r["insee"]: r["zpc"] for r in _rows("la-rochelle-communes-zpc.csv")}
    flux = _flux_zpc()
    region = json.loads((ALDO / "region-to-inter-region.json").read_text(encoding="utf-8"))
    inter_region = region["75"]["interRegion"]
    biomass = next(r for r in _rows("biomass-hors-forets.csv") if r["INTER_REG"] == inter_region)
    shrub = float(biomass["cultures vers sols artificiels arbustifs"])
    assert (inter_region, shrub) == ("SUD-OUEST", 0.35)
    areas = _annual_change_by_commune("la-rochelle-clc12-18-change.csv", CROPLAND_CLC, "1")
    by_zpc: dict[str, float] = defaultdict(float)
    for insee, ha in areas.items():
        by_zpc[communes[insee]] += ha * 6
    assert by_zpc["4_1"] == pytest.approx(152.8909, abs=1e-4)
    assert by_zpc["2_1"] == pytest.approx(5.5565, abs=1e-4)

    changes = [
        LandUseChange(2018, f"commune:{insee}", "cropland", "artificial", ha)
        for insee, ha in areas.items()
    ]

    def soil(zpc: str) -> float:  # tC/ha stored (ALDO sign)
        return 0.8 * flux[zpc]["cult_art_imp"] + 0.2 * flux[zpc]["cult_art_enh"]

    def factors(stored_per_ha: dict[str, float]) -> list[SequestrationFactor]:
        return [
            SequestrationFactor(
                value=-stored_per_ha[zpc],
                unit="tC/ha",
                from_land_use="cropland",
                to_land_use="artificial",
                territory=f"commune:{insee}",
            )
            for insee, zpc in communes.items()
        ]

    soil_result = compute_sequestration([], changes, factors({z: soil(z) for z in flux}))
    biomass_result = compute_sequestration(
        [], changes, factors(dict.fromkeys(flux, 0.2 * shrub * 20))
    )
    total = compute_sequestration(
        [], changes, factors({z: soil(z) + 0.2 * shrub * 20 for z in flux})
    )
    assert soil_result.by_year[2018] / C_TO_CO2 == pytest.approx(-194.77, abs=0.01)
    assert biomass_result.by_year[2018] / C_TO_CO2 == pytest.approx(36.97, abs=0.01)
    assert total.by_year[2018] / C_TO_CO2 == pytest.approx(-157.80, abs=0.01)
    assert total.by_year[2018] == pytest.approx(-578.59, abs=0.01)


def test_example_3_poplar_flow_and_sign_conversion() -> None:
    # 14 ha × 1.020563092 tC/ha/yr = 14.2879 tC/yr = 52.3889 tCO2/yr stored; the file's
    # BILAN_CO2 is in inventory sign (−52.3889): our sequestration (removal) is its opposite.
    row = _rows("la-rochelle-biomasse-forets-peupleraies.csv")[0]
    area, per_ha = float(row["SURFACE"]), float(row["BILAN_CARB (tC∙ha-1∙an-1)"])
    result = compute_sequestration(
        [LandUseArea(2018, "epci:241700434", "forest", area)],
        [],
        [SequestrationFactor(per_ha, "tC/ha/yr", land_use="forest")],
    )
    assert result.by_year[2018] == pytest.approx(52.3889, abs=1e-4)
    assert result.by_year[2018] == pytest.approx(-float(row["BILAN_CO2 (tCO2∙an-1)"]), abs=1e-6)


def test_most_specific_territory_wins_and_missing_factors_are_reported() -> None:
    table = FactorTable(
        [
            SequestrationFactor(1.0, "tCO2e/ha/yr", land_use="grassland"),
            SequestrationFactor(2.0, "tCO2e/ha/yr", land_use="grassland", territory="epci:1"),
            SequestrationFactor(3.0, "tCO2e/ha/yr", land_use="grassland", territory="commune:a"),
        ]
    )
    chains = {"commune:a": ["epci:1"], "commune:b": ["epci:1"], "commune:c": ["epci:2"]}
    areas = [
        LandUseArea(2020, "commune:a", "grassland", 10),  # own factor: 30
        LandUseArea(2020, "commune:b", "grassland", 10),  # its EPCI's: 20
        LandUseArea(2020, "commune:c", "grassland", 10),  # the default: 10
        LandUseArea(2020, "commune:c", "water", 5),  # no factor at all: 0, reported
    ]
    # land-use change: 2 ha cropland -> artificial at 66 tCO2e/ha emitted = −132
    changes = [LandUseChange(2020, "commune:a", "cropland", "artificial", 2)]
    table_with_change = FactorTable(
        [
            SequestrationFactor(1.0, "tCO2e/ha/yr", land_use="grassland"),
            SequestrationFactor(2.0, "tCO2e/ha/yr", land_use="grassland", territory="epci:1"),
            SequestrationFactor(3.0, "tCO2e/ha/yr", land_use="grassland", territory="commune:a"),
            SequestrationFactor(18.0, "tC/ha", None, "cropland", "artificial"),
        ]
    )
    assert compute_sequestration(areas, [], table, chains).by_year == {2020: 60.0}
    result = compute_sequestration(areas, changes, table_with_change, chains)
    assert result.by_year[2020] == pytest.approx(60.0 - 2 * 18 * 44 / 12)
    assert result.unmatched == (("commune:c", "water"),)


def test_rolled_up_areas_take_the_factor_of_the_most_specific_territory_having_one() -> None:
    # What the trajectory runs (carbon.sequestration_inputs): areas rolled up per territory.
    # EPCI 30 ha of grassland, 10 of them in commune a (own factor 3), 4 of those in IRIS a1
    # (own factor 5); the EPCI's factor is 2. Each takes its area minus what nests in it:
    # EPCI 30 − 10 = 20 × 2 = 40, commune 10 − 4 = 6 × 3 = 18, IRIS 4 × 5 = 20: 78.
    # 2 ha cropland -> artificial at the default 18 tC/ha: −2 × 18 × 44/12 = −132; 78 − 132.
    # A zero area counts for nothing: 2021 has no removal at all (not 0).
    table = FactorTable(
        [
            SequestrationFactor(2.0, "tCO2e/ha/yr", land_use="grassland", territory="epci:1"),
            SequestrationFactor(3.0, "tCO2e/ha/yr", land_use="grassland", territory="commune:a"),
            SequestrationFactor(5.0, "tCO2e/ha/yr", land_use="grassland", territory="iris:a1"),
            SequestrationFactor(18.0, "tC/ha", None, "cropland", "artificial"),
        ]
    )
    areas = {
        ("epci:1", 2020, "flow", "grassland"): 30.0,
        ("commune:a", 2020, "flow", "grassland"): 10.0,
        ("iris:a1", 2020, "flow", "grassland"): 4.0,
        ("epci:1", 2020, "change", "cropland->artificial"): 2.0,
        ("epci:1", 2021, "flow", "grassland"): 0.0,
    }
    owners = {"grassland": {"commune:a", "iris:a1"}}
    chains = {"commune:a": ["epci:1", "departement:1"], "iris:a1": ["commune:a", "epci:1"]}
    flows, changes = residual_areas(areas, "epci:1", owners, chains)
    result = compute_sequestration(flows, changes, table, {"epci:1": ["departement:1"]})
    assert result.by_year == {2020: pytest.approx(78.0 - 2 * 18 * 44 / 12)}
    assert sorted(result.matched) == [
        ("commune:a", "grassland"),
        ("epci:1", "cropland->artificial"),
        ("epci:1", "grassland"),
        ("iris:a1", "grassland"),
    ]


def test_bad_factor_rows_are_422_naming_the_row() -> None:
    with pytest.raises(UnitMismatch) as caught:  # a flow given per ha, not per ha and year
        FactorTable([SequestrationFactor(1.0, "tCO2e/ha", land_use="forest", row=5)])
    assert caught.value.errors[0].row == 5
    with pytest.raises(ValidationFailed) as caught_land_use:
        FactorTable([SequestrationFactor(1.0, "tCO2e/ha/yr", land_use="moon", row=6)])
    assert caught_land_use.value.errors[0].row == 6
    with pytest.raises(ValidationFailed) as duplicate:
        FactorTable(
            [
                SequestrationFactor(1.0, "tCO2e/ha/yr", land_use="forest", row=1),
                SequestrationFactor(2.0, "tCO2e/ha/yr", land_use="forest", row=2),
            ]
        )
    assert duplicate.value.errors[0].row == 2
