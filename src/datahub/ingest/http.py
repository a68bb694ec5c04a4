"""The one ``httpx.Client`` a connector run gets: User-Agent, timeouts, retries, rate limits.

Retries and rate limiting live in an httpx transport wrapper (:class:`ResilientTransport`), so
connectors simply call ``client.get(...)``/``client.post(...)`` and never loop themselves:

- retries (tenacity) on 429, 500, 502, 503, 504 and transport errors (timeouts, resets), with
  exponential backoff, honouring ``Retry-After`` (seconds or HTTP date); when attempts run out
  it raises :class:`~datahub.ingest.contract.RetriableConnectorError`;
- a moving-window rate limiter per host (the ``limits`` library) at the documented limits;
- on the real network, no request to an address that is not public (:class:`PublicOnlyTransport`).

Sleep and clock are injectable so tests never really wait.
"""

from __future__ import annotations

import ipaddress
import math
import socket
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

import httpx
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    wait_exponential_jitter,
)

from datahub.ingest.contract import FatalConnectorError, RetriableConnectorError

# Requests per second per host. IGN and Recherche d'entreprises publish their limits; API Géo and
# data.gouv.fr publish none, so these are polite values (research note connectors.md §4).
DEFAULT_RATE_LIMITS: dict[str, float] = {
    "data.geopf.fr": 30.0,
    "recherche-entreprises.api.gouv.fr": 7.0,
    "geo.api.gouv.fr": 10.0,
    "www.data.gouv.fr": 5.0,
    "public-api.meteofrance.fr": 1.0,
}
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ATTEMPTS = 4

Sleep = Callable[[float], None]
Clock = Callable[[], float]


def _rate_item(per_second: float) -> RateLimitItem:
    """``limits`` counts whole requests: 7.5/s becomes 7/s, 0.2/s becomes 1 per 5 s."""
    if per_second <= 0:
        raise ValueError(f"rate must be positive, got {per_second}")
    if per_second >= 1:
        return RateLimitItemPerSecond(math.floor(per_second))
    return RateLimitItemPerSecond(1, math.ceil(1 / per_second))


class HostRateLimiter:
    """Blocks until a request to ``host`` fits in that host's moving one-second window.

    ``clock`` must be on the same base as ``time.time`` (the ``limits`` memory storage uses it).
    """

    def __init__(
        self,
        rates: Mapping[str, float],
        *,
        sleep: Sleep = time.sleep,
        clock: Clock = time.time,
    ) -> None:
        self._items = {host.lower(): _rate_item(rate) for host, rate in rates.items()}
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._sleep = sleep
        self._clock = clock

    def acquire(self, host: str) -> None:
        host = host.lower()
        item = self._items.get(host)
        if item is None:
            return
        while not self._limiter.hit(item, host):
            reset_at = self._limiter.get_window_stats(item, host).reset_time
            # The window is closed at its edge: wait one millisecond past it.
            self._sleep(max(reset_at - self._clock(), 0.0) + 0.001)


