"""ign-territories: communes, EPCI, départements and régions with boundaries from IGN ADMIN EXPRESS.

Reads the ADMIN EXPRESS COG layers of the IGN Géoplateforme WFS, filtered to one territory, and
yields :class:`TerritoryRecord` s, parents first (country, régions, départements, EPCI, communes).
Geometries are asked with ``srsName=EPSG:4326`` and come back as GeoJSON lon/lat (checked against
the recorded Penmarch answer). ``codes_siren_des_epci`` may hold several SIRENs separated by
``/`` and ``NR`` when a commune has no EPCI.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, Field

from connectors.ign_territories.wfs import DEFAULT_PAGE_SIZE, Feature, WfsReader, cql_in, quote_cql
from datahub.ingest.contract import (
    Connector,
    ConnectorContext,
    FatalConnectorError,
    Produced,
    TerritoryRecord,
)

TERRITORY_PATTERN = r"^(commune|epci|departement|region):[0-9AB]{2,9}$"


class IgnTerritoriesParams(BaseModel):
    territory: str = Field(
        pattern=TERRITORY_PATTERN,
        description="territory to import with its communes: commune:17300, epci:241700434, "
        "departement:17 or region:75",
        examples=["epci:241700434"],
    )
    layers: str = Field(
        default="ADMINEXPRESS-COG.LATEST",
        description="WFS namespace of the ADMIN EXPRESS layers; ADMINEXPRESS-COG-CARTO.LATEST "
        "gives lighter, generalised outlines",
    )
    geometry: bool = Field(default=True, description="fetch the boundaries")
    page_size: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=5000)


def epci_sirens(value: Any) -> list[str]:
    """The EPCI SIRENs of a commune: ``242900702``, ``200054781/200058519`` or ``NR`` (none)."""
    if not isinstance(value, str):
        return []
    return [part.strip() for part in value.split("/") if part.strip().isdigit()]


def commune_filter(level: str, code: str) -> str:
    """The CQL filter selecting the communes of a territory in the ADMIN EXPRESS commune layer."""
    if level == "commune":
        return f"code_insee={quote_cql(code)}"
    if level == "epci":
        # Several SIRENs may be stored in one field; the exact match is checked afterwards.
        return f"codes_siren_des_epci LIKE {quote_cql('%' + code + '%')}"
    if level == "departement":
        return f"code_insee_du_departement={quote_cql(code)}"
    if level == "region":
        return f"code_insee_de_la_region={quote_cql(code)}"
    raise FatalConnectorError(f"unsupported territory level {level!r}")


def fetch_communes(
    reader: WfsReader, layers: str, territory: str, *, geometry: bool = True, srs_name: str
) -> list[Feature]:
    """The communes of ``territory`` (exact EPCI membership), failing when there are none."""
    level, code = territory.split(":", 1)
    property_names = None if geometry else _COMMUNE_PROPERTIES
    communes = [
        feature
        for feature in reader.features(
            f"{layers}:commune",
            cql_filter=commune_filter(level, code),
            srs_name=srs_name,
            property_names=property_names,
        )
        if level != "epci" or code in epci_sirens(_props(feature).get("codes_siren_des_epci"))
    ]
    if not communes:
        raise FatalConnectorError(f"no commune found in ADMIN EXPRESS for {territory}")
    return communes


_COMMUNE_PROPERTIES = [
    "code_insee",
    "nom_officiel",
    "population",
    "codes_siren_des_epci",
    "code_insee_du_departement",
    "code_insee_de_la_region",
]


def _props(feature: Feature) -> dict[str, Any]:
    properties = feature.get("properties")
    return properties if isinstance(properties, dict) else {}


def _population(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _record(
    feature: Feature,
    level: Literal["commune", "epci", "departement", "region"],
    code_field: str,
    parents: list[str],
    geometry: bool,
) -> TerritoryRecord:
    props = _props(feature)
    code = str(props.get(code_field) or "")
    name = str(props.get("nom_officiel") or props.get("nom") or code)
    if not code:
        raise FatalConnectorError(f"ADMIN EXPRESS {level} feature without {code_field}")
    return TerritoryRecord(
        code=f"{level}:{code}",
        name=name,
        level=level,
        parents=parents,
        geometry=feature.get("geometry") if geometry else None,
        population=_population(props.get("population")),
    )


class IgnTerritories:
    name = "ign-territories"
    description = (
        "Communes, EPCI, départements and régions with their boundaries (IGN ADMIN EXPRESS COG, "
        "Géoplateforme WFS), for one territory and everything inside it."
    )
    licence = "etalab-2.0"
    params_model = IgnTerritoriesParams

    def run(self, params: IgnTerritoriesParams, context: ConnectorContext) -> Iterator[Produced]:
        reader = WfsReader(context.http, page_size=params.page_size)
        layers = params.layers
        context.report_progress(0, None, f"reading the communes of {params.territory}")
        communes = fetch_communes(
            reader, layers, params.territory, geometry=params.geometry, srs_name="EPSG:4326"
        )
        deps_of_epci: dict[str, set[str]] = {}
        region_of_dep: dict[str, str] = {}
        for commune in communes:
            props = _props(commune)
            dep = str(props.get("code_insee_du_departement") or "")
            region = str(props.get("code_insee_de_la_region") or "")
            if dep and region:
                region_of_dep[dep] = region
            for siren in epci_sirens(props.get("codes_siren_des_epci")):
                deps_of_epci.setdefault(siren, set()).add(dep)
        total = len(communes) + len(deps_of_epci) + 2 * len(region_of_dep) + 1
        done = 0

        yield TerritoryRecord(code="country:FR", name="France", level="country")
        regions = sorted(set(region_of_dep.values()))
        for feature in reader.features(
            f"{layers}:region", cql_filter=cql_in("code_insee", regions), srs_name="EPSG:4326"
        ):
            yield _record(feature, "region", "code_insee", ["country:FR"], params.geometry)
            done += 1
        for feature in reader.features(
            f"{layers}:departement",
            cql_filter=cql_in("code_insee", list(region_of_dep)),
            srs_name="EPSG:4326",
        ):
            dep = str(_props(feature).get("code_insee") or "")
            dep_region = _props(feature).get("code_insee_de_la_region") or region_of_dep.get(dep)
            parents = [f"region:{dep_region}"] if dep_region else []
            yield _record(feature, "departement", "code_insee", parents, params.geometry)
            done += 1
        context.report_progress(done, total, "régions and départements read")
        if deps_of_epci:
            for feature in reader.features(
                f"{layers}:epci",
                cql_filter=cql_in("code_siren", list(deps_of_epci)),
                srs_name="EPSG:4326",
            ):
                siren = str(_props(feature).get("code_siren") or "")
                parents = [f"departement:{d}" for d in sorted(deps_of_epci.get(siren, set())) if d]
                yield _record(feature, "epci", "code_siren", parents, params.geometry)
                done += 1
        context.report_progress(done, total, "EPCI read")
        for commune in sorted(communes, key=lambda f: str(_props(f).get("code_insee"))):
            props = _props(commune)
            parents = [f"epci:{s}" for s in epci_sirens(props.get("codes_siren_des_epci"))]
            if props.get("code_insee_du_departement"):
                parents.append(f"departement:{props['code_insee_du_departement']}")
            yield _record(commune, "commune", "code_insee", parents, params.geometry)
            done += 1
        context.report_progress(done, done, f"{len(communes)} communes read")


connector: Connector[IgnTerritoriesParams] = IgnTerritories()
