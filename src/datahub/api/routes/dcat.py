"""The DCAT-AP catalogue (JSON-LD) for harvesters such as data.gouv.fr."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from datahub.api.deps import ContextDep, LicencesDep, SessionDep, SettingsDep
from datahub.catalog import dcat
from datahub.catalog import service as catalog

router = APIRouter(prefix="/catalog", tags=["catalogue"])


@router.get(
    "/dcat",
    summary="DCAT-AP catalogue of the datasets you may see (JSON-LD)",
    response_class=JSONResponse,
    responses={200: {"content": {"application/ld+json": {}}}},
)
def dcat_catalogue(
    session: SessionDep, licences: LicencesDep, settings: SettingsDep, ctx: ContextDep
) -> JSONResponse:
    visible = catalog.visible(session, licences, ctx.caller)
    body = dcat.catalogue(settings.base_url, settings.instance_name, visible)
    return JSONResponse(body, media_type="application/ld+json")
