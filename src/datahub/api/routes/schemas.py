"""The Table Schemas the hub ships for its dataset kinds (Frictionless)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from datahub.catalog import datapackage, kinds
from datahub.errors import NotFound

router = APIRouter(prefix="/schemas", tags=["schemas"])


@router.get(
    "", summary="The Table Schemas of the standard dataset kinds", operation_id="list_schemas"
)
def list_schemas(request: Request) -> dict[str, Any]:
    items = [
        {
            "kind": kind,
            "title": (datapackage.shipped_schema(kind) or {}).get("title", kind),
            "url": str(request.url_for("get_schema", kind=kind)),
        }
        for kind in kinds.STANDARD_KINDS
    ]
    return {"data": items, "meta": {"total": len(items)}}


@router.get(
    "/{kind}",
    summary="One kind's Table Schema (application/schema+json)",
    response_class=JSONResponse,
    operation_id="get_schema",
    responses={200: {"content": {"application/schema+json": {"schema": {"type": "object"}}}}},
)
def get_schema(kind: str) -> JSONResponse:
    schema = datapackage.shipped_schema(kind)
    if schema is None:
        raise NotFound(f"no Table Schema for kind {kind[:40]!r}; see /schemas")
    return JSONResponse(schema, media_type="application/schema+json")
