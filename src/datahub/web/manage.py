"""Who may publish and manage datasets from the pages: the catalogue service decides (as for the
API); this module only says its refusals in French, or sends an anonymous visitor to sign in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeVar
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from datahub.accounts.caller import Caller, RequestContext
from datahub.catalog import service as catalog
from datahub.catalog.schemas import DatasetRead
from datahub.errors import Forbidden, Unauthenticated
from datahub.web.deps import runtime_of
from datahub.web.pages import error_page

T = TypeVar("T")

CREATE_REFUSED: Final = (
    "Seuls les producteurs (et l'administration) publient des jeux de données. Demandez le rôle "
    "« producteur » à l'administration de la plateforme."
)
MANAGE_REFUSED: Final = (
    "Seuls les producteurs de l'organisation qui publie ce jeu de données, et l'administration, "
    "peuvent y déposer une version, le modifier ou le supprimer."
)


def to_login(request: Request) -> Response:
    return RedirectResponse(f"/login?next={quote(request.url.path)}", 303)


def refused(request: Request, caller: Caller, message: str) -> Response:
    """A refusal as the API's status: 401 (GET: sign in first) or 403, in French."""
    if not caller.authenticated:
        if request.method == "GET":
            return to_login(request)
        return error_page(request, 401)
    return error_page(request, 403, message, french=True)


def may_create(request: Request, caller: Caller) -> Response | None:
    """None when the caller may publish a dataset, else the page that says why not."""
    try:
        catalog.authorize_create(caller)
    except (Unauthenticated, Forbidden):
        return refused(request, caller, CREATE_REFUSED)
    return None


def managed(request: Request, caller: Caller, dataset_id: str) -> DatasetRead | Response:
    """The dataset, when the caller manages it (a form only shows it: nothing is audited)."""
    runtime = runtime_of(request)
    ctx = RequestContext(caller=caller)
    try:
        with runtime.read_transaction() as session:
            resolved = catalog.authorize_management(
                session, runtime.licences, ctx, dataset_id, "dataset.update"
            )
            return catalog.read_one(session, resolved)
    except (Unauthenticated, Forbidden):
        return refused(request, caller, MANAGE_REFUSED)


def french_refusals(request: Request, caller: Caller, work: Callable[[], T]) -> T | Response:
    """Run a write; a management refusal (already audited by the service) becomes its page."""
    try:
        return work()
    except (Unauthenticated, Forbidden):
        return refused(request, caller, MANAGE_REFUSED)
