"""The audit chain: tamper evidence, append-only on PostgreSQL, no fork under concurrency."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from datahub.audit import service as audit
from datahub.cli import app as cli
from datahub.runtime import Runtime
from tests.api.world import World, build_world
from tests.conftest import Persona, on_postgres
from tests.liveserver import LiveServer


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> World:
    return build_world(client, make_user, admin)


def audited_reads(world: World, n: int) -> str:
    dataset_id = world.create_dataset("shared")
    member = world.personas["member"]
    assert member is not None
    for _ in range(n):
        assert (
            world.client.get(
                f"/api/v1/datasets/{dataset_id}/data", headers=member.headers
            ).status_code
            == 200
        )
    return dataset_id


def verify(world: World) -> dict[str, object]:
    response = world.client.get("/api/v1/audit/verify", headers=world.headers("auditor"))
    assert response.status_code == 200, response.text
    return dict(response.json())


def _tamper(runtime: Runtime, statement: str) -> None:
    with runtime.engine.begin() as connection:
        if on_postgres():
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        connection.execute(text(statement))
        if on_postgres():
            connection.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))


def test_chain_is_valid_then_names_an_edited_event(world: World, runtime: Runtime) -> None:
    audited_reads(world, 3)
    verdict = verify(world)
    assert verdict["valid"] is True
    # create + upload + grant-less reads: dataset.create, dataset.upload, 3 × dataset.read_rows.
    assert verdict["events"] == 5
    _tamper(runtime, "UPDATE audit_event SET row_count = 999 WHERE seq = 4")
    verdict = verify(world)
    assert verdict == {
        "valid": False,
        "events": 4,
        "first_broken": 4,
        "reason": "event content does not match its hash",
    }


def test_deleting_an_event_names_the_gap(
    world: World, runtime: Runtime, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    audited_reads(world, 3)
    _tamper(runtime, "DELETE FROM audit_event WHERE seq = 3")
    verdict = verify(world)
    assert (verdict["valid"], verdict["first_broken"]) == (False, 3)
    monkeypatch.setenv("DATAHUB_DATABASE_URL", database_url)
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1
    assert "event 3" in result.output


def test_cli_verify_passes_on_an_intact_chain(
    world: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    audited_reads(world, 2)
    monkeypatch.setenv("DATAHUB_DATABASE_URL", database_url)
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "4 events" in result.output


@pytest.mark.skipif(not on_postgres(), reason="the append-only trigger is PostgreSQL's")
def test_postgres_refuses_update_and_delete(world: World, runtime: Runtime) -> None:
    audited_reads(world, 1)
    for statement in ("UPDATE audit_event SET outcome = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), runtime.engine.begin() as conn:
            conn.execute(text(statement))


def test_200_concurrent_audited_reads_leave_one_chain(
    world: World, live_server: LiveServer
) -> None:
    dataset_id = world.create_dataset("restricted")
    grantee = world.personas["grantee"]
    assert grantee is not None
    world.grant(dataset_id, "grantee")
    before = int(verify(world)["events"])  # type: ignore[call-overload]

    def read(i: int) -> int:
        with httpx.Client(base_url=live_server.url, timeout=60) as http:
            response = http.get(
                f"/api/v1/datasets/{dataset_id}/data",
                headers={**grantee.headers, "X-Purpose": f"lecture {i}"},
            )
            return response.status_code

    with ThreadPoolExecutor(max_workers=25) as pool:
        statuses = list(pool.map(read, range(200)))
    assert statuses == [200] * 200
    verdict = verify(world)
    assert verdict["valid"] is True
    assert verdict["events"] == before + 200
    events = world.client.get(
        f"/api/v1/audit/events?dataset={dataset_id}&action=dataset.read_rows&page_size=1000",
        headers=world.headers("auditor"),
    ).json()
    assert events["meta"]["total"] == 200
    assert {e["purpose"] for e in events["data"]} == {f"lecture {i}" for i in range(200)}
    assert {e["basis"] for e in events["data"]} == {"grant:1"}


@pytest.mark.skipif(not on_postgres(), reason="the append lock is PostgreSQL's advisory lock")
def test_a_transaction_still_open_does_not_hold_the_append_lock(
    world: World, runtime: Runtime
) -> None:
    # The chain is appended at commit: a request that recorded its event and is still building
    # its response must not make every other audited request wait (found by bench/load.py).
    before = int(verify(world)["events"])  # type: ignore[call-overload]
    with runtime.transaction() as slow:
        audit.record(slow, audit.EventIn(action="dataset.read_rows", detail={"n": "slow"}))
        with runtime.transaction() as fast:
            fast.execute(text("SET LOCAL lock_timeout = '2s'"))  # the old code waited here
            audit.record(fast, audit.EventIn(action="dataset.read_rows", detail={"n": "fast"}))
    verdict = verify(world)
    assert (verdict["valid"], verdict["events"]) == (True, before + 2)
    with runtime.engine.connect() as connection:
        last = connection.execute(text("SELECT detail FROM audit_event ORDER BY seq")).all()
    assert [row[0] for row in last[-2:]] == [{"n": "fast"}, {"n": "slow"}]  # in commit order
