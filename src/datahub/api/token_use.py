"""Token last use, written after the response instead of inside a GET's read-only work.

Resolving a token happens in a read-only session (design habit 12), so it cannot write. When the
token's stored last use is older than ``accounts.service.TOKEN_USE_STEP`` (one minute), the edge
that resolved it (API dependency or page) notes the use in the request's scope; this middleware
then writes it in one short transaction of its own once the response has been sent. So a client
costs at most one small write a minute per token, its request never waits for the write lock
(on SQLite an upload may hold it), and a GET's own work stays read-only.
"""

from __future__ import annotations

import logging

import anyio
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Receive, Scope, Send

from datahub.accounts import service as accounts
from datahub.accounts.signin import TOKEN_USES_SCOPE_KEY
from datahub.runtime import Runtime

log = logging.getLogger(__name__)


def _record(runtime: Runtime, uses: list[accounts.TokenUse]) -> None:
    try:
        with runtime.transaction() as session:
            for use in uses:
                accounts.record_token_use(session, use)
    except SQLAlchemyError:  # the response is gone: a missed last use is only information
        log.warning("could not record the last use of %d token(s)", len(uses), exc_info=True)


class TokenUseMiddleware:
    """Collects the token uses a request notes, and records them after its response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        uses: dict[int, accounts.TokenUse] = {}
        scope[TOKEN_USES_SCOPE_KEY] = uses
        await self.app(scope, receive, send)
        if uses:
            runtime: Runtime = scope["app"].state.runtime
            await anyio.to_thread.run_sync(_record, runtime, list(uses.values()))
