"""Sector and land-use ids (contract §4) and the NAF → PCAET sector mapping."""

from __future__ import annotations

import pytest

from datahub.carbon.sectors import (
    EMISSION_SECTORS,
    LAND_USES,
    SECTORS,
    is_land_use,
    is_sector,
    sector_for_naf,
)


def test_ids_are_the_contract_ids() -> None:
    assert EMISSION_SECTORS == (
        "residential", "tertiary", "road_transport", "other_transport",
        "agriculture", "waste", "industry", "energy",
    )  # fmt: skip
    assert SECTORS == (*EMISSION_SECTORS, "lulucf")
    assert set(LAND_USES) == {
        "forest", "grassland", "cropland", "vineyard", "orchard",
        "hedges", "wetland", "artificial", "water",
    }  # fmt: skip
    assert is_sector("lulucf")
    assert not is_sector("transport")
    assert is_land_use("wetland")
    assert not is_land_use("marsh")


@pytest.mark.parametrize(
    ("naf", "sector"),
    [
        ("01.11Z", "agriculture"),  # cereal growing
        ("0311Z", "agriculture"),  # sea fishing
        ("35.11Z", "energy"),  # electricity production
        ("19.20Z", "energy"),  # refining
        ("06.20Z", "energy"),  # natural gas extraction
        ("09.10Z", "energy"),  # support to oil and gas extraction
        ("09.90Z", "industry"),  # support to other mining
        ("08.12Z", "industry"),  # quarries
        ("23.51Z", "industry"),  # cement
        ("43.21A", "industry"),  # construction works
        ("38.21Z", "waste"),  # waste treatment
        ("37.00Z", "waste"),  # sewerage
        ("49.10Z", "other_transport"),  # interurban rail
        ("49.41A", "road_transport"),  # road freight
        ("49.31Z", "road_transport"),  # urban passenger transport
        ("50.10Z", "other_transport"),  # sea passenger transport
        ("51.10Z", "other_transport"),  # air
        ("52.10B", "tertiary"),  # warehousing
        ("53.20Z", "road_transport"),  # couriers
        ("47.11F", "tertiary"),  # hypermarkets
        ("84.11Z", "tertiary"),  # public administration
        ("85.42Z", "tertiary"),  # university
        ("97.00Z", "residential"),  # households as employers
        (" 86.10z ", "tertiary"),  # spaces and case tolerated
    ],
)
def test_naf_to_pcaet_sector(naf: str, sector: str) -> None:
    assert sector_for_naf(naf) == sector


@pytest.mark.parametrize("naf", [None, "", "XX", "49", "09", "04.00Z", "3A.11Z", "35.11.2"])
def test_unknown_or_ambiguous_naf_codes_map_to_nothing(naf: str | None) -> None:
    assert sector_for_naf(naf) is None
