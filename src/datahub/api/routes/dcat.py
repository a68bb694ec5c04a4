"""The DCAT-AP catalogue for harvesters such as data.gouv.fr's: JSON-LD, Turtle or RDF/XML.

``/catalog/dcat`` negotiates (``Accept`` or ``format=``); ``/catalog/dcat.jsonld``, ``.ttl`` and
``.rdf`` name their format in the URL, for harvesters that tell a format by its extension.
``profile=datagouv`` is the catalogue data.gouv.fr's harvester stores whole (see
``datahub.catalog.dcat``); the default is DCAT-AP 3 as its SHACL shapes read it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from datahub.api.deps import ContextDep, LicencesDep, SessionDep, SettingsDep
from datahub.api.formats import MEDIA_TYPES, Negotiated, formats
from datahub.catalog import dcat
from datahub.catalog import service as catalog

router = APIRouter(prefix="/catalog", tags=["catalogue"])

#: rdflib's serializer per format; ``json`` is JSON-LD for clients that only ask for JSON.
SERIALIZERS = {"jsonld": "json-ld", "json": "json-ld", "ttl": "turtle", "rdf": "pretty-xml"}


Profile = Annotated[
    str,
    Query(
        pattern=f"^({'|'.join(dcat.PROFILES)})$",
        json_schema_extra={"enum": list(dcat.PROFILES)},
        description="`dcat-ap` (DCAT-AP 3, the default) or `datagouv`: the same graph with the "
        "checksum as the plain literal data.gouv.fr's harvester stores.",
    ),
]


def _schema(fmt: str) -> dict[str, str]:
    return {"type": "object"} if SERIALIZERS[fmt] == "json-ld" else {"type": "string"}


CONTENT = {
    200: {
        "description": "The catalogue",
        "content": {MEDIA_TYPES[f]: {"schema": _schema(f)} for f in SERIALIZERS},
    }
}


def _serve(
    fmt: str,
    profile: str,
    session: SessionDep,
    licences: LicencesDep,
    settings: SettingsDep,
    ctx: ContextDep,
) -> Response:
    entries = catalog.harvestable(session, licences, ctx.caller)
    graph = dcat.catalogue(settings.base_url, settings.instance_name, entries, profile)
    if SERIALIZERS[fmt] == "json-ld":
        body = graph.serialize(format="json-ld", encoding="utf-8", auto_compact=True)
    else:
        body = graph.serialize(format=SERIALIZERS[fmt], encoding="utf-8")
    media = "application/ld+json" if fmt == "json" else MEDIA_TYPES[fmt]
    return Response(body, media_type=media, headers={"Vary": "Accept"})


@router.get(
    "/dcat",
    summary="DCAT-AP catalogue of the datasets you may read (JSON-LD, Turtle, RDF/XML)",
    response_class=Response,
    responses=CONTENT,  # type: ignore[arg-type]
)
def dcat_catalogue(
    fmt: Annotated[Negotiated, Depends(formats("jsonld", "ttl", "rdf", "json"))],
    session: SessionDep,
    licences: LicencesDep,
    settings: SettingsDep,
    ctx: ContextDep,
    profile: Profile = dcat.PROFILES[0],
) -> Response:
    return _serve(fmt.name, profile, session, licences, settings, ctx)


def _fixed(extension: str) -> None:
    def serve(
        session: SessionDep,
        licences: LicencesDep,
        settings: SettingsDep,
        ctx: ContextDep,
        profile: Profile = dcat.PROFILES[0],
    ) -> Response:
        return _serve(extension, profile, session, licences, settings, ctx)

    router.add_api_route(
        f"/dcat.{extension}",
        serve,
        methods=["GET"],
        summary=f"The DCAT-AP catalogue as {MEDIA_TYPES[extension]}",
        response_class=Response,
        responses={200: {"content": {MEDIA_TYPES[extension]: {"schema": _schema(extension)}}}},
        operation_id=f"dcat_catalogue_{extension}",
        name=f"dcat_catalogue_{extension}",
    )


for _extension in ("jsonld", "ttl", "rdf"):
    _fixed(_extension)
