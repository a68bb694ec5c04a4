"""Rate limiting: a moving window per API token, or per client IP for anonymous callers.

- A request with ``Authorization: Bearer <token>`` counts against that token (keyed by its
  SHA-256, so no clear token sits in the counters); one without, against its client address.
- The client address is ``scope["client"]``: uvicorn rewrites it from ``X-Forwarded-For`` only
  when its proxy headers are on and the peer is a trusted proxy (``--forwarded-allow-ips``), so a
  client cannot pick its own address. IPv6 clients are counted per /64, the block a single
  subscriber usually holds.
- Guessing tokens does not escape the IP limit: every 401 answered to a request that carried a
  token counts against the client address, and once that budget is spent, token-bearing requests
  from the address are refused too.
- Over the limit: ``429`` problem+json with ``Retry-After`` (seconds until the oldest counted
  request leaves the window).

Counters live in the ``limits`` storage named by ``rate_limit_storage``: ``memory://`` for one
process, ``redis://...`` when several workers or hosts must share them. If that storage fails, the
request is let through (and logged): the limiter must not take the API down with it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Callable, Collection
from typing import TypeVar

import anyio.to_thread
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from datahub.api.problems import problem, problem_base
from datahub.settings import Settings

log = logging.getLogger("datahub.api.ratelimit")
NAMESPACE = "datahub"
T = TypeVar("T")


def client_key(scope: Scope) -> str:
    """The client's address as uvicorn resolved it; IPv6 reduced to its /64."""
    client = scope.get("client")
    host = str(client[0]) if client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = bytes(value).decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


class RateLimiter:
    """Moving-window counters for tokens and client addresses."""

    def __init__(self, storage: Storage, per_minute_anonymous: int, per_minute_token: int) -> None:
        self.storage = storage
        self.strategy = MovingWindowRateLimiter(storage)
        self.anonymous: RateLimitItem = RateLimitItemPerMinute(
            per_minute_anonymous, namespace=NAMESPACE
        )
        self.token: RateLimitItem = RateLimitItemPerMinute(per_minute_token, namespace=NAMESPACE)
        # The in-memory storage answers in microseconds; a network one is called from a thread.
        self.inline = isinstance(storage, MemoryStorage)

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        storage = storage_from_string(settings.rate_limit_storage, wrap_exceptions=True)
        if not isinstance(storage, Storage):  # an async+... URI: not for this middleware
            raise ValueError("rate_limit_storage must be a synchronous limits storage URI")
        return cls(
            storage, settings.rate_limit_per_minute_anonymous, settings.rate_limit_per_minute_token
        )

    async def _call(self, function: Callable[[], T]) -> T:
        if self.inline:
            return function()
        return await anyio.to_thread.run_sync(function)

    async def hit(self, item: RateLimitItem, key: str) -> bool:
        return await self._call(lambda: self.strategy.hit(item, key))

    async def allows(self, item: RateLimitItem, key: str) -> bool:
        return await self._call(lambda: self.strategy.test(item, key))

    async def retry_after(self, item: RateLimitItem, key: str) -> int:
        stats = await self._call(lambda: self.strategy.get_window_stats(item, key))
        return max(1, math.ceil(stats.reset_time - time.time()))


class RateLimitMiddleware:
    """ASGI middleware applying :class:`RateLimiter` to every HTTP request but ``exempt`` paths."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, exempt: Collection[str] = ()) -> None:
        self.app = app
        self.limiter = limiter
        self.exempt = frozenset(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        address = client_key(scope)
        token = bearer_token(scope)
        failures_key = f"auth-failures:{address}"
        try:
            if token is None:
                item, key = self.limiter.anonymous, f"ip:{address}"
                allowed = await self.limiter.hit(item, key)
            else:
                item, key = self.limiter.anonymous, failures_key
                allowed = await self.limiter.allows(item, key)
                if allowed:
                    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
                    item, key = self.limiter.token, f"token:{digest}"
                    allowed = await self.limiter.hit(item, key)
            if not allowed:
                retry = await self.limiter.retry_after(item, key)
                await self._refuse(scope, receive, send, item, retry)
                return
        except StorageError:
            log.warning("rate-limit storage unavailable; request let through", exc_info=True)
            await self.app(scope, receive, send)
            return

        if token is None:
            await self.app(scope, receive, send)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        await self.app(scope, receive, watch)
        if status == 401:
            try:
                await self.limiter.hit(self.limiter.anonymous, failures_key)
            except StorageError:
                log.warning("rate-limit storage unavailable", exc_info=True)

    @staticmethod
    async def _refuse(
        scope: Scope, receive: Receive, send: Send, item: RateLimitItem, retry: int
    ) -> None:
        response = problem(
            429,
            "rate-limited",
            "Too many requests",
            f"more than {item.amount} requests in a minute; retry in {retry} s",
            headers={"Retry-After": str(retry)},
            instance=scope["path"],
            base=problem_base(scope),
        )
        await response(scope, receive, send)
