"""Mount the web interface on the app: session cookie, static files, page routes."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import Response

from datahub.settings import Settings
from datahub.web.map_memo import NetsMemo
from datahub.web.routes import (
    access,
    account,
    admin,
    auth,
    catalogue,
    dashboards,
    governance,
    home,
    publish,
    uploads,
)
from datahub.web.signin_limit import SigninLimiter

STATIC = Path(__file__).with_name("static")
SESSION_COOKIE = "datahub_session"
#: Every page family the web interface mounts (the access-matrix test reads their routes here).
#: ``publish`` comes before ``catalogue``: ``/datasets/new`` is not a dataset's page.
PAGE_MODULES = (
    home,
    publish,
    uploads,
    catalogue,
    dashboards,
    auth,
    access,
    account,
    governance,
    admin,
)


def secret_key(settings: Settings) -> str:
    """The session signing key: the setting, else a key generated once into a 0600 file."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = Path(settings.secret_key_file)
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(48)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process (worker) wrote it first: use that one
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key


class VersionedStatic(StaticFiles):
    """Static files, cached for a year: pages link them with ``?v=<version>``, so an upgrade
    changes their URL (a second visit then loads no CSS or script again)."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def web_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for module in PAGE_MODULES:
        router.include_router(module.router)
    return router


def install(app: FastAPI, settings: Settings) -> None:
    app.state.map_memo = NetsMemo()
    app.state.signin_limiter = SigninLimiter(
        MovingWindowRateLimiter(storage_from_string(settings.rate_limit_storage)),
        RateLimitItemPerMinute(settings.signin_per_minute),
    )
    app.mount("/static", VersionedStatic(directory=STATIC), name="static")
    app.include_router(web_router())
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(settings),
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_days * 86400,
        same_site="lax",
        https_only=settings.base_url.startswith("https://"),
    )
