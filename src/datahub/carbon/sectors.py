"""Sector and land-use ids of the territorial inventory, their French labels and predicates.

Sector ids are the eight PCAET sectors of the arrêté du 4 août 2016 plus ``lulucf`` (UTCATF).
"""

from __future__ import annotations

from typing import Final, TypeGuard

from datahub.vocabulary import EMISSION_SECTORS as EMISSION_SECTORS
from datahub.vocabulary import LAND_USES as LAND_USES
from datahub.vocabulary import SECTOR_LABELS_FR as SECTOR_LABELS_FR
from datahub.vocabulary import SECTORS as SECTORS
from datahub.vocabulary import EmissionSector as EmissionSector
from datahub.vocabulary import LandUse as LandUse
from datahub.vocabulary import Sector as Sector
from datahub.vocabulary import sector_for_naf as sector_for_naf

LULUCF: Final = "lulucf"

#: Sectors whose emissions follow the heating season (climate correction applies to them).
HEATING_SENSITIVE_SECTORS: Final[tuple[EmissionSector, ...]] = ("residential", "tertiary")

LAND_USE_LABELS_FR: Final[dict[LandUse, str]] = {
    "forest": "Forêts",
    "grassland": "Prairies",
    "cropland": "Cultures",
    "vineyard": "Vignes",
    "orchard": "Vergers",
    "hedges": "Haies",
    "wetland": "Zones humides",
    "artificial": "Sols artificiels",
    "water": "Eaux",
}


def is_sector(value: str) -> TypeGuard[Sector]:
    return value in SECTORS


def is_land_use(value: str) -> TypeGuard[LandUse]:
    return value in LAND_USES
