"""Request metrics middleware and the ``GET /metrics`` exposition route.

Requests are counted by route template (bounded label values). Uploads are counted here too,
from the upload route's status: 201 stored, 200 unchanged (same bytes), 4xx refused, 5xx or an
interrupted request failed; the stored version's size and row count come from the 201 body.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from datahub import observability
from datahub.errors import Unauthenticated
from datahub.settings import Settings

#: The upload route (``API_PREFIX`` + the datasets router's path), as Starlette reports it.
UPLOAD_ROUTE = "/api/v1/datasets/{dataset_id}/versions"
UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_MAX_CAPTURED_BODY = 1 << 20


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


def upload_outcome(status: int | None) -> str:
    if status == 201:
        return "stored"
    if status == 200:
        return "unchanged"
    if status is not None and 400 <= status < 500:
        return "refused"
    return "failed"


def _stored_figures(body: bytes) -> tuple[int, int]:
    try:
        version: Any = json.loads(body)
        return int(version["size"]), int(version["row_count"])
    except (ValueError, KeyError, TypeError):
        return 0, 0


class MetricsMiddleware:
    """Counts and times every HTTP request; counts uploads by outcome."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"] if scope["method"] in _METHODS else "other"
        status: int | None = None
        body = bytearray()

        def is_upload() -> bool:
            return method == "POST" and route_template(scope) == UPLOAD_ROUTE

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif (
                message["type"] == "http.response.body"
                and status == 201
                and len(body) < _MAX_CAPTURED_BODY
                and is_upload()
            ):
                body.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            # Routing has filled scope["route"] by now; an exception before any response is a 500.
            route = route_template(scope)
            observability.record_request(
                method, route, status or 500, time.perf_counter() - started
            )
            if is_upload() and status != 202:  # an upload job counts itself when it ends
                outcome = upload_outcome(status)
                size, rows = _stored_figures(bytes(body)) if outcome == "stored" else (0, 0)
                observability.record_upload(outcome, size=size, rows=rows)


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
