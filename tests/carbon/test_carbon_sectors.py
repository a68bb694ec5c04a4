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


# Every division of the NAF rév. 2 (INSEE, 88 divisions in 21 sections), with the sector each one
# belongs to. 09 (mining support) and 49 (land transport) split by group and are checked above.
NAF_DIVISIONS = {
    "agriculture": ("01", "02", "03"),
    "energy": ("05", "06", "19", "35"),
    "industry": ("07", "08", *(f"{d:02d}" for d in range(10, 34) if d != 19), "41", "42", "43"),
    "waste": ("37", "38", "39"),
    "other_transport": ("50", "51"),
    "road_transport": ("53",),
    "residential": ("97", "98"),
    "tertiary": (
        "36", "45", "46", "47", "52", "55", "56", "58", "59", "60", "61", "62", "63", "64",
        "65", "66", "68", "69", "70", "71", "72", "73", "74", "75", "77", "78", "79", "80",
        "81", "82", "84", "85", "86", "87", "88", "90", "91", "92", "93", "94", "95", "96", "99",
    ),
}  # fmt: skip


def test_every_naf_division_has_one_sector_and_gaps_have_none() -> None:
    listed = [d for divisions in NAF_DIVISIONS.values() for d in divisions]
    assert len(listed) == len(set(listed)) == 86  # 88 divisions, less the split 09 and 49
    for sector, divisions in NAF_DIVISIONS.items():
        for division in divisions:
            assert sector_for_naf(f"{division}.00Z") == sector, division
    # Numbers the NAF leaves unused are not divisions: no sector rather than a guess.
    for gap in ("04", "34", "40", "44", "48", "54", "57", "67", "76", "83", "89"):
        assert sector_for_naf(f"{gap}.00Z") is None, gap


def test_the_sirene_connector_uses_the_same_mapping() -> None:
    import connectors.sirene as sirene

    assert sirene.sector_for_naf is sector_for_naf
