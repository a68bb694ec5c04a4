"""Refuse URLs holding a NUL character before any route sees them.

A ``%00`` in a path or query value is never meaningful here, and the databases disagree about it:
PostgreSQL refuses NUL in text (an error deep in a query), SQLite cuts the string at it (a filter
``site__contains=A%00B`` silently matches ``A``). One check at the edge answers 400 on both.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from datahub.api.problems import problem


class NulGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"")
        ):
            response = problem(
                400, "bad-request", "Bad request", "the URL holds a NUL character (%00)"
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