def retry_after_seconds(response: httpx.Response, now: float) -> float | None:
    """The ``Retry-After`` delay in seconds (delta-seconds or HTTP date), or None."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now, 0.0)


class ResilientTransport(httpx.BaseTransport):
    """Wraps a transport with per-host rate limiting and tenacity retries."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        *,
        limiter: HostRateLimiter,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        sleep: Sleep = time.sleep,
        clock: Clock = time.time,
        backoff_initial: float = 1.0,
        backoff_max: float = 30.0,
        backoff_jitter: float = 0.5,
        max_retry_after: float = 120.0,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._inner = inner
        self._limiter = limiter
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._clock = clock
        self._backoff = wait_exponential_jitter(
            initial=backoff_initial, max=backoff_max, jitter=backoff_jitter
        )
        self._max_retry_after = max_retry_after

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            delay = retry_after_seconds(outcome.result(), self._clock())
            if delay is not None:
                return min(delay, self._max_retry_after)
        return float(self._backoff(state))

    def _attempt(self, request: httpx.Request) -> httpx.Response:
        self._limiter.acquire(request.url.host)
        response = self._inner.handle_request(request)
        if response.status_code in RETRY_STATUSES:
            # Read the body now: it is quoted in the final error, and the connection is freed.
            response.read()
            response.close()
        return response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()  # a streamed body could not be sent twice
        retrying = Retrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=self._wait,
            retry=(
                retry_if_exception_type(httpx.TransportError)
                | retry_if_result(lambda r: r.status_code in RETRY_STATUSES)
            ),
            sleep=self._sleep,
            # When attempts run out, hand back the last response or raise the last exception.
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        )
        target = f"{request.method} {request.url}"
        try:
            response: httpx.Response = retrying(self._attempt, request)
        except httpx.TransportError as exc:
            raise RetriableConnectorError(
                f"{target} failed after {self._max_attempts} attempts: {exc!r}"
            ) from exc
        if response.status_code in RETRY_STATUSES:
            body = response.text[:300].strip()
            raise RetriableConnectorError(
                f"{target} answered HTTP {response.status_code} after {self._max_attempts} "
                f"attempts" + (f": {body}" if body else "")
            )
        return response

    def close(self) -> None:
        self._inner.close()


Resolver = Callable[[str, int], list[str]]


def resolve_addresses(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (empty when it does not resolve)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return [str(info[4][0]) for info in found]


class PublicOnlyTransport(httpx.BaseTransport):
    """Refuses requests to hosts that resolve to non-public addresses (loopback, private ranges,
    link-local such as the cloud metadata service at 169.254.169.254), redirects included.

    Connector parameters and upstream metadata name URLs (a udata portal, a resource's download
    link), so without this a producer could make the server fetch from its own network and
    publish the answer. ``allowed_hosts`` lets an operator name internal mirrors.
    """

    def __init__(
        self,
        inner: httpx.BaseTransport,
        allowed_hosts: frozenset[str] = frozenset(),
        resolve: Resolver = resolve_addresses,
    ) -> None:
        self._inner = inner
        self._allowed = frozenset(h.lower() for h in allowed_hosts)
        self._resolve = resolve

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host.lower()
        if host not in self._allowed:
            port = request.url.port or (443 if request.url.scheme == "https" else 80)
            for address in self._resolve(host, port):
                if not ipaddress.ip_address(address.split("%")[0]).is_global:
                    raise FatalConnectorError(
                        f"refused to fetch {request.url}: {host} is not a public address"
                        "; an operator may allow it with DATAHUB_CONNECTOR_ALLOWED_HOSTS"
                    )
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def build_http_client(
    user_agent: str,
    rate_limits: Mapping[str, float] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    transport: httpx.BaseTransport | None = None,
    *,
    allowed_hosts: frozenset[str] = frozenset(),
    sleep: Sleep = time.sleep,
    clock: Clock = time.time,
) -> httpx.Client:
    """The client for one connector run.

    ``rate_limits`` (host → requests per second) override :data:`DEFAULT_RATE_LIMITS`;
    ``transport`` lets tests pass an ``httpx.MockTransport``; without one, requests go to the
    network through :class:`PublicOnlyTransport` (``allowed_hosts`` exempted).
    """
    if not user_agent.strip():
        raise ValueError("a User-Agent naming datahub is required")
    rates = {**DEFAULT_RATE_LIMITS, **(rate_limits or {})}
    network = PublicOnlyTransport(httpx.HTTPTransport(), allowed_hosts)
    resilient = ResilientTransport(
        transport if transport is not None else network,
        limiter=HostRateLimiter(rates, sleep=sleep, clock=clock),
        max_attempts=max_attempts,
        sleep=sleep,
        clock=clock,
    )
    return httpx.Client(
        transport=resilient,
        headers={"User-Agent": user_agent},
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        follow_redirects=True,
    )
