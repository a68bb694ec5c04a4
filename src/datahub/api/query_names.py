"""Unknown query parameters are a 422 naming the closest known one (``?fromat=svg``).

The known names are read from each route's own declaration: the query parameters of its
dependant tree (FastAPI), plus those documented in its ``openapi_extra`` ``parameters`` (read
from the request by hand, such as the upload's ``filename``). A route taking dynamic
``<column>__<op>`` filters says so with ``openapi_extra={COLUMN_FILTERS: True}``.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from datahub.errors import FieldError, ValidationFailed
from datahub.suggest import closest, did_you_mean

#: ``openapi_extra`` key of routes whose ``<column>__<op>`` parameters are filters.
COLUMN_FILTERS = "x-column-filters"


def _declared(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _declared(sub)
    return names


def known_names(route: APIRoute) -> frozenset[str]:
    extra = route.openapi_extra or {}
    documented = {p["name"] for p in extra.get("parameters", []) if p.get("in") == "query"}
    return frozenset(_declared(route.dependant) | documented)


def check_query_names(request: Request) -> None:
    """A dependency of every API route: refuse what the route would silently ignore."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    known = known_names(route)
    filters = bool((route.openapi_extra or {}).get(COLUMN_FILTERS))
    errors = []
    for name in dict.fromkeys(request.query_params.keys()):
        if name in known or (filters and "__" in name.strip("_")):
            continue
        hint = did_you_mean(closest(name, known)) or (
            f"; known: {', '.join(sorted(known))}" if known else "; this route takes none"
        )
        errors.append(FieldError(None, name, f"unknown query parameter {name[:60]!r}{hint}"))
    if errors:
        raise ValidationFailed(errors[0].message, errors=errors)
