"""CSRF tokens for every form (synchroniser token kept in the signed session) and form helpers."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from datahub.errors import Conflict, DatahubError, FieldError, Forbidden, ValidationFailed

CSRF_KEY = "csrf"
EXPIRED = "formulaire expiré : rechargez la page et recommencez"


class InFrench(DatahubError):
    """Marks a page error whose detail is written in French for the person reading the page
    (the page shows it as is; the services' own details are English, for API clients)."""


class FormExpired(InFrench, Forbidden):
    """A form posted without this session's CSRF token."""


class Refused(InFrench, Forbidden):
    """The API's 403 for the same caller and action, told in French."""


class AlreadyDone(InFrench, Conflict):
    """The API's 409 for the same action, told in French."""


class Invalid(InFrench, ValidationFailed):
    """A form field the page refuses, named as the API names it."""

    @classmethod
    def field(cls, name: str, message: str) -> Invalid:
        return cls(message, errors=[FieldError(None, name, message)])


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use (every page that shows a form calls this)."""
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get(CSRF_KEY)
    if not isinstance(expected, str) or not submitted:
        raise FormExpired(EXPIRED)
    if not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise FormExpired(EXPIRED)


def clean(value: str | None, limit: int = 500) -> str | None:
    """A form field trimmed and bounded; None when blank."""
    if value is None:
        return None
    value = value.strip()[:limit]
    return value or None
