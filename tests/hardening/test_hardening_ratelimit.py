"""Rate limits: per token, per client IP when anonymous; 429 problem+json with Retry-After."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from datahub.app import create_app
from datahub.runtime import Runtime
from tests.conftest import Persona
from tests.hardening.conftest import assert_clean_problem

LICENCES = "/api/v1/licenses"


@contextmanager
def limited_client(
    runtime: Runtime, client_ip: str = "testclient", **limits: Any
) -> Iterator[TestClient]:
    settings = runtime.settings.model_copy(update=limits)
    app = create_app(settings=settings, runtime=runtime)
    with TestClient(app, raise_server_exceptions=False, client=(client_ip, 50000)) as client:
        yield client


def _assert_429(response: Any, limit: int, elapsed: float = 0) -> int:
    """``elapsed``: seconds since the first counted request of the window."""
    assert_clean_problem(response, 429)
    retry = int(response.headers["retry-after"])
    # The window is a minute: the first counted request leaves it 60 s after it was made.
    assert 60 - elapsed - 2 <= retry <= 60, (retry, elapsed)
    assert f"more than {limit} requests in a minute" in response.json()["detail"]
    # Refusals still carry the headers every response carries.
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-request-id"]
    return retry


def test_anonymous_callers_are_limited_per_ip(runtime: Runtime) -> None:
    with limited_client(runtime, rate_limit_per_minute_anonymous=3) as client:
        assert [client.get(LICENCES).status_code for _ in range(3)] == [200, 200, 200]
        _assert_429(client.get(LICENCES), 3)
        # Refused requests are not counted, but they do not reopen the window either.
        _assert_429(client.get("/api/v1/datasets"), 3)
        # Liveness probes are never throttled.
        assert [client.get("/api/v1/health").status_code for _ in range(10)] == [200] * 10


def test_another_ip_is_not_affected(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"rate_limit_per_minute_anonymous": 2})
    app = create_app(settings=settings, runtime=runtime)
    with (
        TestClient(app, raise_server_exceptions=False, client=("192.0.2.1", 1)) as first,
        TestClient(app, raise_server_exceptions=False, client=("192.0.2.2", 1)) as second,
        TestClient(app, raise_server_exceptions=False, client=("2001:db8:1:2::1", 1)) as v6a,
        TestClient(app, raise_server_exceptions=False, client=("2001:db8:1:2::ff", 1)) as v6b,
    ):
        assert [first.get(LICENCES).status_code for _ in range(2)] == [200, 200]
        _assert_429(first.get(LICENCES), 2)
        assert second.get(LICENCES).status_code == 200
        # Two addresses in the same IPv6 /64 share one budget.
        assert v6a.get(LICENCES).status_code == 200
        assert v6b.get(LICENCES).status_code == 200
        _assert_429(v6a.get(LICENCES), 2)


def test_tokens_are_limited_each_on_their_own(
    runtime: Runtime, make_user: Callable[..., Persona]
) -> None:
    alice = make_user("analyst", "commune-aytre", member=True)
    bob = make_user("analyst", "commune-aytre", member=True)
    with limited_client(
        runtime, rate_limit_per_minute_token=2, rate_limit_per_minute_anonymous=5
    ) as client:
        statuses = [client.get(LICENCES, headers=alice.headers).status_code for _ in range(2)]
        assert statuses == [200, 200]
        _assert_429(client.get(LICENCES, headers=alice.headers), 2)
        # Same IP, another token: its own budget; anonymous requests from the IP: theirs.
        assert client.get(LICENCES, headers=bob.headers).status_code == 200
        assert client.get(LICENCES).status_code == 200


def test_guessing_tokens_spends_the_ip_budget(
    runtime: Runtime, make_user: Callable[..., Persona]
) -> None:
    """Each wrong token would otherwise get a fresh budget of its own."""
    alice = make_user("analyst", "commune-aytre", member=True)
    with limited_client(runtime, rate_limit_per_minute_anonymous=3) as client:
        for _ in range(3):
            guess = {"Authorization": f"Bearer dh_{uuid.uuid4().hex}"}
            assert client.get(LICENCES, headers=guess).status_code == 401
        guess = {"Authorization": f"Bearer dh_{uuid.uuid4().hex}"}
        _assert_429(client.get(LICENCES, headers=guess), 3)
        # The address is now refused even with a good token, until the window moves on.
        _assert_429(client.get(LICENCES, headers=alice.headers), 3)
    with limited_client(
        runtime, client_ip="198.51.100.4", rate_limit_per_minute_anonymous=3
    ) as elsewhere:
        assert elsewhere.get(LICENCES, headers=alice.headers).status_code == 200


def test_limits_can_be_switched_off(runtime: Runtime) -> None:
    with limited_client(
        runtime, rate_limit_enabled=False, rate_limit_per_minute_anonymous=1
    ) as client:
        assert {client.get(LICENCES).status_code for _ in range(20)} == {200}


def test_default_limits_leave_room_for_a_busy_client(runtime: Runtime) -> None:
    """600 anonymous requests a minute from one address by default; the 601st is refused."""
    with limited_client(runtime) as client:
        assert runtime.settings.rate_limit_per_minute_anonymous == 600
        assert runtime.settings.rate_limit_per_minute_token == 1200
        started = time.monotonic()
        statuses = [client.get(LICENCES).status_code for _ in range(600)]
        assert set(statuses) == {200}
        _assert_429(client.get(LICENCES), 600, elapsed=time.monotonic() - started)


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis server on 127.0.0.1:6379")
def test_redis_storage_shares_counters_between_workers(runtime: Runtime) -> None:
    """Two app instances (two workers) behind one Redis count together."""
    pytest.importorskip("redis")
    address = f"2001:db8:{uuid.uuid4().int % 0xFFFF:x}::1"  # a fresh /64: no leftover counts
    limits = {
        "rate_limit_per_minute_anonymous": 3,
        "rate_limit_storage": "redis://127.0.0.1:6379/0",
    }
    with (
        limited_client(runtime, client_ip=address, **limits) as worker_1,
        limited_client(runtime, client_ip=address, **limits) as worker_2,
    ):
        assert worker_1.get(LICENCES).status_code == 200
        assert worker_2.get(LICENCES).status_code == 200
        assert worker_1.get(LICENCES).status_code == 200
        _assert_429(worker_2.get(LICENCES), 3)


def test_an_unreachable_counter_store_lets_requests_through(runtime: Runtime) -> None:
    pytest.importorskip("redis")
    with limited_client(
        runtime,
        rate_limit_per_minute_anonymous=1,
        rate_limit_storage="redis://127.0.0.1:1/0?socket_connect_timeout=0.5",
    ) as client:
        assert [client.get(LICENCES).status_code for _ in range(3)] == [200, 200, 200]
