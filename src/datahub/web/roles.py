"""Pages for some roles only: the API's rule (:func:`datahub.accounts.caller.check_role`), with
its refusal in French, and anonymous callers sent to the sign-in page instead."""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse

from datahub.accounts.caller import Caller, Role, check_role
from datahub.errors import Forbidden
from datahub.web.forms import InFrench

ROLE_LABELS: Final[dict[str, str]] = {
    "admin": "administrateur",
    "auditor": "auditeur",
    "producer": "producteur",
    "analyst": "analyste",
}


class RoleRefused(InFrench, Forbidden):
    """A signed-in caller without the page's role (its message is French, for the page)."""


def sign_in_first(request: Request) -> RedirectResponse:
    """To the sign-in page, coming back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", 303)


def require_roles(caller: Caller, *roles: Role) -> None:
    """The API's role check; its 403 says in French which roles the page is for."""
    try:
        check_role(caller, roles)
    except Forbidden:
        names = " ou ".join(ROLE_LABELS[role] for role in roles)
        raise RoleRefused(f"Cette page est réservée au rôle {names}.") from None
