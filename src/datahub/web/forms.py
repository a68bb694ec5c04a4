"""CSRF tokens for every form (synchroniser token kept in the signed session) and form helpers."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from datahub.errors import Forbidden

CSRF_KEY = "csrf"
EXPIRED = "formulaire expiré : rechargez la page et recommencez"


class FormExpired(Forbidden):
    """A form posted without this session's CSRF token (its message is French, for the page)."""


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
