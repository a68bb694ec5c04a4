"""Request metrics middleware and the ``GET /metrics`` exposition route.

Requests are counted by route template (bounded label values). Uploads are counted where they
happen (:func:`datahub.ingest.upload_jobs.counted_upload`).
"""

from __future__ import annotations

import hmac
import re
import time

from fastapi import FastAPI, Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from datahub import observability
from datahub.errors import Unauthenticated
from datahub.settings import Settings

UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(scope: Scope) -> str:
    """The matched route's full path template; ``unmatched`` for unknown paths (no raw paths).

    Routes of an included router know only their own part of the template (``/datasets/{id}``),
    so the literal prefix is recovered as the part of the path before the route matches.
    """
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    regex = getattr(route, "path_regex", None)
    if not isinstance(template, str) or not isinstance(regex, re.Pattern):
        return UNMATCHED
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    for cut in (i for i, char in enumerate(path) if char == "/"):
        if regex.match(path[cut:]):
            return path[:cut] + template
    return template


class MetricsMiddleware:
    """Counts and times every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"] if scope["method"] in _METHODS else "other"
        status: int | None = None

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            # Routing has filled scope["route"] by now; an exception before any response is a 500.
            route = route_template(scope)
            observability.record_request(
                method, route, status or 500, time.perf_counter() - started
            )


def install(app: FastAPI, settings: Settings) -> None:
    """Add ``GET /metrics`` (outside the API prefix and the OpenAPI document) when enabled."""
    if not settings.metrics_enabled:
        return
    token = settings.metrics_token

    def metrics(request: Request) -> Response:
        if token is not None:
            given = request.headers.get("authorization", "").encode("utf-8", "replace")
            expected = f"Bearer {token.get_secret_value()}".encode()
            if not hmac.compare_digest(given, expected):
                raise Unauthenticated("/metrics requires the metrics token")
        payload, content_type = observability.exposition()
        return Response(payload, media_type=content_type)

    app.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
