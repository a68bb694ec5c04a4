"""Token last use, written beside the request instead of inside a GET's read-only work.

Resolving a token happens in a read-only session (design habit 12), so it cannot write. When the
token's stored last use is older than ``accounts.service.TOKEN_USE_STEP`` (one minute), the edge
that resolved it (API dependency or page) notes the use in the request's scope; once the request
is answered, this middleware hands it to one writer thread, which records it in a short
transaction of its own. So a client costs at most one small write a minute per token, no request
ever waits for the write lock (on SQLite an upload may hold it for long), a GET's own work stays
read-only, and a token whose write is still queued is not queued twice.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Receive, Scope, Send

from datahub.accounts import service as accounts
from datahub.accounts.signin import TOKEN_USES_SCOPE_KEY
from datahub.runtime import Runtime

log = logging.getLogger(__name__)


class TokenUseMiddleware:
    """Collects the token uses a request notes, and records them off the request's path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="token-use")
        self._queued: set[int] = set()
        self._guard = threading.Lock()

    def _submit(self, runtime: Runtime, uses: list[accounts.TokenUse]) -> None:
        with self._guard:
            fresh = [u for u in uses if u.token_id not in self._queued]
            self._queued.update(u.token_id for u in fresh)
        if fresh:
            self._writer.submit(self._record, runtime, fresh)

    def _record(self, runtime: Runtime, uses: list[accounts.TokenUse]) -> None:
        try:
            with runtime.transaction() as session:
                for use in uses:
                    accounts.record_token_use(session, use)
        except SQLAlchemyError:  # the request is answered: a missed last use is only information
            log.warning("could not record the last use of %d token(s)", len(uses), exc_info=True)
        finally:
            with self._guard:
                self._queued.difference_update(u.token_id for u in uses)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        uses: dict[int, accounts.TokenUse] = {}
        scope[TOKEN_USES_SCOPE_KEY] = uses
        await self.app(scope, receive, send)
        if uses:
            self._submit(scope["app"].state.runtime, list(uses.values()))
