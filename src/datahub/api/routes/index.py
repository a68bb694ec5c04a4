"""The API's landing document: where a newcomer (or a client) finds everything else."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from datahub import __version__
from datahub.api.deps import SettingsDep


def install(api: APIRouter) -> None:
    """Add the index at the API prefix itself (a sub-router cannot have an empty path)."""
    api.add_api_route(
        "",
        index,
        methods=["GET"],
        tags=["health"],
        summary="Index of the API: links to the docs, the schema and the main resources",
    )


def index(settings: SettingsDep) -> dict[str, Any]:
    base = settings.base_url.rstrip("/")
    api = f"{base}/api/v1"
    return {
        "name": settings.instance_name,
        "version": __version__,
        "links": {
            "docs": f"{base}/docs",
            "redoc": f"{base}/redoc",
            "openapi": f"{base}/openapi.json",
            "catalogue": f"{api}/datasets",
            "dcat": f"{api}/catalog/dcat",
            "licences": f"{api}/licenses",
            "territories": f"{api}/territories",
            "health": f"{api}/health",
        },
    }
