"""Rendering: the Jinja2 environment, the page context every template gets, and HTML errors."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Final

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from datahub import __version__
from datahub.accounts.caller import Caller
from datahub.errors import DatahubError
from datahub.web import fmt, forms
from datahub.web.roles import RoleRefused
from datahub.web.signin_limit import TooManyAttempts

TEMPLATES: Final = Jinja2Templates(directory=Path(__file__).with_name("templates"))
TEMPLATES.env.filters.update(fmt.FILTERS)
TEMPLATES.env.globals.update(version=__version__, level_explained=fmt.LEVEL_EXPLAINED)

ERROR_TITLES: Final = {
    400: "Requête incorrecte",
    401: "Connexion nécessaire",
    403: "Accès refusé",
    404: "Page introuvable",
    409: "Conflit",
    413: "Fichier trop volumineux",
    422: "Données invalides",
    429: "Trop de tentatives",
}
ERROR_DETAILS: Final = {
    401: "Ces données sont réservées : connectez-vous pour y accéder.",
    403: "Votre organisation n'a pas accès à ces données. Vous pouvez demander l'accès au "
    "producteur depuis la page du jeu de données.",
    404: "Cette page n'existe pas, ou elle n'est pas visible pour vous.",
    429: "Trop de tentatives en peu de temps : réessayez dans une minute.",
}


def render(
    request: Request,
    caller: Caller,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    settings = request.app.state.runtime.settings
    page = {
        "caller": caller,
        "settings": settings,
        # Called by POST forms only: a reader who fills no form gets no cookie.
        "csrf": lambda: forms.csrf_token(request),
        "path": request.url.path,
        **context,
    }
    response = TEMPLATES.TemplateResponse(
        request, template, page, status_code=status_code, headers=headers
    )
    # Pages differ by caller: a shared cache must never hand one member's page to someone else.
    response.headers.setdefault("Cache-Control", "private, no-cache")
    response.headers.setdefault("Vary", "Cookie, Authorization")
    return response


def error_page(
    request: Request, status: int, detail: str | None = None, *, french: bool = False
) -> Response:
    """A French error page; ``detail`` is shown when it is French or names bad input (422)."""
    from datahub.web.deps import page_caller_or_anonymous

    title = ERROR_TITLES.get(status, "Erreur")
    shown = detail if detail and (french or status == 422) else None
    text = shown or ERROR_DETAILS.get(status) or title
    context = {"title": title, "status": status, "detail": text}
    return render(
        request, page_caller_or_anonymous(request), "error.html", context, status_code=status
    )


class PageRoute(APIRoute):
    """A route whose refusals and bad input are French HTML pages, not problem+json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except (forms.FormExpired, TooManyAttempts, RoleRefused) as exc:  # pages', French
                return error_page(request, exc.status, exc.detail, french=True)
            except DatahubError as exc:
                return error_page(request, exc.status, exc.detail)
            except RequestValidationError:
                return error_page(request, 422, "Un paramètre de la page est invalide.")

        return page_handler
