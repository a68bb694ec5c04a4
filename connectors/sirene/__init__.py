"""sirene: actors by SIREN or SIRET from the API Recherche d'entreprises (7 requests/s per IP).

A SIREN gives the legal unit located at its head office (``id = siren:<SIREN>``); a SIRET gives
that establishment (``id = siret:<SIRET>``), read from ``matching_etablissements`` or the head
office. The NAF code (rév. 2) maps to a PCAET sector through the hub's one mapping,
:func:`datahub.ingest.contract.sector_for_naf`. Unknown or non-public ("non-diffusible")
entities come back as 200 with no result and are reported as skipped.
Personal data (``dirigeants``, ``elus``) is never read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, Field

from datahub.ingest.contract import (
    ActorRecord,
    Connector,
    ConnectorContext,
    FatalConnectorError,
    Produced,
    raise_for_upstream,
    sector_for_naf,
)

API = "https://recherche-entreprises.api.gouv.fr"


class SireneParams(BaseModel):
    identifiers: list[str] = Field(
        min_length=1,
        max_length=10_000,
        description="SIREN (9 digits) or SIRET (14 digits) numbers",
        examples=[["241700434", "13002526500013"]],
    )
    skip_missing: bool = Field(
        default=True, description="skip identifiers the API does not know (else fail the run)"
    )


def _float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def actor_from_result(result: dict[str, Any], identifier: str) -> ActorRecord:
    """The actor named by ``identifier`` in one ``/search`` result."""
    siren = str(result.get("siren") or identifier[:9])
    establishment: dict[str, Any] = result.get("siege") or {}
    if len(identifier) == 14:
        matching = [
            e for e in result.get("matching_etablissements") or [] if e.get("siret") == identifier
        ]
        if matching:
            establishment = matching[0]
        elif establishment.get("siret") != identifier:
            raise LookupError(identifier)
    naf = (
        establishment.get("activite_principale")
        if len(identifier) == 14
        else result.get("activite_principale")
    ) or result.get("activite_principale")
    commune = establishment.get("commune")
    return ActorRecord(
        id=f"siret:{identifier}" if len(identifier) == 14 else f"siren:{siren}",
        siren=siren,
        siret=establishment.get("siret") or (identifier if len(identifier) == 14 else None),
        name=result.get("nom_complet") or result.get("nom_raison_sociale") or siren,
        naf=naf,
        sector=sector_for_naf(naf),
        territory=f"commune:{commune}" if commune else None,
        lon=_float(establishment.get("longitude")),
        lat=_float(establishment.get("latitude")),
    )


class Sirene:
    name = "sirene"
    description = (
        "Actors (companies, public bodies) by SIREN or SIRET from the API Recherche "
        "d'entreprises: name, NAF code and PCAET sector, commune and location."
    )
    licence = "etalab-2.0"
    params_model = SireneParams

    def run(self, params: SireneParams, context: ConnectorContext) -> Iterator[Produced]:
        identifiers = [i.replace(" ", "") for i in params.identifiers]
        bad = [i for i in identifiers if not (i.isdigit() and len(i) in (9, 14))]
        if bad:
            raise FatalConnectorError(f"not a SIREN or SIRET: {', '.join(bad[:5])}")
        total = len(identifiers)
        skipped: list[str] = []
        for done, identifier in enumerate(identifiers, start=1):
            response = context.http.get(
                f"{API}/search",
                params={"q": identifier, "page": "1", "per_page": "1"},
            )
            results = raise_for_upstream(response).json().get("results") or []
            actor = None
            for result in results:
                try:
                    actor = actor_from_result(result, identifier)
                    break
                except LookupError:
                    continue
            if actor is None:
                if not params.skip_missing:
                    raise FatalConnectorError(f"Recherche d'entreprises does not know {identifier}")
                skipped.append(identifier)
            else:
                yield actor
            context.report_progress(done, total, f"{identifier}: {'ok' if actor else 'not found'}")
        if skipped:
            context.report_progress(total, total, f"not found: {', '.join(skipped)}")


connector: Connector[SireneParams] = Sirene()
