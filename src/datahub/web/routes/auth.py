"""Sign-in with e-mail and password, sign-out, and the invitation link that sets a password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from datahub.accounts import signin
from datahub.accounts.caller import ANONYMOUS
from datahub.errors import DatahubError
from datahub.web import forms
from datahub.web.deps import page_caller, runtime_of, unit_of_work
from datahub.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute)


def _safe_next(target: str | None) -> str:
    """Only a path of this site (never ``//host`` or a scheme): no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login", name="web_login")
def login_form(
    request: Request, next: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    return render(
        request, page_caller(request), "login.html", {"next": _safe_next(next), "error": None}
    )


@router.post("/login")
def login(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    forms.check_csrf(request, csrf)
    request.app.state.signin_limiter.hit(request.client.host if request.client else "-")
    runtime = runtime_of(request)
    try:
        with unit_of_work(runtime) as session:
            user = signin.check_password(session, email, password)
            user_id = user.id
    except DatahubError as exc:
        if exc.status != 401:
            raise
        context = {"next": _safe_next(next), "error": exc.detail, "email": email}
        return render(request, ANONYMOUS, "login.html", context, status_code=401)
    request.session.clear()  # a new session on sign-in (no fixation)
    request.session[signin.SESSION_USER] = user_id
    return RedirectResponse(_safe_next(next), 303)


@router.post("/logout", name="web_logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    forms.check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/", 303)


@router.get("/invitation/{token}", name="web_invitation")
def invitation_form(request: Request, token: str) -> Response:
    runtime = runtime_of(request)
    with runtime.read_session() as session:
        user = signin.invited_user(session, token)
        email = user.email
    return render(
        request, ANONYMOUS, "invitation.html", {"email": email, "token": token, "error": None}
    )


@router.post("/invitation/{token}")
def accept_invitation(
    request: Request,
    token: str,
    password: Annotated[str, Form(max_length=1000)] = "",
    confirm: Annotated[str, Form(max_length=1000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    forms.check_csrf(request, csrf)
    runtime = runtime_of(request)
    if password != confirm:
        with runtime.read_session() as session:
            email = signin.invited_user(session, token).email
        context = {"email": email, "token": token, "error": "les deux mots de passe diffèrent"}
        return render(request, ANONYMOUS, "invitation.html", context, status_code=422)
    try:
        with unit_of_work(runtime) as session:
            user = signin.accept(session, token, password)
            user_id = user.id
    except DatahubError as exc:
        if exc.status != 422:
            raise
        again = {"email": None, "token": token, "error": exc.detail}
        return render(request, ANONYMOUS, "invitation.html", again, status_code=422)
    request.session.clear()
    request.session[signin.SESSION_USER] = user_id
    return RedirectResponse("/", 303)
