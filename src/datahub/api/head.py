"""``HEAD`` on every ``GET`` route (RFC 9110 §9.3.2), answered by the route itself.

FastAPI routes declared with ``GET`` refuse ``HEAD`` with a 405, and harvesters (data.gouv.fr's
among them) send ``HEAD`` to learn a resource's type before fetching it. Rather than declaring a
second method on each route (and a duplicate operation in the OpenAPI document), the request is
run as a ``GET`` and its body dropped: the status and headers (``Content-Type``,
``Content-Length``, ``ETag``...) are exactly those the ``GET`` would send.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        finished = False

        async def send_headers_only(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.body":
                if finished:
                    return
                finished = not message.get("more_body", False)
                if not finished:  # swallow the chunks; the last (empty) message closes it
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
