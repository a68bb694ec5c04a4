"""The run's HTTP client: retries honouring Retry-After, clear errors, per-host rate limits."""

from __future__ import annotations

import types
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import limits.storage.memory
import pytest

from datahub.ingest.contract import RetriableConnectorError
from datahub.ingest.http import (
    DEFAULT_RATE_LIMITS,
    HostRateLimiter,
    build_http_client,
    retry_after_seconds,
)

UA = "datahub-tests/0.1"


def _client(handler: object, sleeps: list[float], **kwargs: object) -> httpx.Client:
    return build_http_client(
        UA,
        transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
        sleep=sleeps.append,
        **kwargs,  # type: ignore[arg-type]
    )


def test_429_then_200_waits_retry_after_and_sends_user_agent() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            # IGN answers 429 with retry-after when above 30 req/s (research note §1.1).
            return httpx.Response(429, headers={"retry-after": "5"}, text="rate limited")
        return httpx.Response(200, json={"ok": True})

    sleeps: list[float] = []
    with _client(handler, sleeps) as client:
        response = client.get("https://data.geopf.fr/wfs/ows", params={"service": "WFS"})
    assert response.json() == {"ok": True}
    assert len(calls) == 2
    assert sleeps == [5.0]  # exactly the Retry-After, not the exponential backoff
    assert {c.headers["user-agent"] for c in calls} == {UA}


def test_persistent_500_raises_retriable_error_after_max_attempts() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500, text="Internal Server Error")

    sleeps: list[float] = []
    with (
        _client(handler, sleeps, max_attempts=3) as client,
        pytest.raises(RetriableConnectorError, match=r"HTTP 500 after 3 attempts") as caught,
    ):
        client.get("https://geo.api.gouv.fr/epcis/241700434")
    assert len(calls) == 3
    # Two waits between three attempts, growing (exponential backoff, 1 s then 2 s plus jitter).
    assert len(sleeps) == 2
    assert 1.0 <= sleeps[0] <= 1.5
    assert 2.0 <= sleeps[1] <= 2.5
    assert "Internal Server Error" in caught.value.detail
    assert caught.value.retriable


def test_transport_error_is_retried_then_succeeds() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ConnectError("connection reset", request=request)
        return httpx.Response(200, text="ok")

    sleeps: list[float] = []
    with _client(handler, sleeps) as client:
        assert client.get("https://www.data.gouv.fr/api/1/datasets/x/").text == "ok"
    assert calls == 2
    assert len(sleeps) == 1


def test_transport_error_that_persists_raises_retriable_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with (
        _client(handler, [], max_attempts=2) as client,
        pytest.raises(RetriableConnectorError, match="failed after 2 attempts"),
    ):
        client.get("https://recherche-entreprises.api.gouv.fr/search?q=130025265")


def test_404_is_not_retried() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(404, text="Not Found")

    with _client(handler, []) as client:
        assert client.get("https://geo.api.gouv.fr/communes/99999").status_code == 404
    assert calls == 1


def test_post_form_body_is_sent_again_on_retry() -> None:
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(503 if len(bodies) == 1 else 200, json={})

    with _client(handler, []) as client:
        client.post("https://data.geopf.fr/wfs/ows", data={"cql_filter": "code_insee='17300'"})
    assert bodies == [b"cql_filter=code_insee%3D%2717300%27"] * 2


def test_retry_after_as_http_date() -> None:
    now = datetime(2025, 6, 25, 16, 12, 3, tzinfo=UTC)
    later = datetime(2025, 6, 25, 16, 12, 10, tzinfo=UTC)
    response = httpx.Response(429, headers={"Retry-After": format_datetime(later, usegmt=True)})
    assert retry_after_seconds(response, now.timestamp()) == 7.0
    assert retry_after_seconds(httpx.Response(429), now.timestamp()) is None


def test_default_rate_limits_are_the_documented_ones() -> None:
    assert DEFAULT_RATE_LIMITS["data.geopf.fr"] == 30
    assert DEFAULT_RATE_LIMITS["recherche-entreprises.api.gouv.fr"] == 7


class FakeClock:
    """Time that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_rate_limiter_spaces_requests_per_host(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    # The `limits` memory storage reads time.time(); give it the same fake clock.
    monkeypatch.setattr(limits.storage.memory, "time", types.SimpleNamespace(time=clock.time))
    limiter = HostRateLimiter(
        {"recherche-entreprises.api.gouv.fr": 7, "data.geopf.fr": 30},
        sleep=clock.sleep,
        clock=clock.time,
    )
    start = clock.now
    times = []
    for _ in range(15):
        limiter.acquire("recherche-entreprises.api.gouv.fr")
        times.append(clock.now - start)
    # 7 per moving second: requests 1-7 go at once, 8-14 one second later, 15 two seconds later.
    assert times[:7] == [0.0] * 7
    assert all(1.0 <= t < 1.01 for t in times[7:14])
    assert 2.0 <= times[14] < 2.02
    # Another host has its own window, and an unlisted host is not limited.
    before = clock.now
    for _ in range(30):
        limiter.acquire("data.geopf.fr")
    limiter.acquire("example.org")
    assert clock.now == before


def test_client_applies_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(limits.storage.memory, "time", types.SimpleNamespace(time=clock.time))
    sent_at: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent_at.append(clock.now)
        return httpx.Response(200)

    with build_http_client(
        UA,
        rate_limits={"geo.api.gouv.fr": 2},
        transport=httpx.MockTransport(handler),
        sleep=clock.sleep,
        clock=clock.time,
    ) as client:
        for _ in range(5):
            client.get("https://geo.api.gouv.fr/regions/75")
    # 2 per second: t = 0, 0, 1, 1, 2 (plus the 1 ms past each window edge).
    assert [round(t - sent_at[0]) for t in sent_at] == [0, 0, 1, 1, 2]
