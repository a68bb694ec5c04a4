"""The shared vocabulary of the territorial inventory: PCAET sector ids (arrêté du 4 août 2016,
plus ``lulucf`` for UTCATF) and the land-use ids of contract §4. One list, used by the Table
Schemas' checks, the actor schema and the carbon engine."""

from __future__ import annotations

from typing import Final, Literal, get_args

Sector = Literal[
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
EmissionSector = Literal[
    "residential",
    "tertiary",
    "road_transport",
    "other_transport",
    "agriculture",
    "waste",
    "industry",
    "energy",
]
LandUse = Literal[
    "forest",
    "grassland",
    "cropland",
    "vineyard",
    "orchard",
    "hedges",
    "wetland",
    "artificial",
    "water",
]

SECTORS: Final[tuple[Sector, ...]] = get_args(Sector)
EMISSION_SECTORS: Final[tuple[EmissionSector, ...]] = get_args(EmissionSector)
LAND_USES: Final[tuple[LandUse, ...]] = get_args(LandUse)
