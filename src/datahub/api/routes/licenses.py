"""The licence registry."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from datahub.api.deps import LicencesDep
from datahub.errors import NotFound

router = APIRouter(prefix="/licenses", tags=["licences"])


@router.get("", summary="Every licence of this instance, with its level and flags")
def list_licences(licences: LicencesDep) -> dict[str, Any]:
    data = [lic.model_dump(exclude={"text"}) for lic in licences.all()]
    return {"data": data, "meta": {"total": len(data)}}


@router.get("/{licence_id}", summary="One licence (id or alias), with its text")
def get_licence(licence_id: str, licences: LicencesDep) -> dict[str, Any]:
    licence = licences.resolve(licence_id)
    if licence is None:
        raise NotFound("no licence with this id or alias")
    return licence.model_dump()
