"""ign-land-cover: hectares per land use and commune from CORINE Land Cover 2018 and BD Forêt v2.

Method (as ALDO, ADEME): the communes of the territory come from ADMIN EXPRESS (EPSG:4326,
projected here to Lambert-93 EPSG:2154 with pyproj); CLC polygons and BD Forêt formations are read
from the same WFS by bounding box, directly in EPSG:2154, and intersected with each commune with
shapely. Areas are in hectares of the Lambert-93 plane. CLC codes map to the contract land-use
ids as ALDO groups them (research note carbon.md §3.2). When BD Forêt is used (the default),
forest areas come from BD Forêt and the CLC forest classes are left out, as ALDO does; the two
sources are not reconciled, so small overlaps are possible. CLC 331–335 (beaches, rocks, sparse
vegetation, burnt areas, glaciers) belong to no ALDO category and are not counted.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import shapely
from pydantic import BaseModel, Field
from pyproj import Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from connectors.ign_territories import TERRITORY_PATTERN, fetch_communes
from connectors.ign_territories.wfs import DEFAULT_PAGE_SIZE, Feature, WfsReader
from datahub.ingest.contract import (
    Connector,
    ConnectorContext,
    FatalConnectorError,
    Produced,
    ProducedVersion,
    Provenance,
)

ARTIFICIAL = {111, 112, 121, 122, 123, 124, 131, 132, 133, 141, 142}
CLC_TO_LAND_USE: dict[int, str] = {
    **dict.fromkeys(ARTIFICIAL, "artificial"),
    **dict.fromkeys((211, 212, 213, 241, 242, 243, 244), "cropland"),
    221: "vineyard",
    222: "orchard",
    223: "orchard",
    **dict.fromkeys((231, 321, 322, 323), "grassland"),
    **dict.fromkeys((311, 312, 313, 324), "forest"),
    # ALDO's "zones humides" covers inland and coastal wetlands and water bodies alike.
    **dict.fromkeys((411, 412, 421, 422, 423, 511, 512, 521, 522, 523), "wetland"),
}
CLC_FOREST = {311, 312, 313, 324}
# BD Forêt v2 formation types counted as forest: closed (FF…), open (FO…) forests and poplar
# stands (FP); heath (LA…) is not forest.
FOREST_TFV_PREFIXES = ("FF", "FO", "FP")


class IgnLandCoverParams(BaseModel):
    territory: str = Field(pattern=TERRITORY_PATTERN, examples=["epci:241700434"])
    year: int = Field(default=2018, description="year of the land cover (CLC 2018)")
    admin_layers: str = "ADMINEXPRESS-COG.LATEST"
    clc_layer: str = "LANDCOVER.CLC18_FR:clc18_fr"
    clc_code_field: str = Field(
        default="code_18", description="CLC class attribute (matched case-insensitively)"
    )
    forest_layer: str | None = Field(
        default="LANDCOVER.FORESTINVENTORY.V2:formation_vegetale",
        description="BD Forêt v2 layer; null to take forests from CLC",
    )
    forest_code_field: str = "code_tfv"
    dataset_id: str | None = Field(default=None, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    page_size: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=5000)


def clc_land_use(code: Any) -> str | None:
    """Contract land-use id of a CLC code (``'211'``, ``211`` or ``'2111'`` level-4), or None."""
    digits = re.sub(r"\D", "", str(code or ""))[:3]
    return CLC_TO_LAND_USE.get(int(digits)) if len(digits) == 3 else None


def is_forest_formation(code: Any) -> bool:
    return isinstance(code, str) and code.upper().startswith(FOREST_TFV_PREFIXES)


def _field(properties: dict[str, Any], name: str) -> Any:
    wanted = name.lower()
    for key, value in properties.items():
        if key.lower() == wanted:
            return value
    return None


def _geometry(feature: Feature) -> BaseGeometry | None:
    geometry = feature.get("geometry")
    if not geometry:
        return None
    geom = shape(geometry)
    return geom if geom.is_valid else shapely.make_valid(geom)


def area_by_land_use(
    communes: dict[str, BaseGeometry],
    polygons: list[tuple[str, BaseGeometry]],
) -> dict[tuple[str, str], float]:
    """Hectares per (commune, land use): Σ area(commune ∩ polygon) in EPSG:2154, m² / 1e4."""
    areas: dict[tuple[str, str], float] = defaultdict(float)
    if not polygons:
        return areas
    tree = shapely.STRtree([geom for _, geom in polygons])
    for commune, commune_geom in communes.items():
        shapely.prepare(commune_geom)
        for index in tree.query(commune_geom, predicate="intersects"):
            land_use, geom = polygons[int(index)]
            area = commune_geom.intersection(geom).area / 10_000
            if area > 0:
                areas[(commune, land_use)] += area
    return areas


def to_csv(year: int, areas: dict[tuple[str, str], float]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["year", "territory", "land_use", "area_ha"])
    for (territory, land_use), area in sorted(areas.items()):
        if round(area, 2) > 0:
            writer.writerow([year, territory, land_use, f"{area:.2f}"])
    return out.getvalue().encode()


class IgnLandCover:
    name = "ign-land-cover"
    description = (
        "Land use in hectares per commune (CORINE Land Cover 2018 with forests from BD Forêt v2, "
        "IGN Géoplateforme WFS), grouped as ALDO does."
    )
    licence = "etalab-2.0"
    params_model = IgnLandCoverParams

    def run(self, params: IgnLandCoverParams, context: ConnectorContext) -> Iterator[Produced]:
        reader = WfsReader(context.http, page_size=params.page_size)
        context.report_progress(0, 3, f"reading the communes of {params.territory}")
        to_lambert = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
        communes: dict[str, BaseGeometry] = {}
        for feature in fetch_communes(
            reader, params.admin_layers, params.territory, srs_name="EPSG:4326"
        ):
            geom = _geometry(feature)
            code = (feature.get("properties") or {}).get("code_insee")
            if geom is not None and code:
                # GeoJSON is lon/lat; always_xy keeps that order through pyproj.
                communes[f"commune:{code}"] = shapely.transform(
                    geom, to_lambert.transform, interleaved=False
                )
        if not communes:
            raise FatalConnectorError(f"no commune boundary for {params.territory}")
        bounds = shapely.union_all(list(communes.values())).bounds

        polygons: list[tuple[str, BaseGeometry]] = []
        context.report_progress(1, 3, "reading CORINE Land Cover")
        for feature in reader.features(params.clc_layer, bbox=bounds, srs_name="EPSG:2154"):
            code = _field(feature.get("properties") or {}, params.clc_code_field)
            land_use = clc_land_use(code)
            digits = re.sub(r"\D", "", str(code or ""))[:3]
            if land_use is None or (params.forest_layer and digits and int(digits) in CLC_FOREST):
                continue
            geom = _geometry(feature)
            if geom is not None:
                polygons.append((land_use, geom))
        if params.forest_layer:
            context.report_progress(2, 3, "reading BD Forêt")
            for feature in reader.features(params.forest_layer, bbox=bounds, srs_name="EPSG:2154"):
                code = _field(feature.get("properties") or {}, params.forest_code_field)
                geom = _geometry(feature) if is_forest_formation(code) else None
                if geom is not None:
                    polygons.append(("forest", geom))

        areas = area_by_land_use(communes, polygons)
        context.report_progress(3, 3, f"{len(areas)} commune × land-use areas computed")
        slug = params.territory.replace(":", "-").lower()
        dataset_id = params.dataset_id or f"land-use-clc-{params.year}-{slug}"
        sources = "CORINE Land Cover " + str(params.year)
        if params.forest_layer:
            sources += " and BD Forêt v2"
        yield ProducedVersion(
            dataset_id=dataset_id,
            title=f"Land use of {params.territory} in {params.year} ({sources})",
            description=(
                f"Hectares per land use and commune of {params.territory}, from {sources} "
                "intersected with ADMIN EXPRESS communes in Lambert-93, CLC classes grouped as "
                "in ALDO (ADEME)."
            ),
            kind="land_use",
            licence=self.licence,
            attribution="IGN (ADMIN EXPRESS, BD Forêt); SDES / Copernicus (CORINE Land Cover)",
            tags=["land-use", "corine-land-cover", "bd-foret", "aldo"],
            territories=[params.territory],
            content=to_csv(params.year, areas),
            filename=f"{dataset_id}.csv",
            media_type="text/csv",
            provenance=Provenance(source_urls=reader.urls_used, retrieved_at=context.now()),
        )


connector: Connector[IgnLandCoverParams] = IgnLandCover()
