"""The shared vocabulary of the territorial inventory: PCAET sector ids (arrêté du 4 août 2016,
plus ``lulucf`` for UTCATF), the land-use ids of contract §4 and the one NAF → sector mapping.
One list, used by the Table Schemas' checks, the actor schema, the carbon engine and (through
the ingest contract) the SIRENE connector."""

from __future__ import annotations

import re
from typing import Final, Literal, get_args

#: Access level of a licence, and so of a dataset (contract §2).
AccessLevel = Literal["open", "shared", "restricted"]

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


# NAF rév. 2 divisions (two digits) → PCAET sector. Divisions that split across sectors are
# refined by group (three digits) in _NAF_GROUPS. Rules (CITEPA/PCAET conventions):
# - A 01-03 agriculture, forestry and fishing → agriculture (engines and boats of the primary
#   sector are counted in agriculture in the PCAET/SECTEN inventories);
# - B 05-06 coal, oil and gas extraction, C 19 coking and refining, D 35 electricity, gas, steam
#   → energy ("branche énergie"; the GHG of power and heat production are counted where they are
#   consumed in a PCAET total, but the actor's own sector is still the energy branch);
#   09.1 support to oil and gas extraction → energy, 07, 08, 09.9 other mining → industry;
# - C 10-33 (except 19) manufacturing and F 41-43 construction → industry;
# - E 37-39 sewerage, waste collection and treatment, remediation → waste; 36 water supply →
#   tertiary (a network service, mostly electricity use);
# - H 49.1-49.2 rail, 49.5 pipelines, 50 water, 51 air → other_transport; 49.3-49.4 road
#   passengers and freight, 53 postal and courier (fleets) → road_transport; 52 warehousing
#   → tertiary;
# - 97-98 households as employers → residential; every other service division → tertiary.
_NAF_DIVISIONS: Final[dict[str, EmissionSector]] = {
    **dict.fromkeys(("01", "02", "03"), "agriculture"),
    **dict.fromkeys(("05", "06"), "energy"),
    **dict.fromkeys(("07", "08"), "industry"),
    **{f"{d:02d}": "industry" for d in range(10, 34) if d != 19},
    "19": "energy",
    "35": "energy",
    "36": "tertiary",
    **dict.fromkeys(("37", "38", "39"), "waste"),
    **dict.fromkeys(("41", "42", "43"), "industry"),
    **dict.fromkeys(("45", "46", "47"), "tertiary"),
    **dict.fromkeys(("50", "51"), "other_transport"),
    "52": "tertiary",
    "53": "road_transport",
    **dict.fromkeys(
        (
            *("55", "56", "58", "59", "60", "61", "62", "63", "64", "65", "66", "68"),
            *("69", "70", "71", "72", "73", "74", "75", "77", "78", "79", "80", "81", "82"),
            *("84", "85", "86", "87", "88", "90", "91", "92", "93", "94", "95", "96"),
        ),
        "tertiary",
    ),
    **dict.fromkeys(("97", "98"), "residential"),
    "99": "tertiary",
}
_NAF_GROUPS: Final[dict[str, EmissionSector]] = {
    "09.1": "energy",
    "09.9": "industry",
    "49.1": "other_transport",
    "49.2": "other_transport",
    "49.3": "road_transport",
    "49.4": "road_transport",
    "49.5": "other_transport",
}
_NAF_RE = re.compile(r"^(\d{2})(?:\.?(\d)(\d?))?[A-Z]?$")


def sector_for_naf(code: str | None) -> EmissionSector | None:
    """PCAET sector of a NAF rév. 2 code (``"35.11Z"``, ``"3511Z"``, ``"49.41"``, ``"01"``).

    Returns None for an empty, malformed or unknown code, and for a split division (09, 49)
    given without its group. NAF 2025 codes keep the same divisions for these sectors, so they
    map the same way.
    """
    if not code:
        return None
    match = _NAF_RE.match(code.strip().upper().replace(" ", ""))
    if match is None:
        return None
    division, group_digit = match.group(1), match.group(2)
    if group_digit is not None and (group := f"{division}.{group_digit}") in _NAF_GROUPS:
        return _NAF_GROUPS[group]
    if division in ("09", "49"):
        return None
    return _NAF_DIVISIONS.get(division)


#: The sectors' names in the French inventories (and in people's spreadsheets).
SECTOR_LABELS_FR: Final[dict[Sector, str]] = {
    "residential": "Résidentiel",
    "tertiary": "Tertiaire",
    "road_transport": "Transport routier",
    "other_transport": "Autres transports",
    "agriculture": "Agriculture",
    "waste": "Déchets",
    "industry": "Industrie hors branche énergie",
    "energy": "Branche énergie",
    "lulucf": "UTCATF (séquestration)",
}

#: The tag of synthetic demonstration datasets (``datahub demo``): a chart drawn from them says
#: so on its face.
DEMO_TAG: Final = "démo"
