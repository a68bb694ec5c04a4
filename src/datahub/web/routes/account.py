"""My account (``/me``): organisation, role and API tokens — created with a label and shown in
full once, listed afterwards by prefix with their last use, revoked.

Tokens are created and revoked through ``accounts.service`` (audited as ``token.create`` and
``token.revoke``, as through ``/api/v1/users/{id}/tokens``).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from datahub.accounts import service as accounts
from datahub.accounts.caller import Caller
from datahub.errors import Unauthenticated
from datahub.runtime import Runtime
from datahub.web import forms
from datahub.web.deps import context, page_caller, read_work, runtime_of, unit_of_work
from datahub.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute)
PAGE: Final = "/me"
NO_TOKEN_FROM_TOKEN: Final = (
    "un jeton d'API ne peut pas créer d'autres jetons : connectez-vous avec votre mot de passe "
    "pour en créer un"
)


def _signed_in(request: Request) -> Caller:
    caller = page_caller(request)
    if not caller.authenticated:
        raise Unauthenticated("connectez-vous pour gérer votre compte")
    return caller


def _account(request: Request, runtime: Runtime, caller: Caller) -> dict[str, Any]:
    assert caller.user_id is not None
    assert caller.organization_id is not None
    with read_work(runtime) as session:
        organisation = accounts.get_organization(session, caller.organization_id)
        tokens = accounts.list_tokens(session, caller.user_id, context(request, caller))
        return {
            "title": "Mon compte",
            "organisation": {"id": organisation.id, "name": organisation.name},
            "member": organisation.member,
            "tokens": [
                {
                    "id": t.id,
                    "label": t.label,
                    "prefix": t.prefix,
                    "created_at": t.created_at,
                    "last_used_at": t.last_used_at,
                    "revoked_at": t.revoked_at,
                }
                for t in tokens
            ],
        }


@router.get(PAGE, name="web_me")
def me(request: Request, fait: Annotated[Literal["revoque"] | None, Query()] = None) -> Response:
    caller = page_caller(request)
    if not caller.authenticated:
        return RedirectResponse(f"/login?next={PAGE}", 303)
    page = _account(request, runtime_of(request), caller)
    return render(request, caller, "me.html", {**page, "new_token": None, "revoked": bool(fait)})


@router.post(PAGE + "/tokens", name="web_create_token")
def create_token(
    request: Request,
    label: Annotated[str, Form(max_length=100)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    forms.check_csrf(request, csrf)
    caller = _signed_in(request)
    if request.headers.get("authorization") is not None:
        raise forms.Refused(NO_TOKEN_FROM_TOKEN)
    name = forms.clean(label, 100)
    if name is None:
        raise forms.Invalid.field("label", "donnez un nom au jeton (par exemple son usage)")
    runtime = runtime_of(request)
    with unit_of_work(runtime) as session:
        token = accounts.issue_own_token(session, context(request, caller), name)
    page = _account(request, runtime, caller)
    # The only response that ever carries the token: never stored by a cache or the browser.
    return render(
        request,
        caller,
        "me.html",
        {**page, "new_token": {"value": token, "label": name}, "revoked": False},
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


@router.post(PAGE + "/tokens/{token_id}/revoke", name="web_revoke_token")
def revoke_token(request: Request, token_id: int, csrf: Annotated[str, Form()] = "") -> Response:
    forms.check_csrf(request, csrf)
    caller = _signed_in(request)
    assert caller.user_id is not None
    runtime = runtime_of(request)
    with unit_of_work(runtime) as session:
        accounts.revoke_token(session, caller.user_id, token_id, context(request, caller))
    return RedirectResponse(f"{PAGE}?fait=revoque", 303)
