"""Access requests and grants in the browser: what a producer was asked, what it decided, who
may read its data, and what the caller asked of others (``/access-requests``).

Every action calls ``catalog.access`` — the functions behind ``/api/v1/access-requests/...`` and
``/api/v1/datasets/{id}/grants`` — with the page's caller, so the policy, the audit events and the
notifications are the API's. Refusals keep the API's status, told in French.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Final, Literal

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from datahub.catalog import access
from datahub.errors import Conflict, Forbidden
from datahub.licensing.schemas import AccessRequestDecision
from datahub.web import fmt, forms
from datahub.web.deps import context, page_caller, read_work, runtime_of, unit_of_work
from datahub.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute)
PAGE: Final = "/access-requests"
MANAGERS_ONLY: Final = (
    "seuls les producteurs de l'organisation productrice et l'administration de la plateforme "
    "peuvent décider de l'accès à ce jeu de données"
)
DONE_MESSAGES: Final = {
    "acceptee": "Demande acceptée : l'autorisation est créée et le demandeur est prévenu.",
    "refusee": "Demande refusée : le demandeur est prévenu, avec votre motif.",
    "revoquee": "Autorisation révoquée : elle ne donne plus accès aux données.",
}
Done = Literal["acceptee", "refusee", "revoquee"]


@contextmanager
def _in_french(already: str = "cette demande a déjà reçu une décision") -> Iterator[None]:
    """The API's refusals of a decision, with their status, in French (after the unit of work
    recorded the denial)."""
    try:
        yield
    except Forbidden as exc:
        raise forms.Refused(MANAGERS_ONLY) from exc
    except Conflict as exc:
        raise forms.AlreadyDone(already) from exc


@router.get(PAGE, name="web_access_requests")
def access_requests(request: Request, fait: Annotated[Done | None, Query()] = None) -> Response:
    caller = page_caller(request)
    if not caller.authenticated:
        return RedirectResponse(f"/login?next={PAGE}", 303)
    runtime = runtime_of(request)
    ctx = context(request, caller)
    with read_work(runtime) as session:
        received = access.received(session, runtime.licences, ctx)
        sent = access.sent(session, runtime.licences, ctx)
    pending = sum(1 for m in received for r in m.requests if r.status == "pending")
    return render(
        request,
        caller,
        "access_requests.html",
        {
            "title": "Demandes d'accès",
            "received": received,
            "pending": pending,
            "sent": sent,
            "done": DONE_MESSAGES.get(fait or ""),
            "today": datetime.now(fmt.ZONE).date().isoformat(),
        },
    )


def _expiry(expires_on: str | None) -> datetime | None:
    """The form's date (grant valid through that day, Paris time); 422 naming the field."""
    text = forms.clean(expires_on, 20)
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise forms.Invalid.field(
            "expires_at", "date d'expiration invalide : attendu AAAA-MM-JJ"
        ) from None
    if day < datetime.now(fmt.ZONE).date():
        raise forms.Invalid.field("expires_at", "la date d'expiration est déjà passée")
    return fmt.end_of_day(day)


@router.post(PAGE + "/{request_id}/approve", name="web_approve_request")
def approve(
    request: Request,
    request_id: int,
    expires_on: Annotated[str, Form(max_length=20)] = "",
    grant_to: Annotated[Literal["user", "organization"], Form()] = "user",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    forms.check_csrf(request, csrf)
    caller = page_caller(request)  # anonymous too: the service answers 401 or 404, as the API
    decision = AccessRequestDecision(expires_at=_expiry(expires_on), grant_to=grant_to)
    runtime = runtime_of(request)
    with _in_french():
        with unit_of_work(runtime) as session:
            access.approve_request(
                session, runtime.licences, context(request, caller), request_id, decision
            )
    return RedirectResponse(f"{PAGE}?fait=acceptee", 303)


@router.post(PAGE + "/{request_id}/deny", name="web_deny_request")
def deny(
    request: Request,
    request_id: int,
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    forms.check_csrf(request, csrf)
    caller = page_caller(request)  # anonymous too: the service answers 401 or 404, as the API
    why = forms.clean(reason, 2000)
    if why is None:
        raise forms.Invalid.field("reason", "indiquez au demandeur le motif du refus")
    runtime = runtime_of(request)
    with _in_french():
        with unit_of_work(runtime) as session:
            access.deny_request(
                session,
                runtime.licences,
                context(request, caller),
                request_id,
                AccessRequestDecision(reason=why),
            )
    return RedirectResponse(f"{PAGE}?fait=refusee", 303)


@router.post("/datasets/{dataset_id}/grants/{grant_id}/revoke", name="web_revoke_grant")
def revoke(
    request: Request, dataset_id: str, grant_id: int, csrf: Annotated[str, Form()] = ""
) -> Response:
    forms.check_csrf(request, csrf)
    caller = page_caller(request)  # anonymous too: the service answers 401 or 404, as the API
    runtime = runtime_of(request)
    with _in_french():
        with unit_of_work(runtime) as session:
            access.revoke(session, runtime.licences, context(request, caller), dataset_id, grant_id)
    return RedirectResponse(f"{PAGE}?fait=revoquee", 303)
