"""geo-api: the communes of an EPCI or a département from API Géo (geo.api.gouv.fr), no boundaries.

A light fallback for ign-territories: names, codes, populations and the hierarchy only. API Géo
serves the current COG (no vintage) and does not page (one array per call). Its 404 and 400
answers are plain text, quoted in the error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
from pydantic import BaseModel, Field

from datahub.ingest.contract import (
    Connector,
    ConnectorContext,
    FatalConnectorError,
    Produced,
    TerritoryRecord,
    raise_for_upstream,
)

API = "https://geo.api.gouv.fr"
COMMUNE_FIELDS = "nom,code,codeEpci,codeDepartement,codeRegion,population"


class GeoApiParams(BaseModel):
    territory: str = Field(
        pattern=r"^(epci:\d{9}|departement:(\d{2,3}|2A|2B))$",
        description="epci:<SIREN> or departement:<code>",
        examples=["epci:241700434"],
    )


def _get(client: httpx.Client, path: str, params: dict[str, str] | None = None) -> Any:
    response = client.get(f"{API}{path}", params=params)
    if response.status_code == 404:
        raise FatalConnectorError(f"API Géo has nothing at {path}")
    return raise_for_upstream(response).json()


class GeoApi:
    name = "geo-api"
    description = (
        "Communes of an EPCI or a département with their EPCI, département and région "
        "(API Géo, no boundaries): a light fallback for ign-territories."
    )
    licence = "etalab-2.0"
    params_model = GeoApiParams

    def run(self, params: GeoApiParams, context: ConnectorContext) -> Iterator[Produced]:
        client = context.http
        level, code = params.territory.split(":", 1)
        epcis: dict[str, dict[str, Any]] = {}
        if level == "epci":
            epcis[code] = _get(
                client, f"/epcis/{code}", {"fields": "nom,code,codesDepartements,population"}
            )
            communes = _get(client, f"/epcis/{code}/communes", {"fields": COMMUNE_FIELDS})
        else:
            communes = _get(client, f"/departements/{code}/communes", {"fields": COMMUNE_FIELDS})
        if not communes:
            raise FatalConnectorError(f"API Géo lists no commune for {params.territory}")
        context.report_progress(0, len(communes), f"{len(communes)} communes listed")

        departements = sorted({c["codeDepartement"] for c in communes if c.get("codeDepartement")})
        dep_records = [_get(client, f"/departements/{dep}") for dep in departements]
        regions = sorted({d["codeRegion"] for d in dep_records if d.get("codeRegion")})
        yield TerritoryRecord(code="country:FR", name="France", level="country")
        for region in regions:
            record = _get(client, f"/regions/{region}")
            yield TerritoryRecord(
                code=f"region:{region}",
                name=record.get("nom") or region,
                level="region",
                parents=["country:FR"],
            )
        for dep in dep_records:
            yield TerritoryRecord(
                code=f"departement:{dep['code']}",
                name=dep.get("nom") or dep["code"],
                level="departement",
                parents=[f"region:{dep['codeRegion']}"] if dep.get("codeRegion") else [],
            )
        if level == "departement":
            for siren in sorted({c["codeEpci"] for c in communes if c.get("codeEpci")}):
                epcis[siren] = _get(
                    client, f"/epcis/{siren}", {"fields": "nom,code,codesDepartements,population"}
                )
        for siren, epci in sorted(epcis.items()):
            yield TerritoryRecord(
                code=f"epci:{siren}",
                name=epci.get("nom") or siren,
                level="epci",
                parents=[f"departement:{d}" for d in epci.get("codesDepartements") or []],
                population=epci.get("population"),
            )
        for done, commune in enumerate(sorted(communes, key=lambda c: str(c["code"])), start=1):
            parents = [f"epci:{commune['codeEpci']}"] if commune.get("codeEpci") else []
            if commune.get("codeDepartement"):
                parents.append(f"departement:{commune['codeDepartement']}")
            yield TerritoryRecord(
                code=f"commune:{commune['code']}",
                name=commune.get("nom") or commune["code"],
                level="commune",
                parents=parents,
                population=commune.get("population"),
            )
            context.report_progress(done, len(communes), f"commune {commune['code']}")


connector: Connector[GeoApiParams] = GeoApi()
