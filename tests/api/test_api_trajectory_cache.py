"""Trajectories and charts are computed once per scope, parameters, view and data version;
``ETag`` / ``If-None-Match`` answer 304; every use of shared data is still audited."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from datahub.api.cache import MemoryCache, RedisCache
from datahub.app import create_app
from datahub.carbon import service
from datahub.runtime import Runtime
from tests.carbon.carbon_world import EPCI, LA_ROCHELLE, CarbonWorld, build_carbon_world, year
from tests.conftest import Persona

PATH = f"/api/v1/territories/{EPCI}/trajectory"
OPEN = "year;territory;sector;value;unit\n2019;commune:17300;waste;100;tCO2e\n"
SHARED = "year;territory;sector;value;unit\n2019;commune:17300;industry;40;tCO2e\n"


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The scopes the carbon service actually computed (a spy: the real function runs)."""
    calls: list[str] = []
    real = service._compute

    def spy(*args: Any, **kwargs: Any) -> service.Trajectory:
        calls.append(str(args[4]))
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "_compute", spy)
    return calls


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> CarbonWorld:
    return build_carbon_world(client, make_user, admin)


def _trajectory_uses(world: CarbonWorld) -> list[tuple[str, str | None, str]]:
    events = world.client.get(
        "/api/v1/audit/events",
        params={"action": "dataset.trajectory_use"},
        headers=world.admin.headers,
    ).json()["data"]
    return [(e["dataset_id"], e["user_email"], e["request_id"]) for e in events]


@pytest.mark.parametrize("fmt", ["json", "csv", "svg"])
def test_a_second_request_is_served_from_the_cache(
    world: CarbonWorld, computed: list[str], fmt: str
) -> None:
    world.dataset("emissions", OPEN)
    first = world.client.get(PATH, params={"format": fmt})
    second = world.client.get(PATH, params={"format": fmt})
    assert first.status_code == second.status_code == 200
    assert len(computed) == 1
    assert first.content == second.content
    assert first.headers["etag"] == second.headers["etag"]
    assert first.headers["content-type"] == second.headers["content-type"]
    assert first.headers["cache-control"] == "no-cache"
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    not_modified = world.client.get(
        PATH, params={"format": fmt}, headers={"If-None-Match": first.headers["etag"]}
    )
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == first.headers["etag"]
    other = world.client.get(PATH, params={"format": fmt, "by": "none"})
    assert other.headers["etag"] != first.headers["etag"]
    assert len(computed) == 2


def test_cached_uses_of_shared_data_are_audited_for_each_caller(world: CarbonWorld) -> None:
    shared_id, _ = world.dataset("emissions", SHARED, licence="shared-charter-1.0")
    member = world.people["member"]
    admin = world.people["admin"]
    assert member is not None
    assert admin is not None
    first = world.client.get(PATH, headers=member.headers)
    again = world.client.get(PATH, headers=member.headers)
    revalidated = world.client.get(
        PATH, headers={**member.headers, "If-None-Match": first.headers["etag"]}
    )
    assert (first.status_code, again.status_code, revalidated.status_code) == (200, 200, 304)
    uses = _trajectory_uses(world)
    # One event per request, each with its own request id, the cached ones included.
    assert [(d, u) for d, u, _ in uses] == [(shared_id, member.email)] * 3
    assert len({r for _, _, r in uses}) == 3
    assert {r for _, _, r in uses} == {
        first.headers["x-request-id"],
        again.headers["x-request-id"],
        revalidated.headers["x-request-id"],
    }


def test_callers_with_other_views_get_other_entries(
    world: CarbonWorld, computed: list[str]
) -> None:
    world.dataset("emissions", OPEN)
    world.dataset("emissions", SHARED, licence="shared-charter-1.0")
    anonymous = world.client.get(PATH)
    member = world.client.get(PATH, headers=world.headers("member"))
    # A charter member: open 100 + shared 40 in full. The anonymous caller gets the shared
    # figure only in aggregate, one pseudo-actor failing secrecy: the 2019 total is withheld.
    assert year(member.json(), 2019)["emissions"] == 140
    assert year(anonymous.json(), 2019)["emissions"] is None
    assert year(anonymous.json(), 2019)["breakdown"] == {"waste": 100}
    assert anonymous.headers["etag"] != member.headers["etag"]
    # The outsider sees what the anonymous caller sees: the same entry, not computed again.
    outsider = world.client.get(PATH, headers=world.headers("outsider"))
    assert outsider.content == anonymous.content
    assert len(computed) == 2
    stale = world.client.get(
        PATH, headers={**world.headers("member"), "If-None-Match": anonymous.headers["etag"]}
    )
    assert stale.status_code == 200


