"""Who reads the audit log, and the licence-usage report on a scripted scenario."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.api.world import World, build_world
from tests.conftest import Persona


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> World:
    return build_world(client, make_user, admin)


def test_only_auditors_and_admins_read_the_audit(world: World) -> None:
    world.create_dataset("restricted")
    for path in (
        "/api/v1/audit/events",
        "/api/v1/audit/verify",
        "/api/v1/audit/reports/licence-usage",
    ):
        for who, status in (
            ("anonymous", 401),
            ("member", 403),
            ("producer", 403),
            ("non_member", 403),
            ("auditor", 200),
            ("admin", 200),
        ):
            response = world.client.get(path, headers=world.headers(who))
            assert response.status_code == status, (path, who, response.text)


def test_auditor_reads_no_restricted_rows_without_a_grant(world: World) -> None:
    dataset_id = world.create_dataset("restricted")
    assert (
        world.client.get(
            f"/api/v1/datasets/{dataset_id}/data", headers=world.headers("auditor")
        ).status_code
        == 403
    )
    world.grant(dataset_id, "auditor")
    assert (
        world.client.get(
            f"/api/v1/datasets/{dataset_id}/data", headers=world.headers("auditor")
        ).status_code
        == 200
    )


def test_licence_usage_report_matches_the_scenario(world: World) -> None:
    client = world.client
    open_id = world.create_dataset("open")
    shared_id = world.create_dataset("shared")
    restricted_id = world.create_dataset("restricted")
    grant_id = world.grant(restricted_id, "grantee")
    expired = client.post(
        f"/api/v1/datasets/{restricted_id}/grants",
        json={"organization": "commune-aytre", "expires_at": "2020-01-01T00:00:00Z"},
        headers=world.headers("producer"),
    )
    assert expired.status_code == 201, expired.text

    def read(who: str, dataset_id: str, times: int, status: int) -> None:
        for _ in range(times):
            response = client.get(f"/api/v1/datasets/{dataset_id}/data", headers=world.headers(who))
            assert response.status_code == status, (who, dataset_id, response.text)

    read("anonymous", open_id, 4, 200)  # counted, not logged one by one
    read("member", shared_id, 2, 200)  # basis member, 2 rows each
    read("grantee", restricted_id, 3, 200)  # basis grant
    read("producer_analyst", restricted_id, 1, 200)  # basis producer
    read("member", restricted_id, 2, 403)  # the expired grant gives nothing
    read("anonymous", shared_id, 1, 401)
    read("anonymous", restricted_id, 1, 404)

    report = client.get(
        "/api/v1/audit/reports/licence-usage", headers=world.headers("auditor")
    ).json()["data"]
    by_dataset = {line["dataset"]: line for line in report}

    assert by_dataset[open_id]["open_reads_counted"] == 4
    assert by_dataset[open_id]["reads"] == 0

    shared = by_dataset[shared_id]
    assert shared["licence"] == "shared-charter-1.0"
    assert (shared["reads"], shared["rows_served"]) == (2, 4)  # 2 reads × 2 rows
    assert shared["reads_by_organization"] == {"commune-aytre": 2}
    assert shared["reads_by_basis"] == {"member": 2}
    assert (shared["denied"], shared["denied_by_organization"]) == (1, {"anonymous": 1})

    restricted = by_dataset[restricted_id]
    assert (restricted["reads"], restricted["rows_served"]) == (4, 8)  # 3 + 1 reads × 2 rows
    assert restricted["reads_by_organization"] == {"labo-universite": 3, "port-atlantique": 1}
    assert restricted["reads_by_basis"] == {f"grant:{grant_id}": 3, "producer": 1}
    assert restricted["denied"] == 3
    assert restricted["denied_by_organization"] == {"commune-aytre": 2, "anonymous": 1}
    assert restricted["grants"] == {"active": 1, "expired": 1, "revoked": 0}

    denied = client.get(
        f"/api/v1/audit/events?outcome=denied&dataset={restricted_id}",
        headers=world.headers("auditor"),
    ).json()
    assert denied["meta"]["total"] == 3
    assert {e["detail"]["status"] for e in denied["data"]} == {403, 404}

    exported = client.get("/api/v1/audit/events?format=csv", headers=world.headers("admin"))
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert (
        len(rows)
        == client.get("/api/v1/audit/verify", headers=world.headers("admin")).json()["events"]
    )
    assert [int(r["seq"]) for r in rows] == list(range(1, len(rows) + 1))
