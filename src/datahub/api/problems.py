"""RFC 9457 problem details for every error, including validation failures and unknown routes.

Bodies never carry stack traces, SQL or data values: only the error's own ``detail`` and the
``{row, field, message}`` list of validation failures.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from datahub.api.context import REQUEST_ID_SCOPE_KEY, SECURITY_HEADERS, request_id_var
from datahub.errors import PROBLEM_BASE, DatahubError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("datahub.api")

_HTTP_CODES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("rate-limited", "Too many requests"),
}


def problem_base(scope: Scope) -> str:
    """Where this instance's problem types live: ``<base URL>/problems/`` (see :func:`install`);
    Starlette puts the application in every request's scope, middleware included."""
    app = scope.get("app")
    return str(getattr(getattr(app, "state", None), "problem_base", PROBLEM_BASE))


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
    request_id: str | None = None,
    extensions: dict[str, Any] | None = None,
    base: str = PROBLEM_BASE,
) -> JSONResponse:
    body: dict[str, Any] = {
        **(extensions or {}),
        "type": base + code,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    request_id = request_id or request_id_var.get()
    if request_id:
        body["request_id"] = request_id
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _loc_to_field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[0] if loc else "")


async def _datahub_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DatahubError)
    errors = [e.as_dict() for e in exc.errors] if exc.errors or exc.status == 422 else None
    return problem(
        exc.status,
        exc.code,
        exc.title,
        exc.detail or exc.title,
        errors=errors,
        headers=exc.headers or None,
        instance=request.url.path,
        extensions=exc.extensions,
        base=problem_base(request.scope),
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"row": None, "field": _loc_to_field(err.get("loc", ())), "message": err.get("msg", "")}
        for err in exc.errors()
    ]
    return problem(
        422,
        "validation-failed",
        "Validation failed",
        "the request does not match the expected parameters or body",
        errors=errors,
        instance=request.url.path,
        base=problem_base(request.scope),
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, title = _HTTP_CODES.get(exc.status_code, ("http-error", "HTTP error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    return problem(
        exc.status_code,
        code,
        title,
        detail,
        headers=dict(exc.headers) if exc.headers else None,
        instance=request.url.path,
        base=problem_base(request.scope),
    )


async def _unstorable_value(request: Request, exc: Exception) -> JSONResponse:
    """A value the database cannot hold: a number past 64 bits (SQLite), NUL in text (PostgreSQL).

    Both come from the client (an id of 2**70, a title holding ``\\u0000``); the driver's message
    carries SQL and parameters, so it is logged, not returned.
    """
    log.warning(
        "value refused by the database on %s %s: %s",
        request.method,
        request.url.path,
        type(exc).__name__,
        exc_info=True,
    )
    message = "a value is out of range for its type or holds a character that cannot be stored"
    return problem(
        422,
        "validation-failed",
        "Validation failed",
        message,
        errors=[{"row": None, "field": None, "message": message}],
        instance=request.url.path,
        base=problem_base(request.scope),
    )


RETRY_AFTER_BUSY = 5  # seconds: the time for the requests ahead in the queue to finish


async def _database_busy(request: Request, exc: Exception) -> JSONResponse:
    """The database is out of reach for now: every pooled connection is taken (the pool's wait
    ran out), a lock or statement timeout fired, SQLite's write lock stayed busy, or the server
    is down. The client can retry: 503 with ``Retry-After``, not a 500."""
    log.error(
        "database unavailable on %s %s: %s",
        request.method,
        request.url.path,
        type(exc).__name__,
        exc_info=True,
    )
    return problem(
        503,
        "service-unavailable",
        "Service unavailable",
        "the database is busy or unreachable; retry later",
        headers={"Retry-After": str(RETRY_AFTER_BUSY)},
        instance=request.url.path,
        base=problem_base(request.scope),
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Starlette answers this one from its outermost middleware, outside ours: the request id
    # and the security headers are added here.
    request_id = request.scope.get(REQUEST_ID_SCOPE_KEY)
    log.exception(
        "unhandled error on %s %s",
        request.method,
        request.url.path,
        extra={"request_id": request_id or "-"},
    )
    headers = {name.decode(): value.decode() for name, value in SECURITY_HEADERS}
    if request_id:
        headers["X-Request-ID"] = request_id
    return problem(
        500,
        "internal-error",
        "Internal server error",
        "an unexpected error occurred; quote the request id to the operators",
        headers=headers,
        instance=request.url.path,
        base=problem_base(request.scope),
        request_id=request_id,
    )


def install(app: FastAPI, base_url: str | None = None) -> None:
    """Render every error as a problem; types are URIs under the instance's ``base_url``."""
    if base_url:
        app.state.problem_base = base_url.rstrip("/") + "/problems/"
    app.add_exception_handler(DatahubError, _datahub_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OverflowError, _unstorable_value)
    app.add_exception_handler(DataError, _unstorable_value)
    app.add_exception_handler(PoolTimeout, _database_busy)
    app.add_exception_handler(OperationalError, _database_busy)
    app.add_exception_handler(Exception, _unexpected)


#: OpenAPI description of error responses, used on every route.
PROBLEM_RESPONSE: dict[str, Any] = {
    "description": "Problem details (RFC 9457)",
    "content": {
        PROBLEM_JSON: {
            "schema": {
                "type": "object",
                "required": ["type", "title", "status", "detail"],
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "instance": {"type": "string"},
                    "request_id": {"type": "string"},
                    "errors": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "row": {"type": ["integer", "null"]},
                                "field": {"type": ["string", "null"]},
                                "message": {"type": "string"},
                            },
                        },
                    },
                },
            }
        }
    },
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = dict.fromkeys(
    (400, 401, 403, 404, 409, 413, 415, 422, 429, 503), PROBLEM_RESPONSE
)