def test_new_data_makes_new_entries(world: CarbonWorld) -> None:
    dataset_id, _ = world.dataset("emissions", OPEN)
    before = world.client.get(PATH)
    world.upload(dataset_id, OPEN.replace(";100;", ";250;"))
    after_upload = world.client.get(PATH)
    assert year(after_upload.json(), 2019)["emissions"] == 250
    assert after_upload.headers["etag"] != before.headers["etag"]
    # A target lives outside the datasets: the carbon generation covers it.
    target = world.client.put(
        f"/api/v1/territories/{EPCI}/target",
        json={"reference_year": 2019, "target_year": 2050, "target_net": 0, "pathway": "linear"},
        headers=world.admin.headers,
    )
    assert target.status_code == 200, target.text
    with_target = world.client.get(PATH)
    assert with_target.json()["target"]["target_year"] == 2050
    assert with_target.headers["etag"] != after_upload.headers["etag"]
    # So does the hierarchy: a fourth commune's own figures now count in the EPCI.
    created = world.client.post(
        "/api/v1/territories",
        json={"code": "commune:17999", "name": "Nouvelle", "level": "commune", "parent": EPCI},
        headers=world.admin.headers,
    )
    assert created.status_code == 201
    assert world.client.get(PATH).headers["etag"] != with_target.headers["etag"]


def test_sector_and_actor_trajectories_are_cached_too(
    world: CarbonWorld, computed: list[str]
) -> None:
    world.actor("actor-A", LA_ROCHELLE)
    world.dataset(
        "emissions",
        "year;territory;sector;actor;value;unit\n2019;commune:17300;industry;actor-A;7;tCO2e\n",
    )
    for path, params in (
        ("/api/v1/sectors/industry/trajectory", {"territory": EPCI, "basis": "actors"}),
        ("/api/v1/actors/actor-A/trajectory", {}),
    ):
        first = world.client.get(path, params=params).json()
        computed_once = len(computed)
        # (An actor's trajectory also computes its territory's, for its share of the target.)
        assert world.client.get(path, params=params).json() == first
        assert len(computed) == computed_once  # the second came from the cache
        assert year(first, 2019)["emissions"] == 7


def test_concurrent_misses_compute_once(world: CarbonWorld, computed: list[str]) -> None:
    world.dataset("emissions", OPEN)
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda _: world.client.get(PATH, params={"format": "svg"}), range(8))
        )
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert len(computed) == 1
    assert sorted(a.headers["x-cache"] for a in answers) == ["hit"] * 7 + ["miss"]


def test_memory_cache_evicts_least_recently_used() -> None:
    cache = MemoryCache(max_bytes=10)
    cache.set("a", b"12345")
    cache.set("b", b"12345")
    assert cache.get("a") == b"12345"  # a is now the most recent
    cache.set("c", b"12345")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"12345", None, b"12345")
    cache.set("huge", b"x" * 11)
    assert cache.get("huge") is None


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.2).close()
    except OSError:
        return False
    return True


@pytest.fixture
def redis_client(runtime: Runtime) -> Iterator[TestClient]:
    if not _redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings = runtime.settings.model_copy(update={"cache_url": "redis://127.0.0.1:6379/15"})
    app = create_app(settings=settings, runtime=runtime)
    cache = app.state.result_cache
    assert isinstance(cache, RedisCache)
    cache.prefix = f"datahub-test:{uuid.uuid4().hex}:"
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_redis_shares_entries_between_processes(
    redis_client: TestClient,
    runtime: Runtime,
    make_user: Callable[..., Persona],
    admin: Persona,
    computed: list[str],
) -> None:
    world = build_carbon_world(redis_client, make_user, admin)
    world.dataset("emissions", OPEN)
    first = redis_client.get(PATH)
    # A second app (another worker or host) with the same Redis: served without computing.
    settings = runtime.settings.model_copy(update={"cache_url": "redis://127.0.0.1:6379/15"})
    other = create_app(settings=settings, runtime=runtime)
    other.state.result_cache.prefix = redis_client.app.state.result_cache.prefix  # type: ignore[attr-defined]
    with TestClient(other) as second_worker:
        second = second_worker.get(PATH)
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    assert len(computed) == 1
