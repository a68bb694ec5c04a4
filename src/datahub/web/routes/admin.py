"""The administration page (admin only): organisations and charter membership, users
(invitation, role, disable), the instance's reference datasets per kind, connector runs.

Every write calls the audited service the API and the CLI call; the page only translates forms.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from datahub.accounts import service as accounts
from datahub.accounts import signin
from datahub.accounts.caller import ROLES, Caller, Role
from datahub.accounts.schemas import OrganizationCreate, UserCreate
from datahub.carbon import reference_data
from datahub.catalog import service as catalog
from datahub.errors import FieldError, ValidationFailed
from datahub.ingest import jobs
from datahub.runtime import Runtime
from datahub.web import fmt, forms
from datahub.web.deps import context, page_caller, runtime_of, unit_of_work
from datahub.web.pages import PageRoute, render
from datahub.web.params import known_query_only
from datahub.web.roles import ROLE_LABELS, require_roles, sign_in_first

router = APIRouter(route_class=PageRoute, dependencies=[Depends(known_query_only)])
#: What the last write did, said on the page it redirects to (never a secret).
FLASH_KEY: Final = "admin.flash"
#: Datasets offered per reference kind (an instance has a handful of factor tables).
ELIGIBLE_LIMIT: Final = 200
Csrf = Annotated[str, Form()]


def _admin(request: Request) -> Caller | None:
    """The caller, if an admin; None for anonymous (sent to sign in); 403 otherwise."""
    caller = page_caller(request)
    if not caller.authenticated:
        return None
    require_roles(caller, "admin")
    return caller


def _page(runtime: Runtime, caller: Caller) -> dict[str, Any]:
    with runtime.read_session() as session:
        organisations = list(accounts.list_organizations(session))
        users = list(accounts.list_users(session))
        references = []
        for kind in reference_data.REFERENCE_KINDS:
            eligible, _total = catalog.search(
                session,
                runtime.licences,
                caller,
                catalog.SearchFilters(kind=kind),
                page=1,
                page_size=ELIGIBLE_LIMIT,
            )
            chosen = reference_data.get(session, kind)
            references.append({"kind": kind, "eligible": eligible, "chosen": set(chosen)})
    return {
        "organisations": organisations,
        "users": users,
        "references": references,
        "runs": jobs.list_runs(runtime, caller),
        "roles": [(role, ROLE_LABELS[role]) for role in ROLES],
        "role_labels": ROLE_LABELS,
        "kind_labels": fmt.KIND_LABELS,
    }


def _show(request: Request, caller: Caller, *, status_code: int = 200, **extra: Any) -> Response:
    page = _page(runtime_of(request), caller)
    flash = request.session.pop(FLASH_KEY, None)
    return render(
        request, caller, "admin.html", {**page, "flash": flash, **extra}, status_code=status_code
    )


def _done(request: Request, message: str, anchor: str) -> Response:
    request.session[FLASH_KEY] = message
    return RedirectResponse(f"/admin#{anchor}", 303)


@router.get("/admin", name="web_admin")
def admin_page(request: Request) -> Response:
    caller = _admin(request)
    if caller is None:
        return sign_in_first(request)
    return _show(request, caller)


def _invalid_form(exc: ValidationError) -> ValidationFailed:
    """A form field pydantic refused, as the API's 422 naming it."""
    errors = [
        FieldError(None, ".".join(str(p) for p in e["loc"]) or "form", e["msg"])
        for e in exc.errors()
    ]
    return ValidationFailed(f"{errors[0].field} : {errors[0].message}", errors=errors)


@router.post("/admin/organizations", name="web_admin_create_org")
def create_organization(
    request: Request,
    csrf: Csrf = "",
    org_id: Annotated[str, Form(alias="id", max_length=64)] = "",
    name: Annotated[str, Form(max_length=300)] = "",
    member: Annotated[bool, Form()] = False,
    siren: Annotated[str, Form(max_length=9)] = "",
) -> Response:
    forms.check_csrf(request, csrf)
    caller = _admin(request)
    if caller is None:
        return sign_in_first(request)
    try:
        data = OrganizationCreate(
            id=org_id.strip(), name=name.strip(), member=member, siren=forms.clean(siren)
        )
    except ValidationError as exc:
        raise _invalid_form(exc) from None
    with unit_of_work(runtime_of(request)) as session:
        accounts.register_organization(session, data, context(request, caller))
    return _done(request, f"Organisation « {data.name} » créée.", "organisations")


