"""Edge guards: URLs holding a NUL character, JSON bodies too large or too deep.

NUL: refused before any route sees it.

A ``%00`` in a path or query value is never meaningful here, and the databases disagree about it:
PostgreSQL refuses NUL in text (an error deep in a query), SQLite cuts the string at it (a filter
``site__contains=A%00B`` silently matches ``A``). One check at the edge answers 400 on both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from datahub.api.problems import problem, problem_base
from datahub.catalog.jsonguard import NestingGuard, TooDeep


class NulGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"")
        ):
            response = problem(
                400,
                "bad-request",
                "Bad request",
                "the URL holds a NUL character (%00)",
                base=problem_base(scope),
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


#: JSON request bodies (not uploads, which stream to disk): a territory with a detailed
#: geometry is the largest a client sends.
MAX_JSON_BODY: Final = 8 << 20


class JsonBodyGuardMiddleware:
    """Read a JSON request body with a bound on its size and nesting before any parser does.

    FastAPI reads the whole body into memory and hands it to ``json.loads``; this middleware
    refuses one over :data:`MAX_JSON_BODY` (413) or nested deeper than
    :data:`~datahub.catalog.jsonguard.MAX_DEPTH` (400) while receiving it, then replays it.
    Uploads (``exempt``) have their own limits and readers.
    """

    def __init__(self, app: ASGIApp, *, exempt: Callable[[str, str], bool]) -> None:
        self.app = app
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in ("GET", "HEAD", "OPTIONS")
            or self.exempt(scope["method"], scope["path"])
            or not _parsed_as_json(scope)
        ):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        guard, received = NestingGuard(), 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            received += len(chunk)
            refusal = _refusal(guard, chunk, received)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def _parsed_as_json(scope: Scope) -> bool:
    """FastAPI parses a body as JSON when it says so, and when it has no Content-Type at all."""
    content_type = Headers(scope=scope).get("content-type")
    if content_type is None:
        return True
    media_type = content_type.split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def _refusal(guard: NestingGuard, chunk: bytes, received: int) -> JSONResponse | None:
    if received > MAX_JSON_BODY:
        return problem(
            413,
            "payload-too-large",
            "Payload too large",
            f"a JSON request body may hold at most {MAX_JSON_BODY >> 20} MiB",
        )
    try:
        guard.feed(chunk)
    except TooDeep as exc:
        return problem(400, "bad-request", "Bad request", f"the JSON body is invalid: {exc}")
    return None
