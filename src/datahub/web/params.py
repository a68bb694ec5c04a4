"""Pages refuse query parameters they do not declare (a 422 page naming it), like the API."""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from datahub.errors import FieldError, ValidationFailed


def _declared(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _declared(sub)
    return names


def known_query_only(request: Request) -> None:
    """A dependency of a page router: every query parameter must be one the page declares."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    known = _declared(route.dependant)
    unknown = [name for name in dict.fromkeys(request.query_params) if name not in known]
    if unknown:
        errors = [FieldError(None, n[:60], f"paramètre inconnu « {n[:60]} »") for n in unknown]
        raise ValidationFailed(errors[0].message, errors=errors)