@router.post("/admin/organizations/{org_id}/membership", name="web_admin_membership")
def change_membership(
    request: Request, org_id: str, member: Annotated[bool, Form()] = False, csrf: Csrf = ""
) -> Response:
    forms.check_csrf(request, csrf)
    caller = _admin(request)
    if caller is None:
        return sign_in_first(request)
    with unit_of_work(runtime_of(request)) as session:
        org = accounts.set_membership(session, org_id, member, context(request, caller))
        said = "signataire de la charte" if org.member else "hors de la charte"
        message = f"« {org.name} » est désormais {said}."
    return _done(request, message, "organisations")


def _invitation_link(request: Request, session: Session, caller: Caller, email: str) -> str:
    """``datahub users invite``: a one-time link to set a password (audited)."""
    settings = runtime_of(request).settings
    token = signin.invite_user(
        session, email, context(request, caller), days=settings.invitation_days
    )
    return f"{settings.base_url.rstrip('/')}/invitation/{token}"


@router.post("/admin/users", name="web_admin_create_user")
def create_user(
    request: Request,
    csrf: Csrf = "",
    email: Annotated[str, Form(max_length=320)] = "",
    organization: Annotated[str, Form(max_length=64)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Create the account (the API's ``POST /users``: a first API token, shown once) and invite
    it (``datahub users invite``: a one-time link to set a password, shown once)."""
    forms.check_csrf(request, csrf)
    caller = _admin(request)
    if caller is None:
        return sign_in_first(request)
    try:
        data = UserCreate(email=email.strip(), organization_id=organization, role=role)
    except ValidationError as exc:
        raise _invalid_form(exc) from None
    with unit_of_work(runtime_of(request)) as session:
        _user, token = accounts.register_user(session, data, context(request, caller))
        link = _invitation_link(request, session, caller, str(data.email))
    once = {"email": str(data.email), "link": link, "token": token}
    return _show(request, caller, once=once, status_code=201)


@router.post("/admin/users/{user_id}/invitation", name="web_admin_invite")
def invite(request: Request, user_id: int, csrf: Csrf = "") -> Response:
    forms.check_csrf(request, csrf)
    caller = _admin(request)
    if caller is None:
        return sign_in_first(request)
    with unit_of_work(runtime_of(request)) as session:
        email = accounts.get_user(session, user_id).email
        link = _invitation_link(request, session, caller, email)
    once = {"email": email, "link": link, "token": None}
    return _show(request, caller, once=once)


@router.post("/admin/users/{user_id}/role", name="web_admin_role")
def change_role(
    request: Request, user_id: int, role: Annotated[Role, Form()], csrf: Csrf = ""
) -> Response:
    forms.check_csrf(request, csrf)
    caller = _admin(request)
    if caller is None:
        return sign_in_first(request)
    with unit_of_work(runtime_of(request)) as session:
        user = accounts.change_role(session, user_id, role, context(request, caller))
        message = f"{user.email} a désormais le rôle {ROLE_LABELS[role]}."
    return _done(request, message, "utilisateurs")


@router.post("/admin/users/{user_id}/disabled", name="web_admin_disable")
def change_disabled(
    request: Request, user_id: int, disabled: Annotated[bool, Form()] = False, csrf: Csrf = ""
) -> Response:
    forms.check_csrf(request, csrf)
    caller = _admin(request)
    if caller is None:
        return sign_in_first(request)
    with unit_of_work(runtime_of(request)) as session:
        user = accounts.set_disabled(session, user_id, disabled, context(request, caller))
        message = f"Le compte {user.email} est {'désactivé' if disabled else 'réactivé'}."
    return _done(request, message, "utilisateurs")


@router.post("/admin/reference/{kind}", name="web_admin_reference")
def designate(
    request: Request,
    kind: str,
    datasets: Annotated[list[str], Form(max_length=1000)] = [],  # noqa: B006 (FastAPI copies it)
    csrf: Csrf = "",
) -> Response:
    """The API's ``PUT /reference/{kind}``: the boxes ticked are the whole new list."""
    forms.check_csrf(request, csrf)
    caller = _admin(request)
    if caller is None:
        return sign_in_first(request)
    with unit_of_work(runtime_of(request)) as session:
        chosen = reference_data.put(session, context(request, caller), kind, datasets)
    label = fmt.KIND_LABELS.get(kind, kind)
    message = f"Référence « {label} » : {', '.join(chosen) if chosen else 'aucun jeu désigné'}."
    return _done(request, message, f"reference-{kind}")
